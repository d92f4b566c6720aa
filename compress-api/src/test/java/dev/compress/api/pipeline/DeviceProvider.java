package dev.compress.api.pipeline;

import dev.compress.api.exec.Device;
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

/**
 * Test-only pass {@code records-device}: changes nothing, reports the device its context carries
 * (metric {@code gpu}: 1 on the GPU, 0 on the CPU) and the engine it would build executors with.
 */
public class DeviceProvider implements PassProvider<DeviceProvider.Config> {
  /**
   * Its config.
   *
   * @param selection targets/ignore
   */
  public record Config(LayerSelection selection) implements PassConfig {}

  @Override
  public String type() {
    return "records-device";
  }

  @Override
  public String description() {
    return "records the context's device (test only)";
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
  public Pass<Config> create(Config config) {
    return new Pass<>() {
      @Override
      public Config config() {
        return config;
      }

      @Override
      public PassReport apply(ModelGraph model, PassContext ctx) {
        return new PassReport(
            "records-device",
            List.of(),
            List.of(),
            0,
            0,
            Map.of("gpu", ctx.device() == Device.GPU ? 1.0 : 0.0),
            Duration.ZERO);
      }
    };
  }
}
