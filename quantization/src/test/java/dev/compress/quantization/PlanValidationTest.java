package dev.compress.quantization;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.compress.api.ConfigException;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.io.onnx.OnnxWriter;
import dev.compress.api.pipeline.PipelineRunner;
import dev.compress.api.pipeline.PipelineSpec;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code validate} on a two-layer MLP whose first layer is 96 wide: group sizes against layer
 * widths for AWQ, and each pass checked against the model as the passes before it leave it (a layer
 * quantized by an earlier pass is not checked, nor selectable, by a later one).
 */
class PlanValidationTest {
  @TempDir static Path tmp;

  private static Path model() throws Exception {
    Path file = tmp.resolve("mlp.onnx");
    if (Files.exists(file)) {
      return file;
    }
    Graph g = new Graph("mlp");
    ModelGraph m = new ModelGraph(8, g);
    m.opsetImports().put("", 17L);
    g.inputs()
        .add(
            ValueInfo.tensor(
                "x", DataType.FLOAT, List.of(ValueInfo.Dim.of("n"), ValueInfo.Dim.of(96))));
    g.outputs().add(ValueInfo.tensor("y", DataType.FLOAT, null));
    g.putInitializer(Tensor.ofFloats("W1", new long[] {96, 128}, new float[96 * 128]));
    g.putInitializer(Tensor.ofFloats("W2", new long[] {128, 64}, new float[128 * 64]));
    g.nodes().add(Node.of("/fc1/MatMul", "MatMul", List.of("x", "W1"), List.of("h")));
    g.nodes().add(Node.of("/fc2/MatMul", "MatMul", List.of("h", "W2"), List.of("y")));
    OnnxWriter.write(m, file);
    return file;
  }

  private static List<String> problems(String name, String passes) throws Exception {
    Path yaml = tmp.resolve(name + ".yaml");
    Files.writeString(
        yaml,
        "apiVersion: compress/v1\nkind: Pipeline\nmodel: "
            + model()
            + "\npasses:\n"
            + passes
            + "output: {dir: "
            + tmp.resolve("out-" + name)
            + "}\n");
    PipelineRunner runner = new PipelineRunner();
    ConfigException e =
        catchThrowableOfType(
            ConfigException.class,
            () -> runner.validate(PipelineSpec.load(yaml, runner.registry())));
    assertThat(e).as("a ConfigException").isNotNull();
    return e.problems();
  }

  @Test
  void awqGroupSizeMustDivideEveryLayerWidth() throws Exception {
    List<String> p = problems("awq", "  - type: awq\n    groupSize: 64\n");
    assertThat(p)
        .contains(
            "passes[0] (awq): layer '/fc1/MatMul': groupSize 64 does not divide its 96 input"
                + " features");
    assertThat(p).noneMatch(s -> s.contains("/fc2/MatMul"));
  }

  @Test
  void aLayerQuantizedByAnEarlierPassIsNotCheckedAgain() throws Exception {
    String gptq = "  - type: gptq\n    groupSize: 64\n";
    // Alone, gptq refuses the 96-wide layer ...
    assertThat(problems("gptq", gptq)).anyMatch(s -> s.contains("does not divide its 96"));
    // ... but after rtn took it, gptq plans on /fc2/MatMul only (calibration is all that is left).
    String rtnFirst =
        "  - type: rtn-quantization\n    targets: [/fc1/MatMul]\n    bits: 8\n"
            + "    granularity: per_channel\n"
            + gptq;
    List<String> p = problems("rtn-gptq", rtnFirst);
    assertThat(p).noneMatch(s -> s.contains("does not divide"));
    assertThat(p).singleElement().asString().contains("passes[1] (gptq) needs calibration data");
  }

  @Test
  void aStrictPassCannotTargetALayerAnEarlierPassQuantized() throws Exception {
    List<String> p =
        problems(
            "rtn-dynamic",
            "  - type: rtn-quantization\n    bits: 8\n    granularity: per_channel\n"
                + "  - type: ptq-dynamic\n    targets: [/fc1/MatMul]\n");
    assertThat(p)
        .containsExactly(
            "passes[1].targets[0] '/fc1/MatMul' matches no linear layer that is still float: those"
                + " it selects are compressed (quantized) in the model or by an earlier pass. HINT:"
                + " put this pass before the one that quantizes them");
  }

  @Test
  void aSkippingPassMaySelectLayersAnEarlierPassQuantized() throws Exception {
    // Mixed precision by selector: the second rtn skips /fc1/MatMul; only fp8's opset is left.
    List<String> p =
        problems(
            "rtn-rtn-fp8",
            "  - type: rtn-quantization\n    targets: [/fc1/MatMul]\n    bits: 8\n"
                + "    granularity: per_channel\n"
                + "  - type: rtn-quantization\n    targets: [\"re:.*\"]\n    bits: 8\n"
                + "    granularity: per_channel\n"
                + "  - type: fp8-quantization\n    upgradeOpset: false\n");
    assertThat(p)
        .containsExactly(
            "passes[2] (fp8-quantization) selects no linear layer that is still float: those it"
                + " selects are compressed (quantized) in the model or by an earlier pass. HINT:"
                + " put this pass before the one that quantizes them");
  }
}
