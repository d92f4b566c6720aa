package dev.compress.api.pass;

import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.graph.ModelGraph;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * What a pass may use besides the model: a seed for every random choice, calibration data, an
 * optional teacher model, and a progress listener. Typed, never a bag of nullable fields.
 *
 * @param seed the pipeline seed
 * @param calibration calibration data, present when the pipeline has a {@code calibration} block
 * @param teacher the original model, for passes that compare against it (distillation)
 * @param progress receives progress
 */
public record PassContext(
    long seed,
    Optional<CalibrationSet> calibration,
    Optional<ModelGraph> teacher,
    ProgressListener progress) {

  /** Normalizes nulls. */
  public PassContext {
    calibration = calibration == null ? Optional.empty() : calibration;
    teacher = teacher == null ? Optional.empty() : teacher;
    progress = progress == null ? ProgressListener.NONE : progress;
  }

  /** A context with a seed and nothing else. */
  public static PassContext of(long seed) {
    return new PassContext(seed, Optional.empty(), Optional.empty(), ProgressListener.NONE);
  }

  /**
   * A random source for one purpose (e.g. the pass type and index), derived from the seed so that
   * adding a pass does not change the random choices of the others.
   */
  public SplittableRandom random(String purpose) {
    Objects.requireNonNull(purpose);
    long h = seed;
    for (byte b : purpose.getBytes(StandardCharsets.UTF_8)) {
      h = (h ^ b) * 0x100000001b3L;
    }
    return new SplittableRandom(h);
  }
}
