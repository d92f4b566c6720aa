package dev.compress.evaluation.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.compress.api.ConfigException;
import dev.compress.api.exec.Device;
import dev.compress.api.io.BuiltinModels;
import dev.compress.evaluation.TinyModels;
import dev.compress.evaluation.engine.EngineKind;
import dev.compress.evaluation.engine.EngineSpec;
import dev.compress.evaluation.latency.LatencyPlan;
import dev.compress.evaluation.layers.LayerErrors.Mode;
import dev.compress.evaluation.report.HtmlReport;
import dev.compress.evaluation.report.JsonReport;
import dev.compress.evaluation.task.Pooling;
import dev.compress.evaluation.task.TaskKind;
import dev.compress.evaluation.task.TaskSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A bench of a tiny encoder: tokenizer discovery, pooling and per-layer errors on --data. */
class BenchTinyTest {
  static BenchSpec spec(Path a, Path b, Path data, List<Mode> modes, String tokenizer) {
    return new BenchSpec(
        List.of(new BenchSpec.Variant("original", a), new BenchSpec.Variant("noisy", b)),
        a.toString(),
        Optional.of(
            new TaskSpec(TaskKind.EMBEDDING_FIDELITY, data.toString(), 12, "", 4, Pooling.CLS)),
        new EngineSpec(EngineKind.ONNXRUNTIME, Device.CPU, false, 1),
        new LatencyPlan(1, 2, 0),
        List.of(),
        List.of(16),
        false,
        modes,
        0L,
        tokenizer);
  }

  static Path sentences(Path dir) throws Exception {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 12; i++) {
      sb.append("the user's own sentence number ").append(i).append(" about compression\n");
    }
    return Files.writeString(dir.resolve("mine.txt"), sb.toString());
  }

  @Test
  void poolingAndLayerErrorsOnTheUsersDataAreRecorded(@TempDir Path dir) throws Exception {
    Path a = TinyModels.encoder(dir.resolve("tiny-encoder.onnx"), 0);
    Path b = TinyModels.encoder(dir.resolve("noisy.onnx"), 0.3f);
    Path data = sentences(dir);
    // Found beside the baseline under its model name.
    Files.copy(
        BuiltinModels.tokenizer("builtin:all-minilm-l6-v2"),
        dir.resolve("tiny-encoder-tokenizer.json"));
    BenchReport r =
        new Bench(null).run(spec(a, b, data, List.of(Mode.ACCUMULATED, Mode.ISOLATED), ""));
    assertThat(r.task().orElseThrow().settings()).containsEntry("pooling", "cls");
    assertThat(r.layerErrorModes()).containsExactly(Mode.ACCUMULATED, Mode.ISOLATED);
    assertThat(r.layerErrorInputs()).contains(data.toString());
    assertThat(r.layerErrors().get("noisy"))
        .extracting(e -> e.mode() + " " + e.layer())
        .containsExactly("ACCUMULATED /encoder/dense/MatMul", "ISOLATED /encoder/dense/MatMul");
    JsonNode json = new ObjectMapper().readTree(JsonReport.toJson(r));
    assertThat(json.at("/task/pooling").asText()).isEqualTo("cls");
    assertThat(json.at("/layerErrorModes/1").asText()).isEqualTo("isolated");
    assertThat(json.at("/layerErrors/noisy/1/mode").asText()).isEqualTo("isolated");
    assertThat(json.at("/layerErrorInputs").asText()).contains("mine.txt");
    String html = HtmlReport.render(r, "t");
    assertThat(html).contains("<li>pooling: cls</li>").contains("id=\"layer-modes\"");
    assertThat(BenchTable.render(r)).contains("pooling: cls\n");
  }

  @Test
  void aMissingTokenizerNamesWhatWasLookedForAndTokenizerNamesOne(@TempDir Path dir)
      throws Exception {
    Path a = TinyModels.encoder(dir.resolve("tiny-encoder.onnx"), 0);
    Path b = TinyModels.encoder(dir.resolve("noisy.onnx"), 0.3f);
    Path data = sentences(dir);
    assertThatThrownBy(() -> new Bench(null).run(spec(a, b, data, List.of(), "")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(dir.resolve("tiny-encoder-tokenizer.json").toString())
        .hasMessageContaining(dir.resolve("tokenizer.json").toString())
        .hasMessageContaining("--tokenizer FILE");
    Path tok =
        Files.copy(
            BuiltinModels.tokenizer("builtin:all-minilm-l6-v2"), dir.resolve("elsewhere.json"));
    BenchReport r = new Bench(null).run(spec(a, b, data, List.of(), tok.toString()));
    assertThat(r.taskMetrics(1)).containsKey("cosine.mean");
    assertThat(r.layerErrors()).isEmpty();
  }
}
