package dev.compress.cli;

import static dev.compress.cli.InspectCommandTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.compress.cli.InspectCommandTest.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code run --set/--model/--no-evaluate} and {@code --from-manifest [--evaluate]}. */
class RunOverridesTest {
  private static final String LAYER = "/encoder/layer.0/intermediate/dense/MatMul";

  /** Prunes one layer of MiniLM; its evaluate block has a gate no model passes. */
  private static Path pipeline(Path dir) throws Exception {
    return RunCommandTest.yaml(
        dir,
        "passes:\n  - type: magnitude-pruning\n    sparsity: 0.1\n    targets: ['"
            + LAYER
            + "']\n"
            + "evaluate:\n  data: builtin:heldout-sentences\n  samples: 2\n"
            + "  latencyBatchSizes: []\n  sequenceLength: 16\n"
            + "  gates: {cosine.mean: \">= 2\"}\n"
            + "output: {dir: "
            + dir.resolve("out")
            + "}\n");
  }

  @Test
  void setOverridesKeysAndNoEvaluateSkipsTheGate(@TempDir Path dir) throws Exception {
    Path p = pipeline(dir);
    Result r =
        run(
            "run",
            p.toString(),
            "--set",
            "passes[0].sparsity=0.25",
            "--set",
            "seed=3",
            "--no-evaluate");
    assertThat(r.code()).as(r.err()).isZero();
    String manifest = Files.readString(dir.resolve("out/manifest.json"));
    assertThat(manifest)
        .contains("\"sparsity\" : 0.25", "\"seed\" : 3")
        .doesNotContain("\"evaluate\"");
  }

  @Test
  void setWithAnUnknownKeyIsAConfigErrorNamingTheSet(@TempDir Path dir) throws Exception {
    Path p = pipeline(dir);
    Result r = run("run", p.toString(), "--set", "passes[0].sparsty=0.25");
    assertThat(r.code()).isEqualTo(CompressCommand.USAGE);
    assertThat(r.err())
        .contains(
            "--set passes[0].sparsty=0.25: passes[0].sparsty: unknown key; did you mean 'sparsity'?");
    assertThat(dir.resolve("out")).doesNotExist();
    Result v = run("validate", p.toString(), "--set", "passes[0].sparsity=2");
    assertThat(v.code()).isEqualTo(CompressCommand.USAGE);
    assertThat(v.err())
        .contains("--set passes[0].sparsity=2: passes[0].sparsity must be in [0, 1)");
  }

  @Test
  void modelOverridesThePipelinesModel(@TempDir Path dir) throws Exception {
    Path p = pipeline(dir);
    Result r = run("run", p.toString(), "--model", dir.resolve("none.onnx").toString());
    assertThat(r.code()).isEqualTo(CompressCommand.USAGE);
    assertThat(r.err()).contains("no such file", "none.onnx");
  }

  @Test
  void fromManifestDoesNotEvaluateAgainUnlessAsked(@TempDir Path dir) throws Exception {
    Path p = pipeline(dir);
    Result first = run("run", p.toString(), "--no-evaluate");
    assertThat(first.code()).as(first.err()).isZero();
    // Record the evaluate block in the manifest, as a run that evaluated would have.
    Path m = dir.resolve("out/manifest.json");
    ObjectMapper json = new ObjectMapper();
    ObjectNode root = (ObjectNode) json.readTree(m.toFile());
    ObjectNode ev = ((ObjectNode) root.get("pipeline")).putObject("evaluate");
    ev.put("data", "builtin:heldout-sentences").put("samples", 2).put("sequenceLength", 16);
    ev.putArray("latencyBatchSizes");
    ev.putObject("gates").put("cosine.mean", ">= 2");
    json.writeValue(m.toFile(), root);

    Result rerun = run("run", "--from-manifest", m.toString(), "-o", dir.resolve("r1").toString());
    assertThat(rerun.code()).as(rerun.err()).isZero();
    assertThat(rerun.out()).doesNotContain("cosine");

    Result evaluated =
        run(
            "run",
            "--from-manifest",
            m.toString(),
            "-o",
            dir.resolve("r2").toString(),
            "--evaluate");
    assertThat(evaluated.code()).as(evaluated.err()).isEqualTo(CompressCommand.GATE_FAILED);
    assertThat(evaluated.err()).contains("cosine.mean");

    Result both = run("run", p.toString(), "--evaluate", "--no-evaluate");
    assertThat(both.code()).isEqualTo(CompressCommand.USAGE);
  }
}
