package dev.compress.api.pipeline;

import dev.compress.api.graph.ModelGraph;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassConfig;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassProvider;
import dev.compress.api.pass.PassReport;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** Test-only pass {@code needs-calibration}: changes nothing, requires calibration data. */
public class CalibratedProvider implements PassProvider<CalibratedProvider.Config> {
  /**
   * Its config.
   *
   * @param selection targets/ignore
   */
  public record Config(LayerSelection selection) implements PassConfig {}

  @Override
  public String type() {
    return "needs-calibration";
  }

  @Override
  public String description() {
    return "needs calibration data (test only)";
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
    return true;
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
        int batches = ctx.calibration().orElseThrow().batches().size();
        return new PassReport(
            "needs-calibration",
            List.of(),
            List.of(),
            0,
            0,
            Map.of("batches", (double) batches),
            Map.of("layer0", Map.of("tokens", 7.0)),
            List.of(
                PassReport.Note.info("calibrated on " + batches + " batches"),
                PassReport.Note.warning("layer0", "few tokens. HINT: use more samples")),
            Duration.ZERO);
      }
    };
  }
}
