package dev.compress.quantization.format;

import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.api.layers.LinearLayer.WeightLayout;
import dev.compress.api.tensor.Tensor;
import dev.compress.quantization.grid.QuantizedMatrix;
import dev.compress.quantization.grid.RowSource;
import dev.compress.quantization.ptq.Int8Weights;
import dev.compress.quantization.rtn.ClipSearch;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Quantizing a weight read a block of rows at a time ({@link WeightMatrix#rows}) gives exactly what
 * quantizing the whole {@link WeightMatrix#outByIn} copy gives (RTN, its clipping search, int8 of
 * the W8A8 passes), while no read covers the whole weight.
 */
class WeightMatrixRowsTest {
  private static final int OUT = 700;
  private static final int IN = 256; // 179,200 weights: several blocks of RowSource.BLOCK_ELEMENTS

  @ParameterizedTest
  @EnumSource(WeightLayout.class)
  void rowBlocksQuantizeExactlyAsTheWholeMatrix(WeightLayout layout) {
    Random rnd = new Random(3);
    float[] stored = new float[OUT * IN];
    for (int i = 0; i < stored.length; i++) {
      stored[i] = (float) (rnd.nextGaussian() * 0.05);
    }
    long[] shape = layout == WeightLayout.OUT_IN ? new long[] {OUT, IN} : new long[] {IN, OUT};
    Tensor w = Tensor.ofFloats("w", shape, stored);
    float[] whole = WeightMatrix.outByIn(w, layout, OUT, IN);
    AtomicInteger largestRead = new AtomicInteger();
    RowSource inner = WeightMatrix.rows(w, layout, OUT, IN);
    RowSource rows =
        (row0, n, dst) -> {
          largestRead.accumulateAndGet(n, Math::max);
          inner.read(row0, n, dst);
        };

    for (int[] bitsGroup : new int[][] {{8, IN}, {4, 32}, {4, 128}}) {
      for (boolean sym : new boolean[] {true, false}) {
        QuantizedMatrix a =
            QuantizedMatrix.quantize(whole, OUT, IN, bitsGroup[0], bitsGroup[1], sym);
        QuantizedMatrix b =
            QuantizedMatrix.quantize(rows, OUT, IN, bitsGroup[0], bitsGroup[1], sym);
        assertSame(a, b);
        assertThat(b.sqnrDb(rows)).isEqualTo(a.sqnrDb(whole));
      }
    }
    QuantizedMatrix clipA = ClipSearch.quantize(whole, OUT, IN, 4, 64, false);
    QuantizedMatrix clipB = ClipSearch.quantize(rows, OUT, IN, 4, 64, false);
    assertSame(clipA, clipB);
    Int8Weights int8A = Int8Weights.quantize(whole, OUT, IN);
    Int8Weights int8B = Int8Weights.quantize(rows, OUT, IN);
    assertThat(int8B.codes()).isEqualTo(int8A.codes());
    assertThat(int8B.scales()).isEqualTo(int8A.scales());
    assertThat(int8B.sqnrDb(rows)).isEqualTo(int8A.sqnrDb(whole));
    // measured: blocks of 256 rows (RowSource.BLOCK_ELEMENTS / 256 columns) of the 700
    assertThat(largestRead.get()).isEqualTo(RowSource.blockRows(IN)).isLessThan(OUT);
  }

  private static void assertSame(QuantizedMatrix a, QuantizedMatrix b) {
    for (int r = 0; r < OUT; r++) {
      for (int c = 0; c < IN; c++) {
        if (a.code(r, c) != b.code(r, c)) {
          throw new AssertionError("code differs at (" + r + ", " + c + ")");
        }
      }
      for (int g = 0; g < a.groups(); g++) {
        assertThat(b.scale(r, g)).isEqualTo(a.scale(r, g));
        assertThat(b.zero(r, g)).isEqualTo(a.zero(r, g));
      }
    }
  }
}
