package dev.compress.api.exec;

/**
 * Where an executor runs. {@link #GPU} is accepted only when the engine can use one (for the DJL
 * interpreter: {@code Engine.getGpuCount() > 0}; for ONNX Runtime: its CUDA execution provider is
 * on the classpath and starts on device 0); executors fail at construction otherwise, with a
 * message naming what to add, rather than falling back silently.
 */
public enum Device {
  /** The host CPU. */
  CPU,
  /** The first GPU the engine reports (CUDA device 0). */
  GPU
}
