package dev.compress.api.pass;

import dev.compress.api.CompressionException;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.exec.Device;
import dev.compress.api.exec.Executor;
import dev.compress.api.exec.ExecutorFactory;
import dev.compress.api.graph.ModelGraph;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * What a pass may use besides the model: a seed for every random choice, calibration data, the
 * teacher (the original model), a progress listener, and the engine and device to run the model on
 * (calibration). Typed, never a bag of nullable fields.
 *
 * @param seed the pipeline seed
 * @param calibration calibration data, present when the pipeline has a {@code calibration} block
 * @param teacher a snapshot of the pipeline's input model ({@link ModelGraph#copy()}), present for
 *     passes whose provider declares {@link PassProvider#needsTeacher()}
 * @param progress receives progress
 * @param executors builds the executors a pass runs the model on (an engine that can capture node
 *     inputs); a pass asks {@link #executor(ModelGraph)} instead of naming an engine
 * @param device where those executors run
 */
public record PassContext(
    long seed,
    Optional<CalibrationSet> calibration,
    Optional<ModelGraph> teacher,
    ProgressListener progress,
    ExecutorFactory executors,
    Device device) {

  /** Normalizes nulls: no calibration or teacher, no listener, the capturing engine on the CPU. */
  public PassContext {
    calibration = calibration == null ? Optional.empty() : calibration;
    teacher = teacher == null ? Optional.empty() : teacher;
    progress = progress == null ? ProgressListener.NONE : progress;
    executors = executors == null ? ExecutorFactory.lazyCapturing() : executors;
    device = device == null ? Device.CPU : device;
  }

  /**
   * A context on the CPU with the installed capturing engine (looked up when an executor is first
   * asked for).
   */
  public PassContext(
      long seed,
      Optional<CalibrationSet> calibration,
      Optional<ModelGraph> teacher,
      ProgressListener progress) {
    this(seed, calibration, teacher, progress, null, null);
  }

  /** A context with a seed and nothing else. */
  public static PassContext of(long seed) {
    return new PassContext(seed, Optional.empty(), Optional.empty(), ProgressListener.NONE);
  }

  /**
   * A new executor over a snapshot of {@code model} on {@link #device()}; the caller closes it.
   *
   * @throws CompressionException when the engine cannot run the model or the device is missing
   */
  public Executor executor(ModelGraph model) throws CompressionException {
    return executors.create(model, device);
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
