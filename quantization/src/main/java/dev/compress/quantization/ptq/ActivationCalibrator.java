package dev.compress.quantization.ptq;

import dev.compress.api.CompressionException;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.ProgressListener;
import dev.compress.api.tensor.Tensor;
import dev.compress.calibration.activation.ActivationCapture;
import dev.compress.calibration.activation.TokenRows;
import dev.compress.quantization.observer.Observer;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Runs calibration batches through the float model on the context's engine and feeds the
 * activations entering chosen nodes to one {@link Observer} per activation value.
 *
 * <p>An activation of shape {@code [..., K]} is seen as rows of {@code K} features (tokens), with
 * padding left out as {@link TokenRows} decides, so padding never widens a range.
 */
public final class ActivationCalibrator {
  private ActivationCalibrator() {}

  /**
   * Observes the activations.
   *
   * @param context the engine and device to run on, and the progress listener
   * @param model the float model (not changed)
   * @param calibration the batches
   * @param captureNode for each activation value, one node that reads it as input 0
   * @param observers makes a fresh observer for a value
   * @return the observer of each value, in the order of {@code captureNode}
   */
  public static Map<String, Observer> observe(
      PassContext context,
      ModelGraph model,
      CalibrationSet calibration,
      Map<String, String> captureNode,
      Supplier<Observer> observers,
      String label)
      throws CompressionException {
    ProgressListener progress = context.progress();
    Map<String, Observer> out = new LinkedHashMap<>();
    captureNode.keySet().forEach(v -> out.put(v, observers.get()));
    int batches = calibration.batches().size();
    progress.start(label + " calibration", batches);
    ActivationCapture.run(
        context,
        model,
        calibration,
        new LinkedHashSet<>(captureNode.values()),
        (i, batch, r) -> {
          Tensor mask = batch.get("attention_mask");
          for (Map.Entry<String, String> e : captureNode.entrySet()) {
            TokenRows x = TokenRows.of(r.activation(e.getValue()), mask);
            out.get(e.getKey()).observe(x.values(), x.rows(), x.cols());
          }
          progress.step(label + " calibration", i + 1, batches, "batch " + (i + 1));
        });
    progress.finish(label + " calibration");
    return out;
  }
}
