package dev.compress.evaluation.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.compress.api.ConfigException;
import dev.compress.api.exec.Device;
import dev.compress.api.exec.Executor;
import dev.compress.api.io.BuiltinModels;
import dev.compress.evaluation.TinyModels;
import dev.compress.evaluation.engine.EngineKind;
import dev.compress.evaluation.engine.EngineSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Embedding-fidelity pooling (mean, cls, none) on a tiny encoder with MiniLM's tokenizer. */
class PoolingTest {
  static final String DATA = "builtin:heldout-sentences";

  static TaskOutcome run(Path a, Path b, Pooling p) throws Exception {
    Path tok = BuiltinModels.tokenizer("builtin:all-minilm-l6-v2");
    EngineSpec e = new EngineSpec(EngineKind.ONNXRUNTIME, Device.CPU, false, 1);
    try (Executor x = e.open(a);
        Executor y = e.open(b)) {
      return TaskRunner.run(
          new TaskSpec(TaskKind.EMBEDDING_FIDELITY, DATA, 24, "", 8, p),
          List.of(x, y),
          Optional.of(tok),
          List.of());
    }
  }

  @Test
  void clsAndMeanGiveDifferentCosinesAndRecordThePooling(@TempDir Path dir) throws Exception {
    Path a = TinyModels.encoder(dir.resolve("a.onnx"), 0);
    Path b = TinyModels.encoder(dir.resolve("b.onnx"), 0.3f);
    TaskOutcome mean = run(a, b, Pooling.MEAN);
    TaskOutcome cls = run(a, b, Pooling.CLS);
    TaskOutcome none = run(a, b, Pooling.NONE);
    double m = mean.perVariant().get(1).get("cosine.mean");
    double c = cls.perVariant().get(1).get("cosine.mean");
    double t = none.perVariant().get(1).get("cosine.mean");
    // The [CLS] token is the same id in every sentence: its state is one vector, so all
    // sentences get one cosine; the mean over tokens differs per sentence.
    assertThat(cls.perVariant().get(1).get("cosine.min")).isCloseTo(c, within(1e-6));
    assertThat(Math.abs(m - c)).isGreaterThan(1e-3); // measured mean 0.9552, cls 0.9873
    assertThat(Math.abs(t - m)).isGreaterThan(1e-3); // measured none 0.9477
    assertThat(mean.perVariant().get(0).get("cosine.mean")).isCloseTo(1, within(1e-6));
    assertThat(mean.settings()).containsEntry("pooling", "mean");
    assertThat(cls.settings()).containsEntry("pooling", "cls");
    assertThat(none.settings()).containsEntry("pooling", "none");
    assertThat(mean.perVariant().get(1)).containsKeys("nn.agreement", "nn10.overlap");
    assertThat(none.perVariant().get(1)).doesNotContainKeys("nn.agreement", "nn10.overlap");
  }

  @Test
  void parseNamesTheKeyAndRefusesPoolingsATaskCannotUse() throws Exception {
    assertThat(Pooling.parse("CLS", "--pooling", TaskKind.OPINION_SENTIMENT))
        .isEqualTo(Pooling.CLS);
    assertThatThrownBy(() -> Pooling.parse("max", "--pooling", TaskKind.EMBEDDING_FIDELITY))
        .isInstanceOf(ConfigException.class)
        .hasMessage("--pooling must be one of [mean, cls, none], found 'max'");
    assertThatThrownBy(() -> Pooling.parse("none", "evaluate.pooling", TaskKind.OPINION_SENTIMENT))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("evaluate.pooling: 'none' (token-level) needs task");
    assertThatThrownBy(() -> Pooling.parse("cls", "--pooling", TaskKind.CLASSIFICATION))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("--pooling: pooling applies to the embedding-fidelity");
  }
}
