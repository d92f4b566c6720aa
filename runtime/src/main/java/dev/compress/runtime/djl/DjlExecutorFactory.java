package dev.compress.runtime.djl;

import dev.compress.api.CompressionException;
import dev.compress.api.exec.Device;
import dev.compress.api.exec.ExecutorFactory;
import dev.compress.api.graph.ModelGraph;

/**
 * The {@code djl} engine for the executor SPI: {@link DjlExecutor} with its defaults (quantized
 * kernels on), the engine that captures node inputs for calibration.
 */
public final class DjlExecutorFactory implements ExecutorFactory {
  /** The engine name. */
  public static final String ENGINE = "djl";

  /** For {@link java.util.ServiceLoader}. */
  public DjlExecutorFactory() {}

  @Override
  public String engine() {
    return ENGINE;
  }

  @Override
  public boolean supportsCapture() {
    return true;
  }

  @Override
  public boolean available(Device device) {
    return device == Device.CPU || DjlExecutor.gpuAvailable();
  }

  @Override
  public DjlExecutor create(ModelGraph model, Device device) throws CompressionException {
    return DjlExecutor.builder().setModel(model).optDevice(device).build();
  }
}
