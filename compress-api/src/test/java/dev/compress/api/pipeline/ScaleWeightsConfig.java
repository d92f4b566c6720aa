package dev.compress.api.pipeline;

import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.PassConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * Config of the test-only {@code scale-weights} pass: multiplies selected weights by {@code
 * factor}, adds seeded noise, can crash midway and can declare layers incompatible.
 *
 * @param selection targets/ignore
 * @param factor multiplier (> 0)
 * @param noise standard deviation of seeded Gaussian noise added to each weight (>= 0)
 * @param failAfter throw after this many layers (-1: never)
 * @param maxOutFeatures layers with more output features are incompatible (> 0)
 * @param mode whether to negate too
 * @param tags free strings (exercise List&lt;String&gt; binding)
 */
public record ScaleWeightsConfig(
    LayerSelection selection,
    double factor,
    double noise,
    int failAfter,
    int maxOutFeatures,
    Mode mode,
    List<String> tags)
    implements PassConfig {

  /** What to do with each weight. */
  public enum Mode {
    SCALE,
    SCALE_AND_NEGATE
  }

  static final ScaleWeightsConfig DEFAULTS =
      new ScaleWeightsConfig(
          LayerSelection.ALL, 2.0, 0.0, -1, Integer.MAX_VALUE, Mode.SCALE, List.of());

  public ScaleWeightsConfig {
    tags = tags == null ? List.of() : List.copyOf(tags);
    List<String> p = new ArrayList<>();
    if (!(factor > 0)) {
      p.add("factor must be > 0, found " + factor);
    }
    if (!(noise >= 0)) {
      p.add("noise must be >= 0, found " + noise);
    }
    if (failAfter < -1) {
      p.add("failAfter must be >= -1, found " + failAfter);
    }
    if (maxOutFeatures <= 0) {
      p.add("maxOutFeatures must be > 0, found " + maxOutFeatures);
    }
    if (mode == null) {
      p.add("mode is required");
    }
    InvalidConfigException.throwIfAny(p);
  }

  /** A config with this factor and everything else default. */
  static ScaleWeightsConfig factor(double f) {
    return new ScaleWeightsConfig(
        LayerSelection.ALL, f, 0.0, -1, Integer.MAX_VALUE, Mode.SCALE, List.of());
  }
}
