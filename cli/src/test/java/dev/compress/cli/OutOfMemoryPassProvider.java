package dev.compress.cli;

import dev.compress.api.graph.ModelGraph;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassConfig;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassProvider;
import dev.compress.api.pass.PassReport;
import java.util.List;

/**
 * Test-only pass {@code test-out-of-memory} that throws {@link OutOfMemoryError}; registered only
 * by {@link OutOfMemoryTest} (through a class loader of its own), so other tests never see it.
 */
public final class OutOfMemoryPassProvider implements PassProvider<OutOfMemoryPassProvider.Config> {
  /** The pass type. */
  public static final String TYPE = "test-out-of-memory";

  /**
   * The config: only a selection.
   *
   * @param selection targets/ignore
   */
  public record Config(LayerSelection selection) implements PassConfig {
    /** Null means all layers. */
    public Config {
      selection = selection == null ? LayerSelection.ALL : selection;
    }
  }

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public String description() {
    return "throws OutOfMemoryError (test only)";
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
      public PassReport apply(ModelGraph model, PassContext context) {
        throw new OutOfMemoryError("Java heap space");
      }
    };
  }
}
