package dev.compress.cli;

import static dev.compress.cli.InspectCommandTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.api.OutOfMemoryException;
import dev.compress.api.pass.PassProvider;
import dev.compress.cli.InspectCommandTest.Result;
import dev.compress.fixtures.OutOfMemoryPassProvider;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Running out of heap: one line naming the step, a HINT with a heap size, exit 1, no output. */
class OutOfMemoryTest {
  @Test
  void aPassRunningOutOfMemoryIsOneLineWithTheStepAndAHint(@TempDir Path dir) throws Exception {
    // Register the test-only pass through a class loader of this test's own.
    Path services = dir.resolve("services/META-INF/services");
    Files.createDirectories(services);
    Files.writeString(
        services.resolve(PassProvider.class.getName()),
        OutOfMemoryPassProvider.class.getName() + "\n");
    Path work = Files.createDirectory(dir.resolve("work"));
    Path out = work.resolve("out");
    Path p =
        RunCommandTest.yaml(
            dir,
            "passes:\n  - type: "
                + OutOfMemoryPassProvider.TYPE
                + "\noutput: {dir: "
                + out
                + "}\n");
    Thread thread = Thread.currentThread();
    ClassLoader before = thread.getContextClassLoader();
    Result r;
    try (URLClassLoader cl =
        new URLClassLoader(new URL[] {dir.resolve("services").toUri().toURL()}, before)) {
      thread.setContextClassLoader(cl);
      r = run("run", p.toString());
    } finally {
      thread.setContextClassLoader(before);
    }

    assertThat(r.code()).as(r.err()).isEqualTo(CompressCommand.FAILURE);
    String suggested = OutOfMemoryException.suggestedMaxHeap(Runtime.getRuntime().maxMemory());
    assertThat(r.err().strip())
        .startsWith("error: out of memory (Java heap space) while applying passes[0] (")
        .contains(OutOfMemoryPassProvider.TYPE + "), with a maximum heap of ")
        .endsWith(
            "HINT: give the JVM more heap, e.g. COMPRESS_JAVA_OPTS=-Xmx"
                + suggested
                + " ./compress ...")
        .doesNotContain("\n", "\tat ");
    try (Stream<Path> left = Files.list(work)) {
      assertThat(left).isEmpty(); // neither out nor a .out.tmp-* staging folder
    }
  }
}
