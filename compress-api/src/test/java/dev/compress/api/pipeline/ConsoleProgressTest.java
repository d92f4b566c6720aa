package dev.compress.api.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ConsoleProgressTest {
  private long now;

  private ConsoleProgress progress(StringWriter sw, boolean terminal) {
    return new ConsoleProgress(new PrintWriter(sw), terminal, 100, () -> now, Duration.ZERO, false);
  }

  private ConsoleProgress delayed(StringWriter sw, boolean terminal) {
    return new ConsoleProgress(
        new PrintWriter(sw), terminal, 100, () -> now, Duration.ofSeconds(1), false);
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
    assertThat(lines[1]).isEqualTo("rtn: 4/37 layers (10%), elapsed 0:04, ETA 0:33: layer4");
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
  void aTaskFinishedWithinTheDelayShowsNothing() {
    for (boolean terminal : new boolean[] {false, true}) {
      StringWriter sw = new StringWriter();
      ConsoleProgress p = delayed(sw, terminal);
      p.start("rtn", 36);
      for (int i = 1; i <= 36; i++) {
        now += 20_000_000L; // 20 ms per layer: 0.72 s in all
        p.step("rtn", i, 36, "layer" + i);
      }
      p.tick();
      p.finish("rtn");
      p.close();
      assertThat(sw.toString()).isEmpty();
    }
  }

  @Test
  void aTaskPastTheDelayIsShownFromTheNextStep() {
    StringWriter sw = new StringWriter();
    ConsoleProgress p = delayed(sw, false);
    p.start("gptq", 10);
    now += 600_000_000L;
    p.step("gptq", 1, 10, "a"); // 0.6 s: not yet
    now += 600_000_000L;
    p.step("gptq", 2, 10, "b"); // 1.2 s: shown
    now += 600_000_000L;
    p.step("gptq", 3, 10, "c");
    p.finish("gptq");
    assertThat(sw.toString().split("\\R"))
        .containsExactly(
            "gptq: 2/10 layers (20%), elapsed 0:01, ETA 0:04: b",
            "gptq: 3/10 layers (30%), elapsed 0:01, ETA 0:04: c",
            "gptq: done, 3/10 layers in 0:01");
  }

  @Test
  void theTimerShowsATaskWhoseFirstStepIsSlow() {
    StringWriter sw = new StringWriter();
    ConsoleProgress p = delayed(sw, false);
    p.start("evaluate", 7, "steps");
    p.step("evaluate", 0, 7, "loading 2 model(s)");
    now += 500_000_000L;
    p.tick(); // 0.5 s: nothing yet
    assertThat(sw.toString()).isEmpty();
    now += 600_000_000L;
    p.tick();
    assertThat(sw.toString())
        .isEqualTo("evaluate: 7 steps: loading 2 model(s)" + System.lineSeparator());
  }

  @Test
  void onATerminalTheTimerKeepsTheClockRunningAndCloseEndsTheLine() {
    StringWriter sw = new StringWriter();
    ConsoleProgress p = delayed(sw, true);
    p.start("evaluate", 4, "steps");
    p.step("evaluate", 1, 4, "task embedding-fidelity");
    now += 1_500_000_000L;
    p.tick();
    now += 1_000_000_000L;
    p.tick();
    p.close(); // a failure: no "done" line, but the bar's line is ended
    String[] frames = sw.toString().split("\r", -1);
    assertThat(frames).hasSize(3);
    assertThat(frames[1]).startsWith("evaluate [#####...............] 1/4 0:01 ");
    assertThat(frames[2]).startsWith("evaluate [#####...............] 1/4 0:02 ");
    assertThat(frames[2]).contains("task embedding-fidelity").endsWith(System.lineSeparator());
  }

  @Test
  void aLongStepIsCutAtItsEndALayerNameAtItsStart() {
    StringWriter sw = new StringWriter();
    ConsoleProgress p = progress(sw, true);
    p.start("evaluate", 4, "steps");
    now += 1_000_000_000L;
    p.step("evaluate", 0, 4, "loading 2 model(s) in " + "ONNX Runtime ".repeat(10));
    p.finish("evaluate");
    p.start("rtn", 2);
    now += 1_000_000_000L;
    p.step("rtn", 1, 2, "/encoder".repeat(20) + "/layer.5/output/dense/MatMul");
    String[] frames = sw.toString().split("\r", -1);
    assertThat(frames[2]).contains("loading 2 model(s) in ONNX").endsWith("...");
    assertThat(frames[5]).contains(" ...").endsWith("/layer.5/output/dense/MatMul");
  }

  @Test
  void durationsUseMinutesAndHours() {
    assertThat(ConsoleProgress.duration(59_000_000_000L)).isEqualTo("0:59");
    assertThat(ConsoleProgress.duration(3_725_000_000_000L)).isEqualTo("1:02:05");
  }
}
