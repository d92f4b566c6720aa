package dev.compress.quantization.ptq;

import dev.compress.api.CompressionException;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.exec.Executor;
import dev.compress.api.exec.ForwardResult;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.ProgressListener;
import dev.compress.api.tensor.Tensor;
import dev.compress.quantization.observer.Observer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Runs calibration batches through the float model on the context's engine and feeds the
 * activations entering chosen nodes to one {@link Observer} per activation value.
 *
 * <p>An activation of shape {@code [..., K]} is seen as rows of {@code K} features (tokens). When
 * the batch has an {@code attention_mask} input of shape {@code [b, t]} and the activation has
 * {@code b * t} rows, rows whose mask is 0 (padding) are left out, so padding never widens a range.
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
    List<Map<String, Tensor>> batches = calibration.batches();
    progress.start(label + " calibration", batches.size());
    try (Executor djl = context.executor(model)) {
      int i = 0;
      for (Map<String, Tensor> batch : batches) {
        ForwardResult r = djl.forward(batch, new java.util.LinkedHashSet<>(captureNode.values()));
        boolean[] keep = mask(batch.get("attention_mask"));
        for (Map.Entry<String, String> e : captureNode.entrySet()) {
          Tensor x = r.activation(e.getValue());
          feed(out.get(e.getKey()), x, keep);
        }
        progress.step(label + " calibration", ++i, batches.size(), "batch " + i);
      }
    }
    progress.finish(label + " calibration");
    return out;
  }

  private static boolean[] mask(Tensor m) {
    if (m == null || m.rank() != 2) {
      return null;
    }
    long[] v = m.toLongArray();
    boolean[] keep = new boolean[v.length];
    for (int i = 0; i < v.length; i++) {
      keep[i] = v[i] != 0;
    }
    return keep;
  }

  /** Feeds {@code x} as rows of its last dimension, dropping masked rows when the counts match. */
  static void feed(Observer o, Tensor x, boolean[] keep) {
    float[] v = x.toFloatArray();
    int cols = x.rank() == 0 ? 1 : (int) x.dim(-1);
    int rows = v.length / cols;
    if (keep == null || keep.length != rows) {
      o.observe(v, rows, cols);
      return;
    }
    int kept = 0;
    for (int r = 0; r < rows; r++) {
      if (keep[r]) {
        if (kept != r) {
          System.arraycopy(v, r * cols, v, kept * cols, cols);
        }
        kept++;
      }
    }
    o.observe(v, kept, cols);
  }
}
