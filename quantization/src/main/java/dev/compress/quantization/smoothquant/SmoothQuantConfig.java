package dev.compress.quantization.smoothquant;

import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.Param;
import dev.compress.api.pass.PassConfig;
import dev.compress.api.pass.SelectionBuilder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Configuration of {@link SmoothQuantPass} ({@code smoothquant}), validated at construction.
 *
 * @param selection the linear layers whose inputs may be smoothed (null means all); a norm is
 *     smoothed when any layer it feeds is selected, and then every linear layer it feeds is scaled
 * @param alpha migration strength in [0, 1]: {@code s_j = max|X_j|^alpha / max|W_j|^(1-alpha)}
 *     (0.8-0.85 suits Llama-like models)
 * @param mappings manual override: norm node name to the names of the linear layers it feeds; when
 *     not empty, only these mappings are used (automatic discovery is off)
 * @param compensate when a norm's output also feeds something other than the mapped linear layers
 *     (in post-LN models such as BERT: the residual Add), insert {@code Mul(., s)} on that path so
 *     the function stays exact; when false such a norm is skipped (reported)
 */
public record SmoothQuantConfig(
    LayerSelection selection,
    @Param("migration strength in [0, 1]") double alpha,
    @Param(
            "manual norm -> layers override: {NORM_NODE: [LAYER, ...]}; empty finds every"
                + " normalization feeding linear layers")
        Map<String, List<String>> mappings,
    @Param(
            "when a norm output also feeds other nodes (a post-LN residual), restore it there with"
                + " Mul(., s); false skips such norms")
        boolean compensate)
    implements PassConfig {

  /** Validates every field and reports all problems at once. */
  public SmoothQuantConfig {
    selection = selection == null ? LayerSelection.ALL : selection;
    List<String> problems = new ArrayList<>();
    if (!(alpha >= 0 && alpha <= 1)) {
      problems.add("alpha must be in [0, 1], found " + alpha);
    }
    Map<String, List<String>> m = new LinkedHashMap<>();
    if (mappings != null) {
      for (Map.Entry<String, List<String>> e : mappings.entrySet()) {
        if (e.getKey() == null || e.getKey().isBlank()) {
          problems.add("mappings: a norm node name is blank");
        } else if (e.getValue() == null || e.getValue().isEmpty()) {
          problems.add("mappings." + e.getKey() + " must list at least one linear layer");
        } else {
          m.put(e.getKey(), List.copyOf(e.getValue()));
        }
      }
    }
    mappings = java.util.Collections.unmodifiableMap(m);
    InvalidConfigException.throwIfAny(problems);
  }

  /** Every default: the values a pipeline gets for the keys it leaves out. */
  public static SmoothQuantConfig defaults() {
    return new SmoothQuantConfig(LayerSelection.ALL, 0.5, Map.of(), true);
  }

  /** A builder starting from {@link #defaults()}, validated at {@link Builder#build()}. */
  public static Builder builder() {
    return new Builder(defaults());
  }

  /** A builder starting from this config. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /**
   * Builds a {@link SmoothQuantConfig}: one setter per key, every value checked at {@link
   * #build()}.
   */
  public static final class Builder extends SelectionBuilder<SmoothQuantConfig, Builder> {
    private Builder(SmoothQuantConfig start) {
      super(start);
    }

    /** Sets {@link SmoothQuantConfig#alpha() alpha}. */
    public Builder alpha(double v) {
      return set("alpha", v);
    }

    /** Sets {@link SmoothQuantConfig#mappings() mappings}. */
    public Builder mappings(Map<String, List<String>> v) {
      return set("mappings", v);
    }

    /** Sets {@link SmoothQuantConfig#compensate() compensate}. */
    public Builder compensate(boolean v) {
      return set("compensate", v);
    }
  }
}
