package dev.compress.quantization.grid;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Signal-to-quantization-noise ratio of RTN on Gaussian weights (256 x 1024, std 0.02, seed 42),
 * per bits x granularity x symmetry, each bound just under the value measured (in the comment).
 */
class SqnrTest {
  static Stream<Arguments> cases() {
    return Stream.of(
        Arguments.of(8, 0, true, 41.5), // measured 42.0 dB
        Arguments.of(8, 0, false, 42.0), // measured 42.5 dB
        Arguments.of(8, 128, true, 43.1), // measured 43.7 dB
        Arguments.of(8, 32, false, 45.9), // measured 46.4 dB
        Arguments.of(4, 0, true, 16.9), // measured 17.4 dB
        Arguments.of(4, 0, false, 17.4), // measured 17.9 dB
        Arguments.of(4, 128, true, 18.5), // measured 19.1 dB
        Arguments.of(4, 128, false, 19.4), // measured 19.9 dB
        Arguments.of(4, 64, false, 20.2), // measured 20.8 dB
        Arguments.of(4, 32, true, 19.9), // measured 20.5 dB
        Arguments.of(4, 32, false, 21.3)); // measured 21.8 dB
  }

  @ParameterizedTest(name = "int{0} group={1} symmetric={2} >= {3} dB")
  @MethodSource("cases")
  void sqnrBound(int bits, int group, boolean sym, double boundDb) {
    int rows = 256;
    int cols = 1024;
    Random r = new Random(42);
    float[] w = new float[rows * cols];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) (r.nextGaussian() * 0.02);
    }
    QuantizedMatrix q =
        QuantizedMatrix.quantize(w, rows, cols, bits, group == 0 ? cols : group, sym);
    double sqnr = q.sqnrDb(w);
    System.out.printf("[sqnr] int%d group=%d symmetric=%s: %.2f dB%n", bits, group, sym, sqnr);
    assertThat(sqnr).isGreaterThanOrEqualTo(boundDb);
  }
}
