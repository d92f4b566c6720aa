package dev.compress.evaluation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.compress.api.ConfigException;
import dev.compress.api.io.BuiltinModels;
import dev.compress.api.pipeline.EvaluateSpec;
import dev.compress.api.pipeline.Evaluator;
import dev.compress.api.pipeline.Evaluator.EvaluationResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The evaluate block: all-MiniLM-L6-v2 against an identical copy of itself, tiny settings. */
class SideBySideEvaluatorTest {
  static final String MODEL = "builtin:all-minilm-l6-v2";
  static Path original;

  @BeforeAll
  static void extract() throws Exception {
    original = BuiltinModels.resolve(MODEL);
  }

  static EvaluateSpec spec(Map<String, String> gates) {
    return EvaluateSpec.builder("builtin:heldout-sentences")
        .task("embedding-fidelity")
        .samples(12)
        .latencyBatchSizes(1, 4)
        .sequenceLength(16)
        .iterations(3)
        .gates(gates)
        .build();
  }

  @Test
  void registeredAsService() {
    assertThat(ServiceLoader.load(Evaluator.class).stream().map(p -> p.type().getName()).toList())
        .containsExactly(SideBySideEvaluator.class.getName());
  }

  @Test
  void modelAgainstItself(@TempDir Path dir) throws Exception {
    Path copy = dir.resolve("compressed.onnx");
    Files.copy(original, copy);
    EvaluateSpec base = spec(Map.of("cosine.mean", ">= 0.99", "size.ratio", "< 0.5"));
    // Same block plus a second sequence length and an HTML report.
    EvaluateSpec spec = base.toBuilder().sequenceLengths(8).report("evaluation.html").build();
    EvaluationResult r = new SideBySideEvaluator(2).evaluate(spec, original, copy, MODEL);
    System.out.print(r.table());

    Map<String, Double> m = r.metrics();
    assertThat(m.keySet())
        .containsExactlyInAnyOrderElementsOf(SideBySideEvaluator.metricNames(spec));
    assertThat(m.get("cosine.mean")).isCloseTo(1.0, within(1e-6));
    assertThat(m.get("cosine.min")).isCloseTo(1.0, within(1e-6));
    assertThat(m.get("nn.agreement")).isEqualTo(1.0);
    // Identical models: the ratio is 1 up to timing noise; tests are never timed, so only its
    // sanity is asserted.
    assertThat(m.get("latency.b1.ratio")).isPositive().isFinite();
    assertThat(m.get("latency.b4.s8.ratio")).isPositive().isFinite();
    assertThat(m.get("latency.b4.original.p90_ms"))
        .isGreaterThanOrEqualTo(m.get("latency.b4.original.p50_ms"));
    assertThat(m.get("latency.intra_op_threads")).isEqualTo(2.0);
    assertThat(m.get("size.original_bytes")).isEqualTo((double) Files.size(original));
    assertThat(m.get("size.ratio")).isEqualTo(1.0);

    assertThat(r.dataIdentity())
        .containsEntry("heldout.source", "builtin:heldout-sentences")
        .containsEntry("heldout.count", "12");
    assertThat(r.dataIdentity().get("heldout.sha256")).hasSize(64);
    assertThat(r.gateFailures()).containsExactly("size.ratio = 1 fails gate < 0.5");
    assertThat(r.table())
        .contains("cosine.mean")
        .contains("p50 ms b1/s16")
        .contains("2 intra-op threads")
        .contains("gate cosine.mean >= 0.99: passed")
        .contains("gate size.ratio < 0.5: FAILED");
    assertThat(dir.resolve("evaluation.html")).isRegularFile();
    assertThat(Files.readString(dir.resolve("evaluation.json"))).contains("\"layerErrors\"");
    // The gates are a table of the HTML report and a list of the JSON one; pooling is recorded.
    assertThat(Files.readString(dir.resolve("evaluation.html")))
        .contains("<tr class=\"pass\"><th scope=\"row\">cosine.mean</th><td>&gt;= 0.99</td>")
        .contains("<tr class=\"fail\"><th scope=\"row\">size.ratio</th><td>&lt; 0.5</td>");
    assertThat(Files.readString(dir.resolve("evaluation.json")))
        .contains("\"gates\" : [ {")
        .contains("\"pooling\" : \"mean\"")
        .contains("\"layerErrorModes\" : [ \"accumulated\", \"isolated\" ]");
  }

  @Test
  void tokenLevelPoolingHasNoNeighbourMetricsToGate() throws Exception {
    EvaluateSpec base = spec(Map.of("nn.agreement", ">= 0.9"));
    EvaluateSpec none = base.toBuilder().pooling("none").build();
    assertThatThrownBy(() -> SideBySideEvaluator.validate(none))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("evaluate.gates.nn.agreement: unknown metric");
    assertThat(SideBySideEvaluator.validate(spec(Map.of("nn.agreement", ">= 0.9")))).hasSize(1);
  }

  @Test
  void aGpuForOnnxRuntimeWithoutItsCudaProviderIsRefusedBeforeAnythingRuns() {
    org.junit.jupiter.api.Assumptions.assumeFalse(
        dev.compress.runtime.ort.OrtExecutor.cudaProviderAvailable(), "built with -Pgpu");
    EvaluateSpec base = spec(Map.of());
    EvaluateSpec gpu = base.toBuilder().device("gpu").build();
    assertThatThrownBy(() -> SideBySideEvaluator.validate(gpu))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(
            "evaluate.device: gpu: ONNX Runtime's CUDA execution provider is not available")
        .hasMessageContaining("HINT: build with -Pgpu");
  }

  @Test
  void gatesAreCheckedBeforeAnythingRuns() {
    EvaluateSpec spec = spec(Map.of("throughput.qps", ">= 0.99"));
    assertThatThrownBy(
            () ->
                new SideBySideEvaluator(1)
                    .evaluate(spec, Path.of("missing.onnx"), Path.of("missing.onnx"), MODEL))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(
            "evaluate.gates.throughput.qps: unknown metric; this evaluation measures")
        .hasMessageContaining("cosine.mean")
        .hasMessageContaining("latency.b4.ratio");
  }

  @Test
  void dataErrorsNameTheKey() {
    EvaluateSpec tooMany =
        EvaluateSpec.builder("builtin:heldout-sentences")
            .task("embedding-fidelity")
            .samples(301)
            .latencyBatchSizes()
            .sequenceLength(16)
            .iterations(1)
            .build();
    assertThatThrownBy(
            () -> new SideBySideEvaluator(1).evaluate(tooMany, original, original, MODEL))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "evaluate.samples: 301 requested but builtin:heldout-sentences has only 300 samples");
    EvaluateSpec missing =
        EvaluateSpec.builder("nope.txt")
            .task("embedding-fidelity")
            .samples(3)
            .latencyBatchSizes()
            .sequenceLength(16)
            .iterations(1)
            .build();
    assertThatThrownBy(
            () -> new SideBySideEvaluator(1).evaluate(missing, original, original, MODEL))
        .isInstanceOf(ConfigException.class)
        .hasMessage("evaluate.data: file not found: nope.txt");
  }
}
