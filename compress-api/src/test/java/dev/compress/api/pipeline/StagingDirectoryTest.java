package dev.compress.api.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Staging folders carry a marker naming their process, so the next run removes those an interrupted
 * run (SIGKILL) left behind, and nothing else.
 */
class StagingDirectoryTest {
  @TempDir Path work;

  private static long deadPid() throws Exception {
    Process p = new ProcessBuilder("true").start();
    p.waitFor();
    return p.pid(); // reaped: no process has it now
  }

  private static Path staging(Path dir, long pid, Instant start, Path target) throws IOException {
    Files.createDirectory(dir);
    Files.writeString(dir.resolve("model.onnx"), "partial");
    Files.writeString(
        dir.resolve(StagingDirectory.MARKER),
        "pid=" + pid + "\nstart=" + (start == null ? "" : start) + "\ntarget=" + target + "\n");
    return dir;
  }

  private static String[] entries(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toArray(String[]::new);
    }
  }

  @Test
  void theMarkerNamesThisProcessAndDoesNotReachTheOutput() throws Exception {
    Path target = work.resolve("out");
    try (StagingDirectory s = StagingDirectory.create(target)) {
      String marker = Files.readString(s.dir().resolve(StagingDirectory.MARKER));
      assertThat(marker)
          .contains("pid=" + ProcessHandle.current().pid() + "\n")
          .contains("target=" + target + "\n")
          .containsPattern("start=\\d{4}-");
      Files.writeString(s.dir().resolve("model.onnx"), "m");
      s.commit(false);
    }
    assertThat(entries(target)).containsExactly("model.onnx");
    assertThat(entries(work)).containsExactly("out");
  }

  @Test
  void staleFoldersOfThisTargetAreRemovedAndNothingElse() throws Exception {
    Path target = work.resolve("out");
    ProcessHandle self = ProcessHandle.current();
    Instant selfStart = self.info().startInstant().orElseThrow();
    staging(work.resolve(".out.tmp-dead"), deadPid(), Instant.now(), target);
    // the pid is running but started after the marker was written: a reused pid
    staging(work.resolve(".out.tmp-reused"), self.pid(), selfStart.minusSeconds(3600), target);
    staging(work.resolve(".out.tmp-live"), self.pid(), selfStart, target); // a concurrent run
    staging(work.resolve(".out.tmp-nostart"), self.pid(), null, target);
    staging(work.resolve(".out.tmp-other"), deadPid(), Instant.now(), work.resolve("x/out"));
    staging(work.resolve(".outer.tmp-dead"), deadPid(), Instant.now(), work.resolve("outer"));
    Files.createDirectory(work.resolve(".out.tmp-nomarker")); // not ours, or still being set up
    Files.writeString(work.resolve(".out.tmp-file"), "not a folder");
    Path bad = Files.createDirectory(work.resolve(".out.tmp-garbled"));
    Files.writeString(bad.resolve(StagingDirectory.MARKER), "pid=x\n");
    Path linked = staging(work.resolve("elsewhere"), deadPid(), Instant.now(), target);
    Files.createSymbolicLink(work.resolve(".out.tmp-link"), linked);

    try (StagingDirectory s = StagingDirectory.create(target)) {
      assertThat(s.dir().getFileName().toString()).startsWith(".out.tmp-");
    }

    assertThat(entries(work))
        .containsExactly(
            ".out.tmp-file",
            ".out.tmp-garbled",
            ".out.tmp-link",
            ".out.tmp-live",
            ".out.tmp-nomarker",
            ".out.tmp-nostart",
            ".out.tmp-other",
            ".outer.tmp-dead",
            "elsewhere");
    assertThat(entries(linked)).contains("model.onnx"); // a link is never followed
  }

  @Test
  void aRunRemovesWhatAKilledRunLeft() throws Exception {
    Path model = PipelineFixtures.writeMlp(work.resolve("mlp.onnx"));
    Path target = work.resolve("out");
    staging(work.resolve(".out.tmp-0badf00d"), deadPid(), Instant.now(), target);
    PipelineRunner runner =
        new PipelineRunner(PassRegistry.load(), java.util.List.of(), java.util.List.of());
    runner.run(
        PipelineSpec.builder()
            .model(model)
            .output(target)
            .pass(
                new ScaleWeightsConfig(
                    dev.compress.api.pass.LayerSelection.ALL,
                    0.5,
                    0,
                    -1,
                    Integer.MAX_VALUE,
                    ScaleWeightsConfig.Mode.SCALE,
                    java.util.List.of()))
            .build(),
        RunOptions.defaults());
    assertThat(entries(work)).containsExactly("mlp.onnx", "out");
    assertThat(entries(target)).containsExactly("manifest.json", "model.onnx", "report.json");
  }
}
