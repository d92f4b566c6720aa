package dev.compress.distillation.layerdrop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.ConfigException;
import dev.compress.api.UnsupportedModelException;
import dev.compress.api.graph.GraphCheck;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.io.onnx.OnnxWriter;
import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.tensor.Tensor;
import dev.compress.fixtures.TinyBert;
import dev.compress.runtime.ort.OrtExecutor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LayerDropPassTest {
  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"0,2", "1,3", "3", "0", "0,1,2,3", "2,0"})
  void keptGraphComputesTheDenseModelWithThoseBlocksOnly(String keep) throws Exception {
    List<Integer> k = java.util.Arrays.stream(keep.split(",")).map(Integer::valueOf).toList();
    ModelGraph model = TinyBert.build(4, 8, 7);
    PassReport r =
        new LayerDropPass(LayerDropConfig.keeping(k.toArray(Integer[]::new)))
            .apply(model, PassContext.of(0));
    List<Integer> sorted = k.stream().sorted().toList();
    ModelGraph reference = TinyBert.build(4, 8, sorted, 7);

    assertThat(GraphCheck.errors(model)).isEmpty();
    assertThat(model.graph().initializers().keySet())
        .containsExactlyInAnyOrderElementsOf(reference.graph().initializers().keySet());
    assertThat(model.graph().nodes()).hasSameSizeAs(reference.graph().nodes());
    assertThat(r.metrics())
        .containsEntry("blocks_before", 4.0)
        .containsEntry("blocks_after", (double) k.size())
        .containsEntry("parameters_after", (double) LayerDropPass.parameters(reference.graph()));
    assertThat(r.layersTouched()).hasSize(6 * (4 - k.size()));
    assertThat(model.graph().outputs().stream().map(v -> v.name()))
        .containsExactly("last_hidden_state", "pooler_output");

    Map<String, Tensor> in = TinyBert.inputs(3, 2, 6, 2);
    Map<String, Tensor> got = run(model, "dropped", in);
    Map<String, Tensor> want = run(reference, "reference", in);
    for (String o : List.of("last_hidden_state", "pooler_output")) {
      float[] a = got.get(o).toFloatArray();
      float[] b = want.get(o).toFloatArray();
      assertThat(a).hasSameSizeAs(b);
      double max = 0;
      for (int i = 0; i < a.length; i++) {
        max = Math.max(max, Math.abs(a[i] - b[i]));
      }
      assertThat(max)
          .as(o)
          .isLessThanOrEqualTo(1e-5); // measured 0 (the same ops on the same weights)
    }
  }

  @Test
  void droppingTheLastBlockWhoseOutputIsTheGraphOutputKeepsItsName() throws Exception {
    ModelGraph model = withoutPooler(TinyBert.build(3, 8, 7));
    new LayerDropPass(LayerDropConfig.keeping(0, 1)).apply(model, PassContext.of(0));
    ModelGraph reference = withoutPooler(TinyBert.build(3, 8, List.of(0, 1), 7));
    assertThat(GraphCheck.errors(model)).isEmpty();
    assertThat(model.graph().nodes()).hasSameSizeAs(reference.graph().nodes());
    Map<String, Tensor> in = TinyBert.inputs(5, 2, 6, 1);
    float[] a = run(model, "nopool", in).get("last_hidden_state").toFloatArray();
    float[] b = run(reference, "nopool-ref", in).get("last_hidden_state").toFloatArray();
    assertThat(a).containsExactly(b, org.assertj.core.data.Offset.offset(1e-5f));
  }

  /** The model without its pooler: the last block's output is the only graph output. */
  private static ModelGraph withoutPooler(ModelGraph m) {
    m.graph().nodes().removeIf(n -> n.name().startsWith("/pooler/"));
    m.graph().outputs().removeIf(v -> v.name().equals("pooler_output"));
    m.graph().initializers().keySet().removeIf(k -> k.startsWith("pooler.") || k.equals("zero"));
    return m;
  }

  @Test
  void keepEvenlySpreadsAsTheLayerReductionRecipe() {
    assertThat(LayerDropConfig.keepingEvenly(3).resolve(6)).containsExactly(0, 2, 4);
    assertThat(LayerDropConfig.keepingEvenly(6).resolve(12)).containsExactly(0, 2, 4, 6, 8, 10);
    assertThat(LayerDropConfig.keepingEvenly(4).resolve(12)).containsExactly(0, 3, 6, 9);
    assertThat(LayerDropConfig.keepingEvenly(1).resolve(6)).containsExactly(0);
    assertThat(new LayerDropProvider().defaults().resolve(6)).containsExactly(0, 2, 4);
    assertThat(new LayerDropProvider().defaults().resolve(5)).containsExactly(0, 2, 4);
  }

  @Test
  void keepOutOfRangeNamesTheKeyBeforeChangingAnything() {
    ModelGraph model = TinyBert.build(4, 8, 7);
    int nodes = model.graph().nodes().size();
    LayerDropPass pass = new LayerDropPass(LayerDropConfig.keeping(0, 4));
    assertThatThrownBy(() -> pass.apply(model, PassContext.of(0)))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "keep[1] = 4 is out of range: the model has 4 transformer blocks (blocks 0..3)");
    assertThat(model.graph().nodes()).hasSize(nodes);
    assertThat(pass.validate(model, List.of()))
        .containsExactly(
            "keep[1] = 4 is out of range: the model has 4 transformer blocks (blocks 0..3)");
    assertThat(new LayerDropPass(LayerDropConfig.keepingEvenly(5)).validate(model, List.of()))
        .containsExactly("keepEvenly = 5 is more than the model's 4 transformer blocks");
  }

  @Test
  void duplicatesNoneAndNegativeAreRefusedAtConstruction() {
    assertThatThrownBy(() -> LayerDropConfig.keeping(0, 2, 2))
        .isInstanceOf(InvalidConfigException.class)
        .hasMessage("keep must not repeat a block, found 2 twice in [0, 2, 2]");
    assertThatThrownBy(() -> LayerDropConfig.keeping())
        .hasMessage("keep must name at least one block, found []");
    assertThatThrownBy(() -> LayerDropConfig.keeping(-1))
        .hasMessage("keep[0] must be >= 0, found -1");
    assertThatThrownBy(() -> LayerDropConfig.keepingEvenly(0))
        .hasMessage("keepEvenly must be >= 1, found 0");
    assertThatThrownBy(
            () -> LayerDropConfig.builder().keep(1).keepEvenly(1).blockPattern(null).build())
        .hasMessage("keep and keepEvenly: give one of them, found keep [1] and keepEvenly 1");
  }

  @Test
  void aBlockReadingAnEarlierBlockBesidesTheStreamIsRefusedNamingTheNode() {
    ModelGraph model = TinyBert.build(3, 8, 7);
    // block 2's FFN also reads block 0's attention output: a connection across blocks
    Node n = model.graph().node("/encoder/layer.2/output/Add").orElseThrow();
    n.inputs().set(1, "/encoder/layer.0/attention/output/ln");
    assertThatThrownBy(
            () -> new LayerDropPass(LayerDropConfig.keeping(0, 2)).apply(model, PassContext.of(0)))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageContaining("block /encoder/layer.0 hands on 2 values")
        .hasMessageContaining("read by node /encoder/layer.2/output/Add");
  }

  @Test
  void noBlocksIsRefused() {
    ModelGraph model = TinyBert.build(2, 8, 7);
    assertThatThrownBy(
            () ->
                new LayerDropPass(
                        LayerDropConfig.builder().keep(0).blockPattern("/stage(\\d+)").build())
                    .apply(model, PassContext.of(0)))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessage(
            "layer-drop: no transformer block found: no linear layer's node name matches"
                + " blockPattern /stage(\\d+)");
  }

  private Map<String, Tensor> run(ModelGraph m, String name, Map<String, Tensor> in)
      throws Exception {
    Path file = dir.resolve(name + ".onnx");
    OnnxWriter.write(m, file);
    assertThat(Files.size(file)).isPositive();
    try (OrtExecutor ort = OrtExecutor.builder().setModelPath(file).optIntraOpThreads(1).build()) {
      return ort.forward(in, java.util.Set.of()).outputs();
    }
  }
}
