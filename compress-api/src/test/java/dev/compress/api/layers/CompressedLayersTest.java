package dev.compress.api.layers;

import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.api.graph.Graph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.layers.LinearLayer.WeightForm;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link LinearLayers#compressed}: the weight form of layers an earlier pass wrote. */
class CompressedLayersTest {
  @Test
  void everyLinearLayerIsEitherFloatOrCompressedWithItsForm() {
    Graph g = new Graph("g");
    g.inputs().add(ValueInfo.tensor("x", DataType.FLOAT, null));
    g.putInitializer(Tensor.ofFloats("wf", new long[] {2, 2}, 1, 2, 3, 4));
    g.putInitializer(
        Tensor.of("wq", DataType.INT8, new long[] {2, 2}, ByteBuffer.wrap(new byte[4])));
    g.putInitializer(Tensor.ofFloats("s", new long[] {2}, 1, 1));
    g.putInitializer(Tensor.ofFloats("sx", new long[0], 1));
    g.putInitializer(Tensor.of("zx", DataType.UINT8, new long[0], ByteBuffer.wrap(new byte[1])));
    g.putInitializer(
        Tensor.of("wn", DataType.UINT8, new long[] {2, 1, 1}, ByteBuffer.wrap(new byte[2])));
    g.nodes().add(Node.of("float", "MatMul", List.of("x", "wf"), List.of("a")));
    g.nodes().add(Node.of("dq", "DequantizeLinear", List.of("wq", "s"), List.of("wd")));
    g.nodes().add(Node.of("weightOnly", "MatMul", List.of("a", "wd"), List.of("b")));
    g.nodes().add(Node.of("qx", "QuantizeLinear", List.of("b", "sx", "zx"), List.of("bq")));
    g.nodes().add(Node.of("dqx", "DequantizeLinear", List.of("bq", "sx", "zx"), List.of("bd")));
    g.nodes().add(Node.of("static", "MatMul", List.of("bd", "wd"), List.of("c")));
    g.nodes()
        .add(
            new Node(
                "nbits", "MatMulNBits", "com.microsoft", List.of("c", "wn", "s"), List.of("d")));
    g.nodes().add(Node.of("int", "MatMulInteger", List.of("bq", "wq", "zx"), List.of("e")));
    g.outputs().add(ValueInfo.tensor("d", DataType.FLOAT, null));
    g.outputs().add(ValueInfo.tensor("e", DataType.INT32, null));

    assertThat(LinearLayers.of(g)).extracting(LinearLayer::name).containsExactly("float");
    assertThat(LinearLayers.compressed(g))
        .extracting(LinearLayer.Compressed::name, LinearLayer.Compressed::form)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("weightOnly", WeightForm.DEQUANTIZE_LINEAR),
            org.assertj.core.groups.Tuple.tuple("static", WeightForm.W8A8),
            org.assertj.core.groups.Tuple.tuple("nbits", WeightForm.MATMUL_NBITS),
            org.assertj.core.groups.Tuple.tuple("int", WeightForm.W8A8));
  }
}
