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
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** all-MiniLM-L6-v2 against an identical copy of itself, with tiny settings. */
class EmbeddingFidelityEvaluatorTest {
  static final String MODEL = "builtin:all-minilm-l6-v2";
  static Path original;

  @BeforeAll
  static void extract() throws Exception {
    original = BuiltinModels.resolve(MODEL);
  }

  static EvaluateSpec spec(Map<String, String> gates) {
    return new EvaluateSpec(
        "embedding-fidelity", "builtin:heldout-sentences", 12, List.of(1, 4), 16, 3, gates);
  }

  @Test
  void registeredAsService() {
    assertThat(ServiceLoader.load(Evaluator.class).stream().map(p -> p.type().getName()).toList())
        .contains(EmbeddingFidelityEvaluator.class.getName());
  }

  @Test
  void modelAgainstItself(@TempDir Path dir) throws Exception {
    Path copy = dir.resolve("compressed.onnx");
    Files.copy(original, copy);
    EvaluateSpec spec = spec(Map.of("cosine.mean", ">= 0.99", "size.ratio", "< 0.5"));
    EvaluationResult r = new EmbeddingFidelityEvaluator(2).evaluate(spec, original, copy, MODEL);
    System.out.print(r.table());

    Map<String, Double> m = r.metrics();
    assertThat(m.keySet()).containsExactlyElementsOf(EmbeddingFidelityEvaluator.metricNames(spec));
    assertThat(m.get("cosine.mean")).isCloseTo(1.0, within(1e-6));
    assertThat(m.get("cosine.min")).isCloseTo(1.0, within(1e-6));
    // Identical models: the ratio is 1 up to timing noise; tests are never timed, so only its
    // sanity is asserted (3 runs on a shared machine: measured 0.49-1.4 under a parallel build).
    assertThat(m.get("latency.b1.ratio")).isPositive().isFinite();
    assertThat(m.get("latency.b4.ratio")).isPositive().isFinite();
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
        .contains("cosine to original, mean")
        .contains("latency b=4, p50 ms")
        .contains("2 intra-op threads")
        .contains("gate cosine.mean >= 0.99: passed")
        .contains("gate size.ratio < 0.5: FAILED");
  }

  @Test
  void gatesAreCheckedBeforeAnythingRuns() {
    EvaluateSpec spec = spec(Map.of("cosine.avg", ">= 0.99"));
    assertThatThrownBy(
            () ->
                new EmbeddingFidelityEvaluator(1)
                    .evaluate(spec, Path.of("missing.onnx"), Path.of("missing.onnx"), MODEL))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(
            "evaluate.gates.cosine.avg: unknown metric; this evaluation measures")
        .hasMessageContaining("cosine.mean")
        .hasMessageContaining("latency.b4.ratio");
  }

  @Test
  void dataErrorsNameTheKey() {
    EvaluateSpec tooMany =
        new EvaluateSpec(
            "embedding-fidelity", "builtin:heldout-sentences", 301, List.of(), 16, 1, null);
    assertThatThrownBy(
            () -> new EmbeddingFidelityEvaluator(1).evaluate(tooMany, original, original, MODEL))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "evaluate.samples: 301 requested but builtin:heldout-sentences has only 300 samples");
    EvaluateSpec missing =
        new EvaluateSpec("embedding-fidelity", "nope.txt", 3, List.of(), 16, 1, null);
    assertThatThrownBy(
            () -> new EmbeddingFidelityEvaluator(1).evaluate(missing, original, original, MODEL))
        .isInstanceOf(ConfigException.class)
        .hasMessage("evaluate.data: file not found: nope.txt");
  }
}
