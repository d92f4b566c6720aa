package dev.compress.runtime.ort;

import dev.compress.api.CompressionException;
import dev.compress.api.exec.Device;
import dev.compress.api.exec.ExecutorFactory;
import dev.compress.api.graph.ModelGraph;

/** The {@code onnxruntime} engine for the executor SPI: {@link OrtExecutor} with its defaults. */
public final class OrtExecutorFactory implements ExecutorFactory {
  /** The engine name. */
  public static final String ENGINE = "onnxruntime";

  /** For {@link java.util.ServiceLoader}. */
  public OrtExecutorFactory() {}

  @Override
  public String engine() {
    return ENGINE;
  }

  @Override
  public boolean supportsCapture() {
    return false;
  }

  @Override
  public boolean available(Device device) {
    return device == Device.CPU || OrtExecutor.cudaProviderAvailable();
  }

  @Override
  public OrtExecutor create(ModelGraph model, Device device) throws CompressionException {
    return OrtExecutor.builder().setModel(model).optDevice(device).build();
  }
}
