package dev.compress.api.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** {@link Tensor#readFloats}: any range equals the same slice of {@link Tensor#toFloatArray()}. */
class TensorReadFloatsTest {
  @ParameterizedTest
  @EnumSource(
      value = DataType.class,
      names = {
        "FLOAT",
        "DOUBLE",
        "FLOAT16",
        "BFLOAT16",
        "INT8",
        "UINT8",
        "BOOL",
        "INT16",
        "UINT16",
        "INT32",
        "INT64",
        "INT4",
        "UINT4"
      })
  void everyRangeIsTheSliceOfTheWholeArray(DataType dtype) {
    long n = 37; // odd, so packed 4-bit ranges start and end mid-byte
    byte[] bytes = new byte[(int) dtype.byteSize(n)];
    new Random(7).nextBytes(bytes);
    if (dtype == DataType.BOOL) {
      for (int i = 0; i < bytes.length; i++) {
        bytes[i] &= 1;
      }
    }
    Tensor t = Tensor.of("t", dtype, new long[] {n}, ByteBuffer.wrap(bytes));
    float[] whole = t.toFloatArray();
    for (int start = 0; start < n; start += 5) {
      for (int len = 0; start + len <= n; len += 7) {
        float[] dst = new float[len + 2];
        t.readFloats(start, dst, 1, len);
        assertThat(Arrays.copyOfRange(dst, 1, 1 + len))
            .as("%s [%d, %d)", dtype, start, start + len)
            .isEqualTo(Arrays.copyOfRange(whole, start, start + len));
        assertThat(dst[0]).isZero();
        assertThat(dst[len + 1]).isZero();
      }
    }
  }

  @Test
  void aRangeOutsideTheTensorIsRefused() {
    Tensor t = Tensor.ofFloats("t", new long[] {4}, 1, 2, 3, 4);
    assertThatThrownBy(() -> t.readFloats(2, new float[8], 0, 3))
        .isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> t.readFloats(0, new float[2], 0, 3))
        .isInstanceOf(IndexOutOfBoundsException.class);
  }
}
