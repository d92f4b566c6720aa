package dev.compress.quantization.rtn;

import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.api.graph.ModelGraph;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.fixtures.TinyModels;
import dev.compress.quantization.grid.Granularity;
import dev.compress.quantization.grid.QuantizedMatrix;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The RTN MSE clipping search ({@link ClipSearch}). */
class ClipSearchTest {
  private static float[] heavyTailed(Random r, int n) {
    float[] w = new float[n];
    for (int i = 0; i < n; i++) {
      double g = r.nextGaussian();
      w[i] = (float) (r.nextInt(50) == 0 ? g * 10 : g) * 0.02f;
    }
    return w;
  }

  private static double groupError(float[] w, float[] q, int from, int n, double p) {
    double e = 0;
    for (int i = from; i < from + n; i++) {
      e += Math.pow(Math.abs(q[i] - w[i]), p);
    }
    return e;
  }

  @Test
  void neverIncreasesTheErrorOfAnyGroup() {
    Random r = new Random(11);
    int rows = 64;
    int cols = 256;
    for (int bits : new int[] {3, 4, 8}) {
      for (boolean sym : new boolean[] {true, false}) {
        for (int group : new int[] {32, 256}) {
          float[] w = heavyTailed(r, rows * cols);
          float[] plain = QuantizedMatrix.quantize(w, rows, cols, bits, group, sym).dequantize();
          float[] mse = ClipSearch.quantize(w, rows, cols, bits, group, sym).dequantize();
          for (int g = 0; g < rows * cols; g += group) {
            assertThat(groupError(w, mse, g, group, ClipSearch.NORM))
                .isLessThanOrEqualTo(groupError(w, plain, g, group, ClipSearch.NORM));
          }
        }
      }
    }
  }

  @Test
  void reducesTheSquaredErrorOnHeavyTailedRows() {
    Random r = new Random(12);
    int rows = 32;
    int cols = 128;
    float[] w = heavyTailed(r, rows * cols);
    float[] plain = QuantizedMatrix.quantize(w, rows, cols, 4, 128, false).dequantize();
    float[] mse = ClipSearch.quantize(w, rows, cols, 4, 128, false).dequantize();
    double a = groupError(w, plain, 0, w.length, 2);
    double b = groupError(w, mse, 0, w.length, 2);
    System.out.printf("[rtn-clip] heavy-tailed 4-bit g128 squared error: %.4e -> %.4e%n", a, b);
    assertThat(b).isLessThan(0.95 * a); // measured 0.93
  }

  @Test
  void equalsPlainRoundToNearestWhenNoShrinkHelps() {
    // Values on the 4-bit grid already: the full range is exact, nothing beats it.
    float[] w = new float[32];
    for (int i = 0; i < w.length; i++) {
      w[i] = (i % 16) - 8f;
    }
    QuantizedMatrix a = QuantizedMatrix.quantize(w, 1, 32, 4, 32, false);
    QuantizedMatrix b = ClipSearch.quantize(w, 1, 32, 4, 32, false);
    assertThat(b.dequantize()).containsExactly(a.dequantize());
  }

  @Test
  void rtnPassWithClipMseHasHigherSqnr() throws Exception {
    ModelGraph plain = TinyModels.mlp(17, 128, 128, 16, 5, true);
    ModelGraph clipped = TinyModels.mlp(17, 128, 128, 16, 5, true);
    PassReport a =
        new RtnPass(
                RtnConfig.builder()
                    .bits(4)
                    .granularity(Granularity.PER_GROUP)
                    .groupSize(32)
                    .symmetric(false)
                    .build())
            .apply(plain, PassContext.of(0));
    PassReport b =
        new RtnPass(
                RtnConfig.builder()
                    .bits(4)
                    .granularity(Granularity.PER_GROUP)
                    .groupSize(32)
                    .symmetric(false)
                    .embeddings(false)
                    .clip(ClipMethod.MSE)
                    .build())
            .apply(clipped, PassContext.of(0));
    assertThat(b.metrics().get("sqnr_db_mean")).isGreaterThan(a.metrics().get("sqnr_db_mean"));
  }
}
