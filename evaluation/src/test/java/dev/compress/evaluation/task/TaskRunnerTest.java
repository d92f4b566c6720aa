package dev.compress.evaluation.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.compress.api.ConfigException;
import dev.compress.api.exec.Device;
import dev.compress.api.exec.Executor;
import dev.compress.evaluation.TinyModels;
import dev.compress.evaluation.engine.EngineKind;
import dev.compress.evaluation.engine.EngineSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Tasks on tiny graphs with answers computed by hand, on both engines. */
class TaskRunnerTest {
  // Next-token probabilities of a 3-token bigram model; rows sum to 1.
  static final double[][] P = {{0.7, 0.2, 0.1}, {0.1, 0.8, 0.1}, {0.25, 0.25, 0.5}};

  static float[][] logP(double[][] p) {
    float[][] e = new float[p.length][p.length];
    for (int i = 0; i < p.length; i++) {
      for (int j = 0; j < p.length; j++) {
        e[i][j] = (float) Math.log(p[i][j]);
      }
    }
    return e;
  }

  static EngineSpec engine(EngineKind k) {
    return new EngineSpec(k, Device.CPU, false, 1);
  }

  @ParameterizedTest
  @EnumSource(EngineKind.class)
  void perplexityOfABigramModelIsKnown(EngineKind kind, @TempDir Path dir) throws Exception {
    Path a = TinyModels.bigram(dir.resolve("a.onnx"), logP(P));
    float[][] e2 = logP(P);
    e2[0][0] = (float) Math.log(0.1); // token 0 now predicts 0 with 0.1 before softmax renorm
    Path b = TinyModels.bigram(dir.resolve("b.onnx"), e2);
    Path ids = dir.resolve("seqs.ids");
    Files.writeString(ids, "0 0 1 1 2\n2 0 0\n");
    // Transitions: 0>0, 0>1, 1>1, 1>2, 2>0, 0>0
    double nll =
        -(Math.log(0.7)
                + Math.log(0.2)
                + Math.log(0.8)
                + Math.log(0.1)
                + Math.log(0.25)
                + Math.log(0.7))
            / 6;
    try (Executor x = engine(kind).open(a);
        Executor y = engine(kind).open(b)) {
      TaskOutcome o =
          TaskRunner.run(
              new TaskSpec(TaskKind.PERPLEXITY, ids.toString(), 2, "", 1),
              List.of(x, y),
              Optional.empty(),
              List.of());
      assertThat(o.perVariant().get(0).get("perplexity")).isCloseTo(Math.exp(nll), within(1e-5));
      assertThat(o.perVariant().get(0).get("logits.kl")).isEqualTo(0.0);
      assertThat(o.perVariant().get(0).get("top1.agreement")).isEqualTo(1.0);
      // Variant b: row 0 becomes softmax(log [0.1, 0.2, 0.1]) = [0.25, 0.5, 0.25], argmax 1.
      double nllB =
          -(2 * Math.log(0.25) + Math.log(0.5) + Math.log(0.8) + Math.log(0.1) + Math.log(0.25))
              / 6;
      assertThat(o.perVariant().get(1).get("perplexity")).isCloseTo(Math.exp(nllB), within(1e-5));
      // 3 of 6 positions read row 0, whose argmax moved from 0 to 1.
      assertThat(o.perVariant().get(1).get("top1.agreement")).isCloseTo(0.5, within(1e-12));
      assertThat(o.perVariant().get(1).get("logits.kl")).isPositive();
      assertThat(o.data().get("sequences").count()).isEqualTo(2);
      assertThat(o.data().get("sequences").sha256()).hasSize(64);
    }
  }

  @ParameterizedTest
  @EnumSource(EngineKind.class)
  void classificationTop1AndAgreement(EngineKind kind, @TempDir Path dir) throws Exception {
    // logits = x W with W = I(3) (x has 3 features): the prediction is the largest feature.
    Path a =
        TinyModels.linear(dir.resolve("a.onnx"), new float[][] {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}});
    // Swapped columns 1 and 2: predictions 1 and 2 trade places.
    Path b =
        TinyModels.linear(dir.resolve("b.onnx"), new float[][] {{1, 0, 0}, {0, 0, 1}, {0, 1, 0}});
    Path csv = dir.resolve("data.csv");
    Files.writeString(csv, "label,f0,f1,f2\n0,3,1,0\n1,0,2,1\n2,0,1,5\n1,2,1,0\n");
    try (Executor x = engine(kind).open(a);
        Executor y = engine(kind).open(b)) {
      TaskOutcome o =
          TaskRunner.run(
              new TaskSpec(TaskKind.CLASSIFICATION, csv.toString(), 100, "", 3),
              List.of(x, y),
              Optional.empty(),
              List.of());
      Map<String, Double> m0 = o.perVariant().get(0);
      Map<String, Double> m1 = o.perVariant().get(1);
      assertThat(m0.get("top1.accuracy")).isEqualTo(0.75); // predictions 0,1,2,0
      assertThat(m1.get("top1.accuracy")).isEqualTo(0.25); // predictions 0,2,1,0
      assertThat(m1.get("top1.agreement")).isEqualTo(0.5);
      assertThat(m1.get("logits.kl")).isPositive();
      assertThat(o.data().get("inputs").count()).isEqualTo(4);
    }
  }

  @Test
  void classificationNeedsLabels(@TempDir Path dir) throws Exception {
    Path a = TinyModels.linear(dir.resolve("a.onnx"), new float[][] {{1, 0}, {0, 1}});
    Path json = dir.resolve("x.json");
    Files.writeString(json, "[[1, 0], [0, 1]]");
    try (Executor x = engine(EngineKind.ONNXRUNTIME).open(a)) {
      assertThatThrownBy(
              () ->
                  TaskRunner.run(
                      new TaskSpec(TaskKind.CLASSIFICATION, json.toString(), 2, "", 2),
                      List.of(x),
                      Optional.empty(),
                      List.of()))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("needs labels");
      Path labels = dir.resolve("y.txt");
      Files.writeString(labels, "0\n0\n");
      TaskOutcome o =
          TaskRunner.run(
              new TaskSpec(TaskKind.CLASSIFICATION, json.toString(), 2, labels.toString(), 2),
              List.of(x),
              Optional.empty(),
              List.of());
      assertThat(o.perVariant().get(0).get("top1.accuracy")).isEqualTo(0.5);
    }
  }
}
