package dev.compress.cli;

import static dev.compress.cli.InspectCommandTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.compress.api.graph.GraphBuilder;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.onnx.OnnxWriter;
import dev.compress.api.io.safetensors.SafetensorsWriter;
import dev.compress.api.pipeline.PassRegistry;
import dev.compress.api.pipeline.PipelineSpec;
import dev.compress.api.tensor.DataType;
import dev.compress.cli.InspectCommandTest.Result;
import dev.compress.evaluation.sensitivity.Granularity;
import dev.compress.evaluation.sensitivity.SensitivityAnalysis;
import dev.compress.evaluation.sensitivity.SensitivityUnit;
import dev.compress.fixtures.EncoderConfig;
import dev.compress.fixtures.Gaussian;
import dev.compress.fixtures.TinyModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code compress sensitivity} on a model of three parallel linear layers summed into the logits:
 * {@code /a} with tiny weights (std 0.001, irrelevant), {@code /b} (std 0.3) and {@code /c} (std 3,
 * it dominates the output).
 */
class SensitivityCommandTest {
  static final int IN = 32;
  static final int OUT = 8;

  @TempDir static Path shared;
  static Path model;
  static Path data;
  static Path calibration;

  @BeforeAll
  static void writeModelAndData() throws Exception {
    GraphBuilder b = GraphBuilder.create("three").opset("", 17).producer("test");
    Random r = new Random(7);
    String x = b.input("x", DataType.FLOAT, "batch", IN);
    b.output("logits", DataType.FLOAT);
    String wa = b.initializer(Gaussian.tensor("Wa", r, 0.001f, IN, OUT));
    String wb = b.initializer(Gaussian.tensor("Wb", r, 0.3f, IN, OUT));
    String wc = b.initializer(Gaussian.tensor("Wc", r, 3f, IN, OUT));
    String ya = b.opTo("MatMul", "/a/MatMul", List.of(x, wa), "ya");
    String yb = b.opTo("MatMul", "/b/MatMul", List.of(x, wb), "yb");
    String yc = b.opTo("MatMul", "/c/MatMul", List.of(x, wc), "yc");
    String ab = b.opTo("Add", "/add0", List.of(ya, yb), "ab");
    b.opTo("Add", "/add1", List.of(ab, yc), "logits");
    ModelGraph m = b.build();
    model = shared.resolve("three.onnx");
    OnnxWriter.write(m, model);
    StringBuilder csv = new StringBuilder();
    Random d = new Random(11);
    for (int i = 0; i < 48; i++) {
      for (int j = 0; j < IN; j++) {
        csv.append(j == 0 ? "" : ",")
            .append(String.format(Locale.ROOT, "%.5f", (float) d.nextGaussian()));
      }
      csv.append('\n');
    }
    data = Files.writeString(shared.resolve("heldout.csv"), csv.toString());
    calibration = shared.resolve("calibration.safetensors");
    SafetensorsWriter.write(calibration, List.of(Gaussian.tensor("x", new Random(3), 1f, 64, IN)));
  }

  static Path pipeline(Path dir, boolean withCalibration) throws Exception {
    String cal =
        withCalibration
            ? "calibration: {kind: tensors, source: '" + calibration + "', samples: 64}\n"
            : "";
    return Files.writeString(
        dir.resolve("p.yaml"),
        "apiVersion: compress/v1\nkind: Pipeline\nmodel: '"
            + model
            + "'\n"
            + cal
            + "passes:\n  - type: magnitude-pruning\n    sparsity: 0.5\n"
            + "evaluate: {task: logits, data: '"
            + data
            + "', samples: 48, latencyBatchSizes: []}\n");
  }

  static JsonNode json(Path out) throws Exception {
    return new ObjectMapper().readTree(out.resolve("sensitivity.json").toFile());
  }

  static int rank(JsonNode j, String unit) {
    for (JsonNode u : j.get("units")) {
      if (u.get("name").asText().equals(unit)) {
        return u.get("rank").asInt();
      }
    }
    throw new AssertionError("no unit " + unit);
  }

  @Test
  void matrixHasOneRowPerLayerAndRanksTheDominantLayerFirst(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("sens");
    Result r =
        run(
            "sensitivity",
            pipeline(dir, false).toString(),
            "--probe",
            "magnitude-pruning sparsity=0.3,0.5,0.7",
            "--probe",
            "rtn-quantization bits=8,4",
            "--target",
            "sparsity=0.5",
            "-o",
            out.toString());
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode j = json(out);
    assertThat(j.get("units")).hasSize(3);
    assertThat(j.get("probes")).hasSize(5);
    for (JsonNode u : j.get("units")) {
      assertThat(u.get("loss")).hasSize(5);
      u.get("loss").forEach(v -> assertThat(v.isNumber()).as(u.toString()).isTrue());
      u.get("loss").forEach(v -> assertThat(v.asDouble()).isGreaterThanOrEqualTo(0));
      assertThat(u.has("skipped")).isFalse();
    }
    assertThat(rank(j, "/c/MatMul")).isEqualTo(1);
    assertThat(rank(j, "/a/MatMul")).isEqualTo(3);
    // Stronger probes lose more on the dominant layer.
    JsonNode c = j.get("units").get(2).get("loss");
    assertThat(c.get(2).asDouble()).isGreaterThan(c.get(0).asDouble());
    assertThat(c.get(4).asDouble()).isGreaterThan(c.get(3).asDouble());
    // ranked table on stdout, most sensitive first
    assertThat(r.out().indexOf("/c/MatMul")).isLessThan(r.out().indexOf("/a/MatMul"));
    assertThat(Files.readAllLines(out.resolve("sensitivity.csv"))).hasSize(4);
    String html = Files.readString(out.resolve("report.html"));
    assertThat(html).contains("data-chart=\"sensitivity\"", "id=\"ranking\"");
    assertThat(html.split("class=\"cell\"", -1)).hasSize(16);
    // the plan at mean sparsity 0.5 gives the irrelevant layer the strongest setting
    Path plan = out.resolve("plan-magnitude-pruning-sparsity.yaml");
    String yaml = Files.readString(plan);
    assertThat(yaml).contains("reached 0.5");
    assertThat(out.resolve("plan-rtn-quantization-bits.yaml")).isRegularFile();
    Result v = run("validate", plan.toString());
    assertThat(v.code()).as(v.err()).isZero();
    Path ran = dir.resolve("ran");
    Result go = run("run", plan.toString(), "--no-evaluate", "--output", ran.toString());
    assertThat(go.code()).as(go.err()).isZero();
    assertThat(ran.resolve("model.onnx")).isRegularFile();
    JsonNode report = new ObjectMapper().readTree(ran.resolve("report.json").toFile());
    assertThat(report.toString()).contains("/a/MatMul");
    assertThat(yaml.substring(yaml.indexOf("sparsity: 0.7") - 200, yaml.indexOf("sparsity: 0.7")))
        .contains("/a/MatMul");
  }

  @Test
  void calibratedProbesShareTheFloatActivations(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("sens");
    Result r =
        run(
            "sensitivity",
            pipeline(dir, true).toString(),
            "--probe",
            "wanda sparsity=0.5",
            "--granularity",
            "layer",
            "-o",
            out.toString());
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode j = json(out);
    assertThat(rank(j, "/c/MatMul")).isEqualTo(1);
    assertThat(rank(j, "/a/MatMul")).isEqualTo(3);
    // the three layers read the same input: captured once, then served from the cache
    assertThat(j.at("/calibrationCache/hits").asLong()).isGreaterThanOrEqualTo(2);
  }

  @Test
  void theProbesOfThePipelineAreUsedWithoutProbeOptions(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("sens");
    Result r =
        run(
            "sensitivity",
            pipeline(dir, false).toString(),
            "--units",
            "re:/[bc]/.*",
            "-o",
            out.toString());
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode j = json(out);
    assertThat(j.get("units")).hasSize(2);
    assertThat(j.at("/probes/0/label").asText()).isEqualTo("magnitude-pruning");
  }

  @Test
  void blockUnitsGroupTheLayersOfEachTransformerBlock(@TempDir Path dir) throws Exception {
    Path enc = dir.resolve("encoder.onnx");
    OnnxWriter.write(TinyModels.encoder(EncoderConfig.tiny(2, 5)), enc);
    PipelineSpec spec =
        PipelineSpec.fromYaml(
            Files.readString(pipeline(dir, false)).replace(model.toString(), enc.toString())
                + "output: {dir: unused}\n");
    SensitivityAnalysis a = new SensitivityAnalysis(PassRegistry.load());
    SensitivityAnalysis.Checked c =
        a.check(
            spec,
            a.probesOf(spec),
            new SensitivityAnalysis.Options(
                Granularity.BLOCK, List.of("re:block [01]"), null, 1, null));
    assertThat(c.units()).extracting(SensitivityUnit::name).containsExactly("block 0", "block 1");
    assertThat(c.units().get(1).layers())
        .hasSize(6)
        .allMatch(l -> l.startsWith("/encoder/layer.1/"));
    assertThat(c.units().get(0).parameters()).isEqualTo(4L * 32 * 32 + 2L * 32 * 64);
  }

  static void refused(Path dir, String expected, String... extra) throws Exception {
    Path out = dir.resolve("sens");
    String[] args =
        Stream.concat(
                Stream.of("sensitivity", pipeline(dir, false).toString(), "-o", out.toString()),
                Stream.of(extra))
            .toArray(String[]::new);
    Result r = run(args);
    assertThat(r.code()).as(r.out() + r.err()).isEqualTo(CompressCommand.USAGE);
    assertThat(r.err()).contains(expected);
    assertThat(r.err().strip().lines().count()).as(r.err()).isEqualTo(1);
    assertThat(out).doesNotExist();
  }

  @Test
  void anUnknownProbePassIsOneLineAndWritesNothing(@TempDir Path dir) throws Exception {
    refused(
        dir,
        "--probe 'wandaa sparsity=0.5': unknown pass 'wandaa'",
        "--probe",
        "wandaa sparsity=0.5");
  }

  @Test
  void aBadRatioNamesItsKey(@TempDir Path dir) throws Exception {
    refused(
        dir,
        "--probe 'magnitude-pruning sparsity=0.5,1.5': sparsity must be in [0, 1), found 1.5",
        "--probe",
        "magnitude-pruning sparsity=0.5,1.5");
  }

  @Test
  void badBitsNameTheirKey(@TempDir Path dir) throws Exception {
    refused(dir, "--probe 'rtn-quantization bits=3': bits", "--probe", "rtn-quantization bits=3");
  }

  @Test
  void aUnitSelectorMatchingNothingIsRefused(@TempDir Path dir) throws Exception {
    refused(dir, "--units 're:.*nothing.*' matches no linear layer", "--units", "re:.*nothing.*");
  }

  @Test
  void aTargetOutOfRangeIsRefused(@TempDir Path dir) throws Exception {
    refused(dir, "--target sparsity must be in [0, 1), found 1.5", "--target", "sparsity=1.5");
  }
}
