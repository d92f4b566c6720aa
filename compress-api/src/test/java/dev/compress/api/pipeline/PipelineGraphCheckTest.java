package dev.compress.api.pipeline;

import static dev.compress.api.pipeline.PipelineFixtures.LAYER0;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.compress.api.ConfigException;
import dev.compress.api.CorruptCheckpointException;
import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.io.onnx.OnnxWriter;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pipeline.PipelineFixtures.FakeCalibrationLoader;
import dev.compress.api.pipeline.PipelineFixtures.FakeEvaluator;
import dev.compress.api.pipeline.ScaleWeightsConfig.Mode;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The runner checks the graph after every pass, and says where layers hide in subgraphs. */
class PipelineGraphCheckTest {
  private static final PassRegistry REGISTRY = PassRegistry.load();
  private final PipelineRunner runner =
      new PipelineRunner(
          REGISTRY, List.of(new FakeCalibrationLoader()), List.of(new FakeEvaluator(List.of())));

  @TempDir Path tmp;

  private PipelineSpec spec(Path model, List<String> tags) {
    return PipelineSpec.builder()
        .model(model)
        .output(tmp.resolve("work").resolve("out"))
        .registry(REGISTRY)
        .pass(
            new ScaleWeightsConfig(
                LayerSelection.ALL, 0.5, 0, -1, Integer.MAX_VALUE, Mode.SCALE, tags))
        .build();
  }

  @Test
  void aPassThatBreaksTheGraphStopsTheRunBeforeAnythingIsWritten() throws Exception {
    Path model = PipelineFixtures.writeMlp(tmp.resolve("mlp.onnx"));
    Files.createDirectory(tmp.resolve("work"));
    Throwable t =
        catchThrowable(
            () -> runner.run(spec(model, List.of("break-graph")), RunOptions.defaults()));
    assertThat(t)
        .isInstanceOf(CorruptCheckpointException.class)
        .hasMessage(
            model
                + ": passes[0] (scale-weights) left an invalid graph, nothing was written (a bug in"
                + " the pass): graph 'mlp': node '"
                + LAYER0
                + "' (MatMul) reads 'nowhere', which no node, graph input or initializer defines");
    try (Stream<Path> left = Files.list(tmp.resolve("work"))) {
      assertThat(left).isEmpty();
    }
  }

  /** x -> If(cond){then: MatMul(x, Wt); else: MatMul(x, We)} -> y: layers only in branches. */
  static ModelGraph layersInBranches() {
    Graph g = new Graph("branchy");
    g.inputs().add(ValueInfo.tensor("x", DataType.FLOAT, null));
    g.inputs().add(ValueInfo.tensor("cond", DataType.BOOL, List.of()));
    g.outputs().add(ValueInfo.tensor("y", DataType.FLOAT, null));
    Node iff = Node.of("/switch/If", "If", List.of("cond"), List.of("y"));
    for (String branch : List.of("then_branch", "else_branch")) {
      Graph b = new Graph(branch);
      b.putInitializer(Tensor.ofFloats("W_" + branch, new long[] {2, 2}, 1, 0, 0, 1));
      b.nodes()
          .add(
              Node.of(
                  branch + "/MatMul",
                  "MatMul",
                  List.of("x", "W_" + branch),
                  List.of(branch + "_y")));
      b.outputs().add(ValueInfo.tensor(branch + "_y", DataType.FLOAT, null));
      iff.put(Attribute.of(branch, b));
    }
    g.nodes().add(iff);
    ModelGraph m = new ModelGraph(8, g);
    m.opsetImports().put("", 17L);
    return m;
  }

  @Test
  void layersOnlyInSubgraphsAreCountedAndNamedWhereTheySit() throws Exception {
    Path model = tmp.resolve("branchy.onnx");
    OnnxWriter.write(layersInBranches(), model);
    Throwable t = catchThrowable(() -> runner.validate(spec(model, List.of())));
    assertThat(t).isInstanceOf(ConfigException.class);
    assertThat(((ConfigException) t).problems())
        .containsExactly(
            "passes[0] (scale-weights) selects no linear layer (the main graph has none; 2 layer"
                + " nodes {MatMul=2} sit in subgraphs of '/switch/If' (If), and subgraphs are not"
                + " compressed yet)");
  }
}
