package dev.compress.training.distill;

import dev.compress.api.pass.InvalidConfigException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One weighted term of the distillation loss ({@code losses[i]} of the {@code distill} pass).
 *
 * @param kind what is compared
 * @param weight the term's factor in the sum (> 0, default 1)
 * @param output the graph output compared by {@code soft-targets} (logits) and the embedding kinds
 *     (the last hidden state {@code [batch, tokens, dim]}); default: the first graph output
 * @param temperature {@code soft-targets}: the softmax temperature {@code T > 0} (default 2)
 * @param hardLabelWeight {@code soft-targets}: {@code lambda}, the cross-entropy weight on the
 *     {@code labels} input in {@code [0, 1]} (default 0: no labels needed)
 * @param layerMap {@code hidden-*}: for student block {@code i}, the teacher block {@code
 *     layerMap[i]} it learns from; default: the teacher block of the same name (what {@code
 *     layer-drop} kept), every student block
 */
public record LossTerm(
    Kind kind,
    Optional<Double> weight,
    Optional<String> output,
    Optional<Double> temperature,
    Optional<Double> hardLabelWeight,
    Optional<List<Integer>> layerMap) {

  /** What a term compares. */
  public enum Kind {
    /** Hinton's KL on softened logits (+ cross-entropy on labels). */
    SOFT_TARGETS,
    /** MSE of paired blocks' hidden states over real tokens. */
    HIDDEN_MSE,
    /** {@code 1 - cos} of paired blocks' hidden states per real token. */
    HIDDEN_COSINE,
    /** MSE of the mean-pooled sentence embeddings (sentence-transformers' layer reduction). */
    EMBEDDING_MSE,
    /** {@code 1 - cos} of the mean-pooled sentence embeddings. */
    EMBEDDING_COSINE
  }

  /** Validates the fields; keys are relative to the term ({@code weight}, {@code temperature}). */
  public LossTerm {
    weight = weight == null ? Optional.empty() : weight;
    output = output == null ? Optional.empty() : output;
    temperature = temperature == null ? Optional.empty() : temperature;
    hardLabelWeight = hardLabelWeight == null ? Optional.empty() : hardLabelWeight;
    layerMap = layerMap == null ? Optional.empty() : layerMap.map(List::copyOf);
    List<String> p = new ArrayList<>();
    if (kind == null) {
      p.add("kind is required");
    }
    if (weight.isPresent() && (!(weight.get() > 0) || weight.get().isInfinite())) {
      p.add("weight must be > 0, found " + weight.get());
    }
    if (temperature.isPresent() && !(temperature.get() > 0)) {
      p.add("temperature must be > 0, found " + temperature.get());
    }
    if (hardLabelWeight.isPresent()
        && !(hardLabelWeight.get() >= 0 && hardLabelWeight.get() <= 1)) {
      p.add("hardLabelWeight must be in [0, 1], found " + hardLabelWeight.get());
    }
    if (kind != null && kind != Kind.SOFT_TARGETS) {
      temperature.ifPresent(t -> p.add("temperature applies to soft-targets only, found " + t));
      hardLabelWeight.ifPresent(
          t -> p.add("hardLabelWeight applies to soft-targets only, found " + t));
    }
    if (kind != null && kind != Kind.HIDDEN_MSE && kind != Kind.HIDDEN_COSINE) {
      layerMap.ifPresent(
          m -> p.add("layerMap applies to hidden-mse/hidden-cosine only, found " + m));
    }
    if (layerMap.isPresent()) {
      List<Integer> m = layerMap.get();
      if (m.isEmpty()) {
        p.add("layerMap must pair at least one block, found []");
      }
      for (int i = 0; i < m.size(); i++) {
        if (m.get(i) < 0) {
          p.add("layerMap[" + i + "] must be >= 0, found " + m.get(i));
        }
      }
    }
    InvalidConfigException.throwIfAny(p);
  }

  /** A term of {@code kind} with weight 1 and every default. */
  public static LossTerm of(Kind kind) {
    return new LossTerm(
        kind,
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty());
  }

  /** The weight (default 1). */
  public double weightOrDefault() {
    return weight.orElse(1.0);
  }

  /** The temperature (default 2). */
  public double temperatureOrDefault() {
    return temperature.orElse(2.0);
  }

  /** The hard-label weight (default 0). */
  public double hardLabelWeightOrDefault() {
    return hardLabelWeight.orElse(0.0);
  }

  /** The kind as pipelines write it, e.g. {@code embedding-mse}. */
  public String kindName() {
    return kind.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
  }
}
