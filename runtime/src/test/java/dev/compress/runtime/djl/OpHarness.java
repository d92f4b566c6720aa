package dev.compress.runtime.djl;

import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.api.CompressionException;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.tensor.Tensor;
import dev.compress.runtime.TestGraphs;
import dev.compress.runtime.ort.OrtExecutor;
import java.util.Map;

/** Runs a graph on both executors and compares them output by output. */
final class OpHarness {
  private OpHarness() {}

  static Map<String, Tensor> djl(ModelGraph m, Map<String, Tensor> in) throws CompressionException {
    try (DjlExecutor ex = DjlExecutor.create(m)) {
      return ex.forward(in);
    }
  }

  static Map<String, Tensor> ort(ModelGraph m, Map<String, Tensor> in) throws CompressionException {
    try (OrtExecutor ex = OrtExecutor.builder().setModel(m).optIntraOpThreads(1).build()) {
      return ex.forward(in);
    }
  }

  /**
   * Runs both, checks equal names, types and shapes, and returns the DJL outputs after asserting
   * max |diff| <= tol per output (0 for integer and bool outputs).
   */
  static Map<String, Tensor> agree(String label, ModelGraph m, Map<String, Tensor> in, double tol)
      throws CompressionException {
    Map<String, Tensor> a = djl(m, in);
    Map<String, Tensor> b = ort(m, in);
    assertThat(a.keySet()).as(label).containsExactlyElementsOf(b.keySet());
    for (String k : a.keySet()) {
      Tensor x = a.get(k);
      Tensor y = b.get(k);
      assertThat(x.dtype()).as(label + " " + k + " dtype").isEqualTo(y.dtype());
      assertThat(x.shape()).as(label + " " + k + " shape").containsExactly(y.shape());
      double diff = TestGraphs.maxAbsDiff(x, y);
      double bound = x.dtype().isFloatingPoint() ? tol : 0;
      System.out.printf("[op-diff] %-28s %-6s %s max|djl-ort| = %.3g%n", label, k, x.dtype(), diff);
      assertThat(diff).as(label + " " + k + " max |djl - ort|").isLessThanOrEqualTo(bound);
    }
    return a;
  }
}
