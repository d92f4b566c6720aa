package dev.compress.api.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class ConsoleProgressTest {
  private long now;

  private ConsoleProgress progress(StringWriter sw, boolean terminal) {
    return new ConsoleProgress(new PrintWriter(sw), terminal, 100, () -> now);
  }

  @Test
  void plainOutputLogsStartEveryTenthAndFinish() {
    StringWriter sw = new StringWriter();
    ConsoleProgress p = progress(sw, false);
    p.start("rtn", 37);
    for (int i = 1; i <= 37; i++) {
      now += 1_000_000_000L; // one second per layer
      p.step("rtn", i, 37, "layer" + i);
    }
    p.finish("rtn");
    String[] lines = sw.toString().split("\\R");
    assertThat(lines[0]).isEqualTo("rtn: 37 layers");
    assertThat(lines[1]).isEqualTo("rtn: 4/37 layers (10%), elapsed 0:04, ETA 0:33");
    assertThat(lines).hasSize(1 + 9 + 1); // start, 10%..90%, done
    assertThat(lines[10]).isEqualTo("rtn: done, 37/37 layers in 0:37");
    assertThat(sw.toString()).doesNotContain("\r");
  }

  @Test
  void terminalOutputRedrawsOneLineWithBarAndEta() {
    StringWriter sw = new StringWriter();
    ConsoleProgress p = progress(sw, true);
    p.start("magnitude-pruning", 4);
    now += 2_000_000_000L;
    p.step("magnitude-pruning", 1, 4, "/encoder/layer.0/attention/self/query/MatMul");
    now += 2_000_000_000L;
    p.step("magnitude-pruning", 2, 4, "/b");
    now += 1_000L; // too soon after the last redraw: skipped
    p.step("magnitude-pruning", 3, 4, "/c");
    now += 4_000_000_000L;
    p.step("magnitude-pruning", 4, 4, "/d"); // the last step always draws
    p.finish("magnitude-pruning");
    String out = sw.toString();
    String[] frames = out.split("\r", -1);
    assertThat(frames).hasSize(1 + 5); // "" + start, 1, 2, 4, finish
    assertThat(frames[2]).startsWith("magnitude-pruning [#####...............] 1/4 0:02 ETA 0:06 ");
    assertThat(frames[2].stripTrailing()).endsWith("query/MatMul");
    assertThat(frames[3])
        .startsWith("magnitude-pruning [##########..........] 2/4 0:04 ETA 0:04 /b");
    assertThat(frames[4])
        .startsWith("magnitude-pruning [####################] 4/4 0:08 ETA 0:00 /d");
    assertThat(frames[5]).startsWith("magnitude-pruning: done, 4/4 layers in 0:08").endsWith("\n");
    for (int i = 1; i < 5; i++) {
      assertThat(frames[i]).hasSize(99); // padded to the width, so shorter lines cover longer ones
    }
  }

  @Test
  void durationsUseMinutesAndHours() {
    assertThat(ConsoleProgress.duration(59_000_000_000L)).isEqualTo("0:59");
    assertThat(ConsoleProgress.duration(3_725_000_000_000L)).isEqualTo("1:02:05");
  }
}
