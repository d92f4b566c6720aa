package dev.compress.evaluation.task;

import dev.compress.api.ConfigException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The accuracy and fidelity tasks. Each names its headline metric, used for the accuracy axis of
 * the report's scatter plots.
 */
public enum TaskKind {
  /**
   * Sentence encoders: mean/min cosine of mean-pooled embeddings against the baseline on held-out
   * sentences, and nearest-neighbour agreement (does each sentence's nearest other sentence stay
   * the same?).
   */
  EMBEDDING_FIDELITY("embedding-fidelity", "cosine.mean", true, true),
  /**
   * Sentence encoders: 10-NN leave-one-out sentiment of the opinion lexicon's words (accuracy per
   * model), plus agreement of the predictions with the baseline's.
   */
  OPINION_SENTIMENT("opinion-sentiment", "sentiment.accuracy", true, true),
  /** Classifiers on labelled data (IDX/JSON/CSV): top-1 accuracy, logit KL and top-1 agreement. */
  CLASSIFICATION("classification", "top1.accuracy", true, true),
  /**
   * Any model with class logits, labels optional: KL(baseline || model) of the softmax and top-1
   * agreement with the baseline.
   */
  LOGITS("logits", "top1.agreement", true, true),
  /** Language models ({@code input_ids -> logits}): perplexity of next-token prediction. */
  PERPLEXITY("perplexity", "perplexity", false, false);

  private final String id;
  private final String primaryMetric;
  private final boolean higherIsBetter;
  private final boolean unitInterval;

  TaskKind(String id, String primaryMetric, boolean higherIsBetter, boolean unitInterval) {
    this.id = id;
    this.primaryMetric = primaryMetric;
    this.higherIsBetter = higherIsBetter;
    this.unitInterval = unitInterval;
  }

  /**
   * Whether the headline metric lies in {@code [0, 1]} (cosine of near-identical embeddings,
   * accuracy, agreement), so the report's accuracy axes stay inside it.
   */
  public boolean unitInterval() {
    return unitInterval;
  }

  /** The name in configs and on the command line. */
  public String id() {
    return id;
  }

  /** The headline metric of the task. */
  public String primaryMetric() {
    return primaryMetric;
  }

  /** Whether a larger headline metric is better. */
  public boolean higherIsBetter() {
    return higherIsBetter;
  }

  /** Every task name. */
  public static List<String> ids() {
    return Arrays.stream(values()).map(TaskKind::id).toList();
  }

  /**
   * The task named {@code name}.
   *
   * @throws ConfigException naming {@code key} and the known tasks
   */
  public static TaskKind parse(String name, String key) throws ConfigException {
    String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
    for (TaskKind k : values()) {
      if (k.id.equals(n)) {
        return k;
      }
    }
    throw new ConfigException(key + " must be one of " + ids() + ", found '" + name + "'");
  }
}
