package dev.compress.calibration.activation;

import dev.compress.api.CompressionException;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.exec.Executor;
import dev.compress.api.exec.ForwardResult;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.pass.PassContext;
import dev.compress.api.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs the calibration batches through a model on the context's engine and device ({@link
 * PassContext#executor}), recording the inputs of chosen nodes, one batch at a time: activations
 * live for one batch unless the consumer keeps them.
 */
public final class ActivationCapture {
  private ActivationCapture() {}

  /** Receives each batch's captured inputs. */
  @FunctionalInterface
  public interface BatchConsumer {
    /**
     * @param index the batch's position in the calibration set
     * @param batch the batch's inputs (its {@code attention_mask} tells padding apart, see {@link
     *     TokenRows})
     * @param result outputs and captured node inputs
     */
    void accept(int index, Map<String, Tensor> batch, ForwardResult result)
        throws CompressionException;
  }

  /**
   * One pass over the calibration data.
   *
   * @param model run as it is now (the executor snapshots it)
   * @param captureNodes node names whose inputs to record
   */
  public static void run(
      PassContext context,
      ModelGraph model,
      CalibrationSet calibration,
      Set<String> captureNodes,
      BatchConsumer consumer)
      throws CompressionException {
    List<Map<String, Tensor>> batches = calibration.batches();
    try (Executor ex = context.executor(model)) {
      for (int i = 0; i < batches.size(); i++) {
        Map<String, Tensor> batch = batches.get(i);
        consumer.accept(i, batch, ex.forward(feeds(ex, batch), captureNodes));
      }
    }
  }

  /**
   * The inputs {@code ex} takes, from {@code values} (a batch, or cached block inputs).
   *
   * @throws IllegalArgumentException naming the missing input and what {@code values} has
   */
  public static Map<String, Tensor> feeds(Executor ex, Map<String, Tensor> values) {
    Map<String, Tensor> m = new LinkedHashMap<>();
    for (String n : ex.inputNames()) {
      Tensor t = values.get(n);
      if (t == null) {
        throw new IllegalArgumentException(
            "calibration batch has no input '" + n + "'; it has " + values.keySet());
      }
      m.put(n, t);
    }
    return m;
  }
}
