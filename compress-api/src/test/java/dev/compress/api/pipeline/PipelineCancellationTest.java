package dev.compress.api.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.ProgressListener;
import dev.compress.api.pipeline.PipelineFixtures.FakeCalibrationLoader;
import dev.compress.api.pipeline.PipelineFixtures.FakeEvaluator;
import dev.compress.api.pipeline.ScaleWeightsConfig.Mode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A run stopped from another thread leaves nothing behind and names the step it stopped in. */
class PipelineCancellationTest {
  private static final PassRegistry REGISTRY = PassRegistry.load();

  @TempDir Path tmp;
  private Path model;
  private Path work;
  private final PipelineRunner runner =
      new PipelineRunner(
          REGISTRY, List.of(new FakeCalibrationLoader()), List.of(new FakeEvaluator(List.of())));

  @BeforeEach
  void setUp() throws IOException {
    model = PipelineFixtures.writeMlp(tmp.resolve("mlp.onnx"));
    work = Files.createDirectory(tmp.resolve("work"));
  }

  private PipelineSpec spec(int passes) {
    PipelineSpec.Builder b =
        PipelineSpec.builder().model(model).output(work.resolve("out")).registry(REGISTRY);
    for (int i = 0; i < passes; i++) {
      b.pass(
          new ScaleWeightsConfig(
              LayerSelection.ALL, 0.5, 0, -1, Integer.MAX_VALUE, Mode.SCALE, List.of()));
    }
    return b.build();
  }

  private static List<String> entries(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  /**
   * The pass reports its first layer, then waits until another thread has cancelled; the run must
   * stop at the pass's next report, inside the pass.
   */
  @Test
  void cancelFromAnotherThreadStopsInsideThePassAndLeavesNothing() throws Exception {
    byte[] input = Files.readAllBytes(model);
    Cancellation token = Cancellation.create();
    CountDownLatch firstLayer = new CountDownLatch(1);
    CountDownLatch cancelled = new CountDownLatch(1);
    AtomicInteger steps = new AtomicInteger();
    ProgressListener listener =
        new ProgressListener() {
          @Override
          public void step(String pass, int done, int total, String item) {
            if (steps.incrementAndGet() == 1) {
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
                if (firstLayer.await(30, TimeUnit.SECONDS)) {
                  token.cancel();
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              } finally {
                cancelled.countDown();
              }
            });
    stopper.start();
    RunOptions options = RunOptions.defaults().withProgress(listener).withCancellation(token);
    assertThatThrownBy(() -> runner.run(spec(2), options))
        .isInstanceOf(RunCancelledException.class)
        .hasMessage("run cancelled while applying passes[0] (scale-weights); nothing was written")
        .extracting(e -> ((RunCancelledException) e).step())
        .isEqualTo("applying passes[0] (scale-weights)");
    stopper.join();
    assertThat(steps.get()).isEqualTo(1); // stopped at the second layer's report, not after
    assertThat(entries(work)).isEmpty(); // no output, no staging folder
    assertThat(Files.readAllBytes(model)).isEqualTo(input);
  }

  @Test
  void cancelledBeforeTheRunWritesNothingAndKeepsAnExistingOutput() throws Exception {
    Path out = Files.createDirectory(work.resolve("out"));
    Files.writeString(out.resolve("keep.txt"), "earlier result");
    Cancellation token = Cancellation.create();
    token.cancel();
    assertThatThrownBy(
            () ->
                runner.run(
                    spec(1), RunOptions.defaults().withOverwrite(true).withCancellation(token)))
        .isInstanceOf(RunCancelledException.class)
        .hasMessageContaining("applying passes[0]");
    assertThat(entries(work)).containsExactly("out");
    assertThat(entries(out)).containsExactly("keep.txt");
  }

  @Test
  void anUncancelledTokenChangesNothing() throws Exception {
    Cancellation token = Cancellation.create();
    RunResult r = runner.run(spec(2), RunOptions.defaults().withCancellation(token));
    assertThat(r.model()).isRegularFile();
    assertThat(r.passes()).hasSize(2);
    assertThatThrownBy(() -> Cancellation.never().cancel())
        .isInstanceOf(UnsupportedOperationException.class);
  }
}
