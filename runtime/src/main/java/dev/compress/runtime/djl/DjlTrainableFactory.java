package dev.compress.runtime.djl;

import dev.compress.api.CompressionException;
import dev.compress.api.exec.Device;
import dev.compress.api.graph.ModelGraph;
import dev.compress.training.ParameterSelection;
import dev.compress.training.TrainableFactory;

/** The {@code djl} engine for the training SPI: {@link DjlTrainableModel}. */
public final class DjlTrainableFactory implements TrainableFactory {
  /** For {@link java.util.ServiceLoader}. */
  public DjlTrainableFactory() {}

  @Override
  public String engine() {
    return DjlExecutorFactory.ENGINE;
  }

  @Override
  public boolean available(Device device) {
    return device == Device.CPU || DjlExecutor.gpuAvailable();
  }

  @Override
  public DjlTrainableModel create(ModelGraph model, ParameterSelection selection, Device device)
      throws CompressionException {
    return DjlTrainableModel.create(model, selection, device);
  }
}
