package dev.compress.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledOnOs;
import org.junit.jupiter.api.condition.OS;

/**
 * The launcher's stderr filter ({@code .mvn/stderr-filter.sh}): drops the JVM's boot-time incubator
 * warning and nothing else.
 */
@DisabledOnOs(OS.WINDOWS)
class StderrFilterTest {
  static final Path SCRIPT = Path.of("..", ".mvn", "stderr-filter.sh").toAbsolutePath();
  static final String WARNING = "WARNING: Using incubator modules: jdk.incubator.vector\n";

  static String filter(String input) throws Exception {
    assertThat(SCRIPT).isRegularFile();
    Process p =
        new ProcessBuilder("sh", "-c", ". \"$0\"; compress_stderr_filter", SCRIPT.toString())
            .redirectErrorStream(true)
            .start();
    try (OutputStream in = p.getOutputStream()) {
      in.write(input.getBytes(StandardCharsets.UTF_8));
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    p.getInputStream().transferTo(out);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isZero();
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void dropsTheIncubatorWarningAndKeepsEverythingElseByteForByte() throws Exception {
    String rest = "error: no such file: x.onnx\nrtn [###.] 1/4\rrtn [####] 4/4\nlast, no newline";
    assertThat(filter(WARNING + rest)).isEqualTo(rest);
  }

  @Test
  void keepsJvmLinesBeforeTheWarningAndBootErrorsWithoutIt() throws Exception {
    assertThat(filter("OpenJDK 64-Bit Server VM warning: x\n" + WARNING + "out\n"))
        .isEqualTo("OpenJDK 64-Bit Server VM warning: x\nout\n");
    String boot = "Invalid maximum heap size: -Xmx1q\nError: Could not create the Java VM.\n";
    assertThat(filter(boot)).isEqualTo(boot);
  }

  @Test
  void onlyTheFirstWarningIsDropped() throws Exception {
    assertThat(filter(WARNING + "x\n" + WARNING)).isEqualTo("x\n" + WARNING);
  }
}
