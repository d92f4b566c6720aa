package dev.compress.evaluation.sensitivity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.ConfigException;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassConfig;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassProvider;
import dev.compress.api.pass.PassReport;
import dev.compress.api.pipeline.PassRegistry;
import dev.compress.api.pipeline.PipelineSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The greedy per-layer plan on a hand-made matrix. */
class SensitivityPlanTest {
  /** A config with the keys a plan understands. */
  public record ToyConfig(LayerSelection selection, double sparsity, int bits)
      implements PassConfig {}

  static final class ToyProvider implements PassProvider<ToyConfig> {
    @Override
    public String type() {
      return "toy";
    }

    @Override
    public String description() {
      return "test only";
    }

    @Override
    public Class<ToyConfig> configType() {
      return ToyConfig.class;
    }

    @Override
    public ToyConfig defaults() {
      return new ToyConfig(LayerSelection.ALL, 0.5, 8);
    }

    @Override
    public List<ParamDoc> parameters() {
      return List.of();
    }

    @Override
    public boolean needsCalibration() {
      return false;
    }

    @Override
    public Pass<ToyConfig> create(ToyConfig config) {
      return new Pass<>() {
        @Override
        public ToyConfig config() {
          return config;
        }

        @Override
        public PassReport apply(ModelGraph model, PassContext context) {
          throw new UnsupportedOperationException();
        }
      };
    }
  }

  static final PassRegistry REGISTRY = PassRegistry.of(List.of(new ToyProvider()));

  static SensitivityResult result(double[][] loss, String key, Object... settings) {
    List<SensitivityUnit> units = new ArrayList<>();
    for (int i = 0; i < loss.length; i++) {
      units.add(new SensitivityUnit("u" + i, List.of("/u" + i + "/MatMul"), 100));
    }
    List<Probe> probes = new ArrayList<>();
    for (Object s : settings) {
      probes.add(new Probe("toy " + key + "=" + s, "toy", Map.of(key, s), "test"));
    }
    return new SensitivityResult(
        "m.onnx",
        "task",
        "loss",
        Granularity.LAYER,
        units,
        probes,
        loss,
        new String[loss.length][settings.length],
        Map.of(),
        "none",
        0,
        0,
        0);
  }

  static PipelineSpec pipeline() {
    return PipelineSpec.builder()
        .model("m.onnx")
        .pass("toy", new ToyProvider().defaults())
        .output(Path.of("out"))
        .registry(REGISTRY)
        .build();
  }

  @Test
  void theLeastSensitiveUnitsGetTheStrongestSparsity() throws Exception {
    double[][] loss = {
      {0.001, 0.002, 0.004}, // u0: cheap
      {0.01, 0.03, 0.08},
      {0.1, 0.4, 0.9} // u2: expensive
    };
    SensitivityPlan p =
        SensitivityPlan.suggest(
                result(loss, "sparsity", 0.3, 0.5, 0.7), pipeline(), REGISTRY, Map.of(), "plans")
            .get(0);
    assertThat(p.target()).isEqualTo(0.5); // the median setting
    assertThat(p.reached()).isGreaterThanOrEqualTo(0.5);
    assertThat(p.assignment()).containsEntry("u0", 0.7);
    assertThat((double) p.assignment().getOrDefault("u2", 0.0)).isLessThan(0.5);
    // one pass per setting used, each layer targeted once, and the YAML binds again
    List<String> targeted = new ArrayList<>();
    p.spec().passes().forEach(s -> targeted.addAll(s.config().selection().targets()));
    assertThat(targeted).doesNotHaveDuplicates();
    assertThat(PipelineSpec.fromYaml(p.yaml(), REGISTRY).passes())
        .hasSize(p.spec().passes().size());
    assertThat(p.spec().output().dir().toString()).startsWith("plans");
  }

  @Test
  void bitsCountFloatAsThirtyTwoAndStopAtTheBudget() throws Exception {
    double[][] loss = {{0.001, 0.01}, {0.002, 0.02}, {0.05, 0.5}, {0.06, 0.6}};
    SensitivityPlan p =
        SensitivityPlan.suggest(
                result(loss, "bits", 8, 4), pipeline(), REGISTRY, Map.of("bits", 8.0), "plans")
            .get(0);
    // mean bits <= 8 needs every unit quantized: 8 bits everywhere (4 would cost more)
    assertThat(p.reached()).isLessThanOrEqualTo(8.0);
    assertThat(p.assignment()).hasSize(4);
    assertThat(p.assignment().values()).allMatch(v -> ((Number) v).intValue() == 8);
    assertThat(p.predictedLoss()).isCloseTo(0.113, org.assertj.core.data.Offset.offset(1e-9));
  }

  @Test
  void targetsOutOfRangeNameTheOption() {
    assertThatThrownBy(() -> SensitivityPlan.checkTargets(Map.of("sparsity", 1.0)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("--target sparsity must be in [0, 1), found 1.0");
    assertThatThrownBy(() -> SensitivityPlan.checkTargets(Map.of("bits", 0.5)))
        .hasMessageContaining("--target bits must be in [1, 32]");
    assertThatThrownBy(() -> SensitivityPlan.checkTargets(Map.of("rank", 3.0)))
        .hasMessageContaining("--target rank: unknown key");
  }
}
