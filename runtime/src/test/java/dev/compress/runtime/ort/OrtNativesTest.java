package dev.compress.runtime.ort;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A JVM that used ONNX Runtime leaves no {@code onnxruntime-java*} folder in its temp directory
 * (before {@link OrtNatives}, every evaluating run left one), and removes those that killed runs of
 * this toolkit left, never another program's.
 */
class OrtNativesTest {
  private static List<String> entries(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  private static long deadPid() throws Exception {
    Process p = new ProcessBuilder("true").start();
    p.waitFor();
    return p.pid();
  }

  @Test
  void theExtractedNativeLibrariesAreDeletedWhenTheJvmExits(@TempDir Path tmp) throws Exception {
    Path killed = Files.createDirectory(tmp.resolve("onnxruntime-java111"));
    Files.writeString(killed.resolve("libonnxruntime.so"), "20 MB");
    Files.writeString(
        killed.resolve(OrtNatives.MARKER),
        "pid=" + deadPid() + "\nstart=" + java.time.Instant.now() + "\n");
    Path unmarked = Files.createDirectory(tmp.resolve("onnxruntime-java222")); // another program's
    Path live = Files.createDirectory(tmp.resolve("onnxruntime-java333")); // a running one's
    dev.compress.api.io.OwnerMarker.write(live.resolve(OrtNatives.MARKER), java.util.Map.of());
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Process p =
        new ProcessBuilder(
                java.toString(),
                "-Djava.io.tmpdir=" + tmp,
                "-cp",
                System.getProperty("java.class.path"),
                OrtNativesMain.class.getName())
            .redirectErrorStream(true)
            .start();
    String printed = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(5, TimeUnit.MINUTES)).as("the JVM ended").isTrue(); // a hang guard
    assertThat(p.exitValue()).as(printed).isZero();
    // It loaded ONNX Runtime from a folder it extracted into this temp dir, which existed then ...
    assertThat(printed).contains("version 1.").contains("folder " + tmp).contains("exists=true");
    // ... and is gone now.
    assertThat(entries(tmp))
        .as(printed)
        .containsExactly(unmarked.getFileName().toString(), live.getFileName().toString());
  }
}
