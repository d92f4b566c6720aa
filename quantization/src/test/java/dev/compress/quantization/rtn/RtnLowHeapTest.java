package dev.compress.quantization.rtn;

import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.api.io.BuiltinModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RTN streams weights: 8-bit per-channel RTN with {@code embeddings: true} on the 90 MB MiniLM
 * completes in a JVM with a 64 MiB heap (it needed more than 120 MiB when every weight was copied
 * to a float array; measured: 48 MiB is enough now, 44 MiB is not).
 */
class RtnLowHeapTest {
  @Test
  void miniLmWithEmbeddingsQuantizesInAHeapWellBelowTheModelSize(@TempDir Path dir)
      throws Exception {
    Path model = BuiltinModels.resolve("builtin:all-minilm-l6-v2");
    assertThat(Files.size(model)).isGreaterThan(85L << 20);
    Path out = dir.resolve("model.onnx");
    Path log = dir.resolve("log.txt");
    Process p =
        new ProcessBuilder(
                List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx64m",
                    "-XX:TieredStopAtLevel=1",
                    "-cp",
                    System.getProperty("java.class.path"),
                    RtnLowHeapMain.class.getName(),
                    model.toString(),
                    out.toString()))
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    if (!p.waitFor(5, TimeUnit.MINUTES)) {
      p.destroyForcibly();
    }
    assertThat(p.exitValue()).as(Files.readString(log)).isZero();
    assertThat(Files.size(out)).isBetween(20L << 20, 25L << 20); // measured 22.1 MiB
  }
}
