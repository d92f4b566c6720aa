package dev.compress.api.pipeline;

import dev.compress.api.exec.Device;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassConfig;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassProvider;
import dev.compress.api.pass.PassReport;
import dev.compress.api.tensor.Tensor;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Test-only pass {@code needs-teacher}: changes nothing, reports what its context carries: the sum
 * of squares of every weight of the teacher and of the model it is given, and the device (metric
 * {@code gpu}: 1 on the GPU, 0 on the CPU).
 */
public class TeacherProvider implements PassProvider<TeacherProvider.Config> {
  /**
   * Its config.
   *
   * @param selection targets/ignore
   */
  public record Config(LayerSelection selection) implements PassConfig {}

  @Override
  public String type() {
    return "needs-teacher";
  }

  @Override
  public String description() {
    return "needs the teacher (test only)";
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Config defaults() {
    return new Config(LayerSelection.ALL);
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
  public boolean needsTeacher() {
    return true;
  }

  static double weightSum(ModelGraph m) {
    double s = 0;
    for (Tensor t : m.graph().initializers().values()) {
      for (float v : t.toFloatArray()) {
        s += (double) v * v;
      }
    }
    return s;
  }

  @Override
  public Pass<Config> create(Config config) {
    return new Pass<>() {
      @Override
      public Config config() {
        return config;
      }

      @Override
      public PassReport apply(ModelGraph model, PassContext ctx) {
        return new PassReport(
            "needs-teacher",
            List.of(),
            List.of(),
            0,
            0,
            Map.of(
                "teacher", ctx.teacher().map(TeacherProvider::weightSum).orElse(Double.NaN),
                "model", weightSum(model),
                "gpu", ctx.device() == Device.GPU ? 1.0 : 0.0),
            Duration.ZERO);
      }
    };
  }
}
