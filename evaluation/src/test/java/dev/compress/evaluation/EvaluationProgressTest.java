package dev.compress.evaluation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.api.pass.ProgressListener;
import dev.compress.api.pipeline.EvaluateSpec;
import dev.compress.evaluation.bench.Bench;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pipeline's evaluation reports its steps, so a long evaluation is not silent. */
class EvaluationProgressTest {
  /** Records every call as one line. */
  static final class Recorder implements ProgressListener {
    final List<String> events = new ArrayList<>();

    @Override
    public void start(String task, int total, String unit) {
      events.add("start " + task + " " + total + " " + unit);
    }

    @Override
    public void step(String task, int done, int total, String item) {
      events.add("step " + done + "/" + total + " " + item);
    }

    @Override
    public void finish(String task) {
      events.add("finish " + task);
    }
  }

  @Test
  void eachStepOfTheEvaluationReachesTheListener(@TempDir Path dir) throws Exception {
    Path a = TinyModels.linear(dir.resolve("a.onnx"), new float[][] {{1, 0}, {0, 1}});
    Path b = TinyModels.linear(dir.resolve("b.onnx"), new float[][] {{1, 0.1f}, {0, 0.9f}});
    Path csv = dir.resolve("data.csv");
    Files.writeString(csv, "label,f0,f1\n0,3,1\n1,0,2\n");
    EvaluateSpec spec =
        EvaluateSpec.builder(csv.toString())
            .task("classification")
            .samples(2)
            .latencyBatchSizes(1, 2)
            .sequenceLength(16)
            .iterations(2)
            .gates(Map.of())
            .build();
    Recorder r = new Recorder();
    new SideBySideEvaluator(1).evaluate(spec, a, b, a.toString(), r);
    assertThat(r.events).hasSize(7);
    assertThat(r.events.get(0)).isEqualTo("start " + Bench.TASK + " 4 steps");
    assertThat(r.events.get(1)).startsWith("step 0/4 loading 2 model(s) in ONNX Runtime");
    assertThat(r.events.subList(2, 7))
        .containsExactly(
            "step 1/4 task classification on " + csv,
            "step 2/4 latency: batch 1",
            "step 3/4 latency: batch 2",
            "step 4/4 ",
            "finish " + Bench.TASK);
  }
}
