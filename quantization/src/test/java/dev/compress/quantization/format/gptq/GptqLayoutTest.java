package dev.compress.quantization.format.gptq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.quantization.grid.GroupQuantizedWeight;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Pack/unpack round trips of the GPTQ layout, incl. act-order g_idx and asymmetric zeros. */
public class GptqLayoutTest {
  @TempDir Path tmp;

  /** Random codes and grids; with {@code actOrder}, g_idx of a random column order. */
  public static GroupQuantizedWeight random(
      int out, int in, int bits, int group, boolean sym, boolean actOrder, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    int maxq = (1 << bits) - 1;
    int groups = in / group;
    byte[] codes = new byte[out * in];
    for (int i = 0; i < codes.length; i++) {
      codes[i] = (byte) r.nextInt(maxq + 1);
    }
    float[] scales = new float[out * groups];
    int[] zeros = new int[out * groups];
    for (int i = 0; i < scales.length; i++) {
      scales[i] = (float) (0.001 + r.nextDouble() * 0.05);
      zeros[i] = sym ? (maxq + 1) / 2 : r.nextInt(maxq + 1);
    }
    zeros[0] = sym ? zeros[0] : 0; // the v1 "zero - 1" edge case
    int[] gIdx = GroupQuantizedWeight.contiguousGroups(in, group);
    if (actOrder) {
      int[] perm = new int[in];
      for (int i = 0; i < in; i++) {
        perm[i] = i;
      }
      for (int i = in - 1; i > 0; i--) {
        int j = r.nextInt(i + 1);
        int t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
      }
      for (int j = 0; j < in; j++) {
        gIdx[perm[j]] = j / group;
      }
    }
    return GroupQuantizedWeight.of(out, in, bits, group, sym, codes, scales, zeros, gIdx);
  }

  static Map<String, Tensor> byName(List<Tensor> ts) {
    Map<String, Tensor> m = new LinkedHashMap<>();
    ts.forEach(t -> m.put(t.name(), t));
    return m;
  }

  public static void assertSame(GroupQuantizedWeight a, GroupQuantizedWeight b, boolean f16Scales) {
    assertThat(b.rows()).isEqualTo(a.rows());
    assertThat(b.cols()).isEqualTo(a.cols());
    assertThat(b.gIdx()).containsExactly(a.gIdx());
    for (int r = 0; r < a.rows(); r++) {
      for (int c = 0; c < a.cols(); c++) {
        assertThat(b.code(r, c)).isEqualTo(a.code(r, c));
      }
      for (int g = 0; g < a.groups(); g++) {
        assertThat(b.zero(r, g)).isEqualTo(a.zero(r, g));
        float s =
            f16Scales ? Float.float16ToFloat(Float.floatToFloat16(a.scale(r, g))) : a.scale(r, g);
        assertThat(b.scale(r, g)).isEqualTo(s);
      }
    }
  }

  @ParameterizedTest
  @CsvSource({
    "4,32,true,false",
    "4,32,false,true",
    "4,64,false,false",
    "3,32,true,true",
    "3,32,false,false",
    "2,16,false,true",
    "8,64,true,false",
    "8,32,false,true",
    "4,128,true,true"
  })
  void roundTrip(int bits, int group, boolean sym, boolean actOrder) {
    GroupQuantizedWeight q = random(64, 128, bits, group, sym, actOrder, bits * 31L + group);
    List<Tensor> ts = GptqLayout.pack("m.l", q);
    Map<String, Tensor> m = byName(ts);
    assertThat(m.get("m.l.qweight").shape()).containsExactly(128L * bits / 32, 64);
    assertThat(m.get("m.l.qzeros").shape()).containsExactly(128L / group, 64L * bits / 32);
    assertThat(m.get("m.l.scales").shape()).containsExactly(128L / group, 64);
    assertThat(m.get("m.l.scales").dtype()).isEqualTo(DataType.FLOAT16);
    assertThat(m.get("m.l.g_idx").shape()).containsExactly(128);
    GroupQuantizedWeight back = GptqLayout.unpack(m, "m.l", bits, group == 128 ? -1 : group, sym);
    assertSame(q, back, true);
  }

  @Test
  void fourBitWordsHoldEightCodesAlongTheInputLowBitsFirst() {
    // One output column, 8 inputs with codes 0..7: qweight[0, 0] = 0x76543210.
    byte[] codes = {0, 1, 2, 3, 4, 5, 6, 7};
    GroupQuantizedWeight q =
        GroupQuantizedWeight.of(
            8, 8, 4, 8, true, repeatRows(codes, 8), filled(8, 0.5f), ints(8, 8), new int[8]);
    Map<String, Tensor> m = byName(GptqLayout.pack("x", q));
    int w = m.get("x.qweight").data().order(ByteOrder.LITTLE_ENDIAN).getInt(0);
    assertThat(w).isEqualTo(0x76543210);
    // Symmetric zero 8 is stored as 7 in every nibble (v1 zero - 1).
    int z = m.get("x.qzeros").data().order(ByteOrder.LITTLE_ENDIAN).getInt(0);
    assertThat(z).isEqualTo(0x77777777);
  }

  static byte[] repeatRows(byte[] row, int rows) {
    byte[] out = new byte[row.length * rows];
    for (int r = 0; r < rows; r++) {
      System.arraycopy(row, 0, out, r * row.length, row.length);
    }
    return out;
  }

  static float[] filled(int n, float v) {
    float[] f = new float[n];
    java.util.Arrays.fill(f, v);
    return f;
  }

  static int[] ints(int n, int v) {
    int[] a = new int[n];
    java.util.Arrays.fill(a, v);
    return a;
  }

  @Test
  void checkpointWritesQuantizeConfigAndReadsBack() throws Exception {
    GroupQuantizedWeight a = random(64, 128, 4, 32, false, true, 1);
    GroupQuantizedWeight b = random(32, 64, 4, 32, false, true, 2);
    Map<String, GroupQuantizedWeight> layers = new LinkedHashMap<>();
    layers.put("encoder.layer.0.attention.self.query", a);
    layers.put("encoder.layer.0.output.dense", b);
    GptqCheckpoint.write(
        tmp, layers, List.of(), new GptqCheckpoint.Settings(4, 32, true, false, false, 0.01));
    JsonNode c = new ObjectMapper().readTree(tmp.resolve("quantize_config.json").toFile());
    assertThat(c.get("bits").asInt()).isEqualTo(4);
    assertThat(c.get("group_size").asInt()).isEqualTo(32);
    assertThat(c.get("desc_act").asBoolean()).isTrue();
    assertThat(c.get("sym").asBoolean()).isFalse();
    assertThat(c.get("static_groups").asBoolean()).isFalse();
    assertThat(c.get("checkpoint_format").asText()).isEqualTo("gptq");
    Map<String, GroupQuantizedWeight> back = GptqCheckpoint.read(tmp);
    assertThat(back.keySet()).containsExactlyElementsOf(layers.keySet());
    assertSame(a, back.get("encoder.layer.0.attention.self.query"), true);
    assertSame(b, back.get("encoder.layer.0.output.dense"), true);
  }

  @Test
  void moduleNamesFollowHuggingFace() {
    assertThat(GptqCheckpoint.moduleName("/encoder/layer.0/attention/self/query/MatMul"))
        .isEqualTo("encoder.layer.0.attention.self.query");
    assertThat(GptqCheckpoint.moduleName("/pooler/dense/Gemm")).isEqualTo("pooler.dense");
  }

  @Test
  void unpackableShapesAreRejectedNamingTheLayer() {
    GroupQuantizedWeight q = random(8, 40, 3, 8, true, false, 3);
    assertThatThrownBy(() -> GptqLayout.pack("odd", q))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("odd: 3-bit GPTQ packing");
  }
}
