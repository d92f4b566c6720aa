package dev.compress.quantization.fp8;

import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.api.layers.LinearLayer.WeightLayout;
import dev.compress.api.tensor.Tensor;
import dev.compress.quantization.format.WeightMatrix;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link Fp8Pass#encode} reading the weight a block of rows at a time equals the whole-matrix
 * reference (the encoder as it was before streaming): same codes in the stored layout, scales and
 * SQNR.
 */
class Fp8EncodeRowsTest {
  private static final int OUT = 600;
  private static final int IN = 256; // several blocks of RowSource.BLOCK_ELEMENTS

  @ParameterizedTest
  @CsvSource({
    "OUT_IN, E4M3FN, true",
    "IN_OUT, E4M3FN, true",
    "IN_OUT, E5M2, false",
    "OUT_IN, E5M2, false"
  })
  void streamingEqualsTheWholeMatrixReference(
      WeightLayout layout, Fp8Format f, boolean perChannel) {
    Random rnd = new Random(5);
    float[] stored = new float[OUT * IN];
    for (int i = 0; i < stored.length; i++) {
      stored[i] = (float) (rnd.nextGaussian() * 0.05);
    }
    long[] shape = layout == WeightLayout.OUT_IN ? new long[] {OUT, IN} : new long[] {IN, OUT};
    Tensor w = Tensor.ofFloats("w", shape, stored);

    Fp8Pass.Encoded e =
        Fp8Pass.encode(WeightMatrix.rows(w, layout, OUT, IN), OUT, IN, layout, f, perChannel);
    Fp8Pass.Encoded ref = reference(WeightMatrix.outByIn(w, layout, OUT, IN), f, perChannel);

    byte[] refStored = new byte[ref.codes().length];
    for (int o = 0; o < OUT; o++) {
      for (int i = 0; i < IN; i++) {
        refStored[WeightMatrix.storedIndex(layout, OUT, IN, o, i)] = ref.codes()[o * IN + i];
      }
    }
    assertThat(e.codes()).isEqualTo(refStored);
    assertThat(e.scales()).isEqualTo(ref.scales());
    assertThat(e.sqnrDb()).isEqualTo(ref.sqnrDb());
  }

  /** The whole-array encoder: codes in the {@code out x in} view. */
  private static Fp8Pass.Encoded reference(float[] m, Fp8Format f, boolean perChannel) {
    float[] scales = new float[perChannel ? OUT : 1];
    for (int o = 0; o < OUT; o++) {
      for (int i = 0; i < IN; i++) {
        int k = perChannel ? o : 0;
        scales[k] = Math.max(scales[k], Math.abs(m[o * IN + i]));
      }
    }
    for (int k = 0; k < scales.length; k++) {
      float s = scales[k] / f.max();
      scales[k] = s > 0 && Float.isFinite(s) ? s : 1f;
    }
    byte[] codes = new byte[m.length];
    double sig = 0;
    double err = 0;
    for (int o = 0; o < OUT; o++) {
      float s = scales[perChannel ? o : 0];
      for (int i = 0; i < IN; i++) {
        float v = m[o * IN + i];
        byte c = f.encode(v / s);
        codes[o * IN + i] = c;
        double d = v - f.decode(c) * s;
        sig += (double) v * v;
        err += d * d;
      }
    }
    return new Fp8Pass.Encoded(
        codes, scales, err == 0 ? 300 : Math.min(300, 10 * Math.log10(sig / err)));
  }
}
