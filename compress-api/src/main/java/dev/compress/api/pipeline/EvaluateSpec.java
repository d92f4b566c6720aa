package dev.compress.api.pipeline;

import dev.compress.api.pass.InvalidConfigException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The {@code evaluate} block of a pipeline.
 *
 * @param task {@code embedding-fidelity} (mean/min cosine of sentence embeddings against the
 *     original on held-out sentences)
 * @param data held-out data: a text file with one sentence per line or {@code builtin:NAME}
 * @param samples how many held-out samples to use (> 0)
 * @param latencyBatchSizes batch sizes for the ONNX Runtime latency comparison (empty: none)
 * @param sequenceLength tokens per sample for latency runs
 * @param iterations timed iterations per model and batch size (after warm-up)
 * @param gates metric name to bound, e.g. {@code cosine.mean: ">= 0.99"}
 */
public record EvaluateSpec(
    String task,
    String data,
    int samples,
    List<Integer> latencyBatchSizes,
    int sequenceLength,
    int iterations,
    Map<String, String> gates) {

  /**
   * The defaults for a pipeline's {@code evaluate} block: embedding fidelity on 100 samples of
   * {@code data}, latency at batch 1 and 32 with 128 tokens, 20 timed iterations, no gates.
   */
  public static EvaluateSpec defaults(String data) {
    return new EvaluateSpec("embedding-fidelity", data, 100, List.of(1, 32), 128, 20, Map.of());
  }

  /** Validates every field. */
  public EvaluateSpec {
    latencyBatchSizes = latencyBatchSizes == null ? List.of() : List.copyOf(latencyBatchSizes);
    gates = gates == null ? Map.of() : Map.copyOf(gates);
    List<String> p = new ArrayList<>();
    if (!"embedding-fidelity".equals(task)) {
      p.add("task must be one of [embedding-fidelity], found " + task);
    }
    if (data == null || data.isBlank()) {
      p.add("data is required");
    }
    if (samples <= 0) {
      p.add("samples must be > 0, found " + samples);
    }
    for (int i = 0; i < latencyBatchSizes.size(); i++) {
      if (latencyBatchSizes.get(i) == null || latencyBatchSizes.get(i) <= 0) {
        p.add("latencyBatchSizes[" + i + "] must be > 0, found " + latencyBatchSizes.get(i));
      }
    }
    if (sequenceLength <= 0) {
      p.add("sequenceLength must be > 0, found " + sequenceLength);
    }
    if (iterations <= 0) {
      p.add("iterations must be > 0, found " + iterations);
    }
    InvalidConfigException.throwIfAny(p);
  }
}
