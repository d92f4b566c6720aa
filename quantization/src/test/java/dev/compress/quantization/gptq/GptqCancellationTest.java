package dev.compress.quantization.gptq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.io.onnx.OnnxWriter;
import dev.compress.api.io.safetensors.SafetensorsWriter;
import dev.compress.api.pass.ProgressListener;
import dev.compress.api.pipeline.Cancellation;
import dev.compress.api.pipeline.PipelineRunner;
import dev.compress.api.pipeline.PipelineSpec;
import dev.compress.api.pipeline.RunCancelledException;
import dev.compress.api.pipeline.RunOptions;
import dev.compress.fixtures.TinyModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A GPTQ run in a pipeline stopped from another thread after its first layer leaves nothing. */
class GptqCancellationTest {
  @Test
  void gptqStoppedFromAnotherThreadLeavesNothingBehind(@TempDir Path tmp) throws Exception {
    Path model = tmp.resolve("mlp.onnx");
    OnnxWriter.write(TinyModels.mlp(64, 128, 32, 3), model);
    Path data = tmp.resolve("calibration.safetensors");
    SafetensorsWriter.write(data, List.of(TinyModels.mlpInput(5, 256, 64)), Map.of());
    byte[] input = Files.readAllBytes(model);
    Path work = Files.createDirectory(tmp.resolve("work"));
    Path yaml = tmp.resolve("gptq.yaml");
    Files.writeString(
        yaml,
        "apiVersion: compress/v1\nkind: Pipeline\nmodel: "
            + model
            + "\ncalibration: {kind: tensors, source: "
            + data
            + ", samples: 256, batchSize: 64}\npasses:\n  - {type: gptq, bits: 4, groupSize: 32}\n"
            + "output: {dir: "
            + work.resolve("out")
            + "}\n");

    Cancellation token = Cancellation.create();
    CountDownLatch firstLayer = new CountDownLatch(1);
    CountDownLatch cancelled = new CountDownLatch(1);
    ProgressListener listener =
        new ProgressListener() {
          @Override
          public void step(String pass, int done, int total, String item) {
            if (done == 1) {
              firstLayer.countDown();
              try {
                assertThat(cancelled.await(30, TimeUnit.SECONDS)).isTrue();
              } catch (InterruptedException e) {
                throw new AssertionError(e);
              }
            }
          }
        };
    Thread stopper =
        new Thread(
            () -> {
              try {
                if (firstLayer.await(60, TimeUnit.SECONDS)) {
                  token.cancel();
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              } finally {
                cancelled.countDown();
              }
            });
    stopper.start();
    PipelineRunner runner = new PipelineRunner();
    PipelineSpec spec = PipelineSpec.load(yaml, runner.registry());
    assertThatThrownBy(
            () ->
                runner.run(
                    spec, RunOptions.defaults().withProgress(listener).withCancellation(token)))
        .isInstanceOf(RunCancelledException.class)
        .hasMessageContaining("applying passes[0] (gptq)");
    stopper.join();
    try (Stream<Path> left = Files.list(work)) {
      assertThat(left).isEmpty();
    }
    assertThat(Files.readAllBytes(model)).isEqualTo(input);
  }
}
