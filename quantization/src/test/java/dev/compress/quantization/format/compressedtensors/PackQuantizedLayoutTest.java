package dev.compress.quantization.format.compressedtensors;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.compress.api.tensor.Tensor;
import dev.compress.quantization.format.gptq.GptqLayoutTest;
import dev.compress.quantization.grid.GroupQuantizedWeight;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Pack/unpack round trips of compressed-tensors pack-quantized, incl. g_idx and zero points. */
class PackQuantizedLayoutTest {
  @TempDir Path tmp;

  static Map<String, Tensor> byName(List<Tensor> ts) {
    Map<String, Tensor> m = new LinkedHashMap<>();
    ts.forEach(t -> m.put(t.name(), t));
    return m;
  }

  @ParameterizedTest
  @CsvSource({
    "4,32,true,false",
    "4,32,false,true",
    "3,32,false,true",
    "2,16,true,false",
    "5,32,false,false",
    "8,64,true,true",
    "8,128,false,false",
    "4,128,false,true"
  })
  void roundTrip(int bits, int group, boolean sym, boolean actOrder) {
    // 60 outputs: not a multiple of 32 / bits, so the zero points' padding is exercised.
    GroupQuantizedWeight q =
        GptqLayoutTest.random(60, 128, bits, group, sym, actOrder, bits * 7L + group);
    Map<String, Tensor> m = byName(PackQuantizedLayout.pack("model.l", q));
    int pf = 32 / bits;
    assertThat(m.get("model.l.weight_packed").shape()).containsExactly(60, (128 + pf - 1) / pf);
    assertThat(m.get("model.l.weight_scale").shape()).containsExactly(60, 128 / group);
    assertThat(m.containsKey("model.l.weight_zero_point")).isEqualTo(!sym);
    if (!sym) {
      assertThat(m.get("model.l.weight_zero_point").shape())
          .containsExactly((60 + pf - 1) / pf, 128 / group);
    }
    assertThat(m.containsKey("model.l.weight_g_idx")).isEqualTo(actOrder && group < 128);
    assertThat(m.get("model.l.weight_shape").toLongArray()).containsExactly(60, 128);
    GroupQuantizedWeight back =
        PackQuantizedLayout.unpack(m, "model.l", bits, group == 128 ? 0 : group, sym);
    GptqLayoutTest.assertSame(q, back, false);
  }

  @Test
  void fourBitWordsHoldEightCodesAlongTheInput() {
    byte[] codes = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    GroupQuantizedWeight q =
        GroupQuantizedWeight.of(
            1, 10, 4, 10, true, codes, new float[] {1}, new int[] {8}, new int[10]);
    Map<String, Tensor> m = byName(PackQuantizedLayout.pack("x", q));
    assertThat(m.get("x.weight_packed").shape()).containsExactly(1, 2);
    var b = m.get("x.weight_packed").data().order(ByteOrder.LITTLE_ENDIAN);
    assertThat(b.getInt(0)).isEqualTo(0x76543210);
    assertThat(b.getInt(4)).isEqualTo(0x98); // padded with zeros
  }

  @Test
  void checkpointWritesTheQuantizationConfigAndKeepsOtherKeys() throws Exception {
    java.nio.file.Files.writeString(
        tmp.resolve("config.json"), "{\"model_type\": \"bert\", \"hidden_size\": 384}");
    GroupQuantizedWeight a = GptqLayoutTest.random(64, 128, 4, 32, false, true, 5);
    Map<String, GroupQuantizedWeight> layers = Map.of("encoder.layer.0.attention.self.query", a);
    CompressedTensorsCheckpoint.write(
        tmp,
        layers,
        List.of(),
        new CompressedTensorsCheckpoint.Scheme(4, 32, false, "group", List.of("pooler.dense")));
    JsonNode root = new ObjectMapper().readTree(tmp.resolve("config.json").toFile());
    assertThat(root.get("model_type").asText()).isEqualTo("bert");
    JsonNode qc = root.get("quantization_config");
    assertThat(qc.get("quant_method").asText()).isEqualTo("compressed-tensors");
    assertThat(qc.get("format").asText()).isEqualTo("pack-quantized");
    JsonNode w = qc.get("config_groups").get("group_0").get("weights");
    assertThat(w.get("num_bits").asInt()).isEqualTo(4);
    assertThat(w.get("type").asText()).isEqualTo("int");
    assertThat(w.get("symmetric").asBoolean()).isFalse();
    assertThat(w.get("strategy").asText()).isEqualTo("group");
    assertThat(w.get("group_size").asInt()).isEqualTo(32);
    assertThat(w.get("actorder").asText()).isEqualTo("group");
    assertThat(qc.get("ignore").get(0).asText()).isEqualTo("pooler.dense");
    Map<String, GroupQuantizedWeight> back = CompressedTensorsCheckpoint.read(tmp);
    GptqLayoutTest.assertSame(a, back.get("encoder.layer.0.attention.self.query"), false);
  }
}
