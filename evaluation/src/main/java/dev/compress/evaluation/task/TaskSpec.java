package dev.compress.evaluation.task;

import java.util.Objects;

/**
 * What a task runs on.
 *
 * @param kind the task
 * @param data the data source: {@code builtin:NAME} or a file (see each task)
 * @param samples the most samples to use (> 0); fewer when the source holds fewer, except where a
 *     task says otherwise
 * @param labels classification labels file when they are not in {@code data}; empty for none
 * @param batchSize samples per forward call (> 0)
 * @param pooling how the embedding tasks pool hidden states (see {@link Pooling#parse} for which
 *     task takes which); {@link Pooling#MEAN} for the other tasks
 */
public record TaskSpec(
    TaskKind kind, String data, int samples, String labels, int batchSize, Pooling pooling) {
  /** A task with mean pooling. */
  public TaskSpec(TaskKind kind, String data, int samples, String labels, int batchSize) {
    this(kind, data, samples, labels, batchSize, Pooling.MEAN);
  }

  /** Validates the arguments. */
  public TaskSpec {
    Objects.requireNonNull(kind, "kind");
    pooling = pooling == null ? Pooling.MEAN : pooling;
    if (pooling != Pooling.MEAN) {
      try {
        Pooling.parse(pooling.id(), "pooling", kind);
      } catch (dev.compress.api.ConfigException e) {
        throw new IllegalArgumentException(e.getMessage(), e);
      }
    }
    labels = labels == null ? "" : labels;
    if (data == null || data.isBlank()) {
      throw new IllegalArgumentException("data is required");
    }
    if (samples <= 0 || batchSize <= 0) {
      throw new IllegalArgumentException(
          "samples and batchSize must be > 0, found " + samples + ", " + batchSize);
    }
  }

  /**
   * The default sample count of a task: all 300 built-in held-out sentences, all 2,000 lexicon
   * words, the first 1,000 labelled samples.
   */
  public static int defaultSamples(TaskKind kind) {
    return switch (kind) {
      case EMBEDDING_FIDELITY, PERPLEXITY -> 300;
      case OPINION_SENTIMENT -> 2000;
      case CLASSIFICATION, LOGITS -> 1000;
    };
  }

  /** The default data of a task: built-in sets for the text tasks, none otherwise. */
  public static String defaultData(TaskKind kind) {
    return switch (kind) {
      case EMBEDDING_FIDELITY -> "builtin:heldout-sentences";
      case OPINION_SENTIMENT -> "builtin:opinion-lexicon";
      case PERPLEXITY -> "builtin:heldout-sentences";
      case CLASSIFICATION, LOGITS -> "";
    };
  }
}
