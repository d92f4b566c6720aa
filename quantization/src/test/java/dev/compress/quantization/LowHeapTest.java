package dev.compress.quantization;

import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.api.io.BuiltinModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The data-free passes stream weights a block of rows at a time from the memory-mapped model: on
 * the 90 MB MiniLM each completes (pass and writing) in a JVM whose heap is well below the model's
 * size, where copying every weight to a float array needed more. Heap needed by {@code compress
 * run} of the same pass, before and after (measured): rtn 8-bit + embeddings 128 -> 48 MiB,
 * ptq-dynamic + embeddings 96 -> 52 MiB, fp8 per channel 40 -> 24 MiB.
 */
class LowHeapTest {
  @ParameterizedTest(name = "{0} in -Xmx{1}m")
  @CsvSource({
    "rtn8-embeddings, 64, 20, 25", // output measured 22.1 MiB
    "rtn4, 64, 14, 19", // embeddings 8-bit, layers 4-bit; measured 16.5 MiB
    "ptq-dynamic-embeddings, 64, 20, 25", // measured 22.1 MiB
    "fp8, 32, 54, 60" // embeddings stay f32; measured 56.1 MiB
  })
  void aDataFreePassOnMiniLmNeedsLessHeapThanTheModel(
      String pass, int heapMib, long minOutMib, long maxOutMib, @TempDir Path dir)
      throws Exception {
    Path model = BuiltinModels.resolve("builtin:all-minilm-l6-v2");
    assertThat(Files.size(model)).isGreaterThan(85L << 20);
    Path out = dir.resolve("model.onnx");
    Path log = dir.resolve("log.txt");
    Process p =
        new ProcessBuilder(
                List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx" + heapMib + "m",
                    "-XX:TieredStopAtLevel=1",
                    "-cp",
                    System.getProperty("java.class.path"),
                    LowHeapMain.class.getName(),
                    pass,
                    model.toString(),
                    out.toString()))
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    if (!p.waitFor(5, TimeUnit.MINUTES)) {
      p.destroyForcibly().waitFor();
    }
    assertThat(p.exitValue()).as(Files.readString(log)).isZero();
    assertThat(Files.size(out)).isBetween(minOutMib << 20, maxOutMib << 20);
  }
}
