package dev.compress.quantization.smoothquant;

import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.PassConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Configuration of {@link SmoothQuantPass} ({@code smoothquant}), validated at construction.
 *
 * @param selection the linear layers whose inputs may be smoothed (null means all); a norm is
 *     smoothed when any layer it feeds is selected, and then every linear layer it feeds is scaled
 * @param alpha migration strength in [0, 1]: {@code s_j = max|X_j|^alpha / max|W_j|^(1-alpha)} (0.5
 *     by default; 0.8-0.85 for Llama-like models)
 * @param mappings manual override: norm node name to the names of the linear layers it feeds; when
 *     not empty, only these mappings are used (automatic discovery is off)
 * @param compensate when a norm's output also feeds something other than the mapped linear layers
 *     (in post-LN models such as BERT: the residual Add), insert {@code Mul(., s)} on that path so
 *     the function stays exact; when false such a norm is skipped (reported)
 */
public record SmoothQuantConfig(
    LayerSelection selection, double alpha, Map<String, List<String>> mappings, boolean compensate)
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
}
