package dev.compress.cli;

import static dev.compress.cli.InspectCommandTest.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.compress.api.io.onnx.OnnxWriter;
import dev.compress.cli.InspectCommandTest.Result;
import dev.compress.fixtures.TinyModels;
import dev.compress.runtime.djl.DjlExecutor;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pipeline's {@code device} key and {@code run --device} against the real DJL engine: a GPU is
 * refused at plan time when DJL finds none, {@code auto} falls back and the manifest records the
 * device used. The GPU runs are skipped where DJL finds no GPU.
 */
class RunDeviceTest {
  private static Path pipeline(Path dir, String device) throws Exception {
    Path model = dir.resolve("mlp.onnx");
    OnnxWriter.write(TinyModels.mlp(8, 16, 4, 3), model);
    Path p = dir.resolve("p.yaml");
    Files.writeString(
        p,
        "apiVersion: compress/v1\nkind: Pipeline\nmodel: "
            + model
            + "\n"
            + (device == null ? "" : "device: " + device + "\n")
            + "passes:\n  - type: magnitude-pruning\n    sparsity: 0.5\n"
            + "output: {dir: "
            + dir.resolve("out")
            + "}\n");
    return p;
  }

  private static JsonNode used(Path dir) throws Exception {
    return new ObjectMapper().readTree(dir.resolve("out/manifest.json").toFile()).path("device");
  }

  @Test
  void gpuWithoutOneIsRefusedBeforeAnyWork(@TempDir Path dir) throws Exception {
    assumeThat(DjlExecutor.gpuAvailable()).as("DJL finds a GPU here").isFalse();
    Result r = run("validate", pipeline(dir, "gpu").toString());
    assertThat(r.code()).isEqualTo(CompressCommand.USAGE);
    assertThat(r.err()).contains("device: gpu, but the djl engine finds no GPU on this machine");
    Result flag = run("run", "--device", "gpu", pipeline(dir, null).toString());
    assertThat(flag.code()).isEqualTo(CompressCommand.USAGE);
    assertThat(flag.err()).contains("device: gpu, but the djl engine finds no GPU");
    assertThat(dir.resolve("out")).doesNotExist();
  }

  @Test
  void autoRunsWhereDjlCanAndTheManifestSaysWhere(@TempDir Path dir) throws Exception {
    Result r = run("run", "--device", "auto", pipeline(dir, "cpu").toString());
    assertThat(r.code()).as(r.err()).isZero();
    String expected = DjlExecutor.gpuAvailable() ? "gpu" : "cpu";
    assertThat(used(dir).path("requested").asText()).isEqualTo("auto");
    assertThat(used(dir).path("used").asText()).isEqualTo(expected);
  }

  @Test
  void aBadDeviceFlagIsOneLineWithADidYouMean(@TempDir Path dir) throws Exception {
    Result r = run("run", "--device", "cuda", pipeline(dir, null).toString());
    assertThat(r.code()).isEqualTo(CompressCommand.USAGE);
    assertThat(r.err()).contains("--device must be one of [cpu, gpu, auto], found 'cuda'");
    Result near = run("run", "--device", "gup", pipeline(dir, null).toString());
    assertThat(near.err()).contains("did you mean 'gpu'?");
  }

  @Test
  void gpuRunsOnTheGpuWhenDjlFindsOne(@TempDir Path dir) throws Exception {
    assumeThat(DjlExecutor.gpuAvailable()).as("DJL finds a GPU here").isTrue();
    Result r = run("run", pipeline(dir, "gpu").toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(used(dir).path("used").asText()).isEqualTo("gpu");
  }
}
