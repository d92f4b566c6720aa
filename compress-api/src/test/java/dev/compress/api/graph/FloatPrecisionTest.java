package dev.compress.api.graph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** {@link FloatPrecision} and the half-precision encoding of {@link Tensor#ofFloats}. */
class FloatPrecisionTest {
  @Test
  void halfEncodingRoundsToNearestEven() {
    float[] v = {1f, -2.5f, 1f + 0x1p-9f, 1f + 0x1p-8f + 0x1p-16f, 65504f, 1e-8f, Float.NaN};
    float[] h = new float[v.length];
    Tensor.ofFloats("h", DataType.FLOAT16, new long[] {v.length}, v).readFloats(0, h, 0, v.length);
    // f16 keeps 10 fraction bits: 1 + 2^-9 is exact; 1 + 2^-8 + 2^-16 rounds to 1 + 2^-8.
    assertThat(h).containsExactly(1f, -2.5f, 1f + 0x1p-9f, 1f + 0x1p-8f, 65504f, 0f, Float.NaN);
    float[] b = new float[v.length];
    Tensor.ofFloats("b", DataType.BFLOAT16, new long[] {v.length}, v).readFloats(0, b, 0, v.length);
    // bf16 keeps 7 fraction bits: 1 + 2^-8 (+ a little) rounds up to 1 + 2^-7, 1 + 2^-9 down.
    assertThat(b[0]).isEqualTo(1f);
    assertThat(b[1]).isEqualTo(-2.5f);
    assertThat(b[2]).isEqualTo(1f);
    assertThat(b[3]).isEqualTo(1f + 0x1p-7f);
    assertThat(b[4]).isEqualTo(65536f);
    assertThat(b[6]).isNaN();
    assertThat(Math.abs(b[5] - 1e-8f)).isLessThan(1e-8f * 0x1p-7f);
  }

  @ParameterizedTest
  @EnumSource(
      value = DataType.class,
      names = {"FLOAT16", "BFLOAT16"})
  void convertsFloatValuesAndWidensBackExactly(DataType to) {
    Graph g = new Graph("g");
    ModelGraph m = new ModelGraph(8, g);
    g.inputs().add(ValueInfo.tensor("x", DataType.FLOAT, List.of(ValueInfo.Dim.of(3))));
    g.outputs().add(ValueInfo.tensor("y", DataType.FLOAT, null));
    g.putInitializer(Tensor.ofFloats("w", new long[] {3}, 0.1f, 0.2f, 0.3f));
    g.putInitializer(Tensor.ofLongs("shape", new long[] {1}, 3));
    g.nodes()
        .add(
            Node.of("c", "Constant", List.of(), List.of("k"))
                .put(Attribute.of("value", Tensor.ofFloats("k", new long[] {1}, 2f))));
    g.nodes().add(Node.of("mul", "Mul", List.of("x", "w"), List.of("t")));
    g.nodes().add(Node.of("add", "Add", List.of("t", "k"), List.of("u")));
    g.nodes()
        .add(
            Node.of("cast", "Cast", List.of("u"), List.of("y"))
                .put(Attribute.of("to", (long) DataType.FLOAT.onnxCode())));

    FloatPrecision.convert(m, to);
    assertThat(g.initializers().get("w").dtype()).isEqualTo(to);
    assertThat(g.initializers().get("shape").dtype()).isEqualTo(DataType.INT64);
    assertThat(g.inputs().get(0).elemType()).contains(to);
    assertThat(g.outputs().get(0).elemType()).contains(to);
    assertThat(g.nodes().get(0).attribute("value").orElseThrow().asTensor().dtype()).isEqualTo(to);
    assertThat(g.nodes().get(3).intAttr("to", 0)).isEqualTo(to.onnxCode());
    float[] rounded = g.initializers().get("w").toFloatArray();

    FloatPrecision.convert(m, DataType.FLOAT);
    assertThat(g.initializers().get("w").dtype()).isEqualTo(DataType.FLOAT);
    assertThat(g.initializers().get("w").toFloatArray()).containsExactly(rounded);
    assertThat(g.nodes().get(3).intAttr("to", 0)).isEqualTo(DataType.FLOAT.onnxCode());
    assertThatThrownBy(() -> FloatPrecision.convert(m, DataType.INT8))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
