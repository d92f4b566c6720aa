package dev.compress.training.loop;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.compress.api.CompressionException;
import dev.compress.training.TrainableModel;
import java.util.Map;

/**
 * The loss of one micro-batch: runs the model (and anything else, e.g. a frozen teacher) on the
 * batch and returns a scalar. Called inside a gradient recording; every array it makes belongs to
 * {@code manager}, which the loop closes after the backward pass.
 */
@FunctionalInterface
public interface StepLoss {
  /**
   * @param batch the micro-batch as arrays of {@code manager}, by name (graph inputs and targets)
   */
  NDArray loss(TrainableModel model, NDManager manager, Map<String, NDArray> batch)
      throws CompressionException;
}
