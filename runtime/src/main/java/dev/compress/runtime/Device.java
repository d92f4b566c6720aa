package dev.compress.runtime;

/**
 * Where an executor runs. {@link #GPU} is accepted only when the engine reports a usable GPU (for
 * the DJL interpreter: {@code Engine.getGpuCount() > 0}); executors fail at construction otherwise
 * rather than falling back silently.
 */
public enum Device {
  /** The host CPU. */
  CPU,
  /** The first GPU the engine reports (CUDA device 0). */
  GPU
}
