package dev.compress.api.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.compress.api.OutOfMemoryException;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassConfig;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassProvider;
import dev.compress.api.pass.PassReport;
import dev.compress.api.pipeline.ScaleWeightsConfig.Mode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An {@link OutOfMemoryError} in a run becomes one message naming the step; nothing is left. */
class PipelineOutOfMemoryTest {
  /** Config of the test-only {@code test-out-of-memory} pass. */
  record OomConfig(LayerSelection selection) implements PassConfig {}

  /**
   * A pass that runs out of heap: the api's copy of the test fixtures' {@code
   * OutOfMemoryPassProvider} (compress-api's tests cannot depend on compress-test-fixtures, which
   * depends on compress-api).
   */
  static final class OomProvider implements PassProvider<OomConfig> {
    @Override
    public String type() {
      return "test-out-of-memory";
    }

    @Override
    public String description() {
      return "throws OutOfMemoryError (test only)";
    }

    @Override
    public Class<OomConfig> configType() {
      return OomConfig.class;
    }

    @Override
    public OomConfig defaults() {
      return new OomConfig(LayerSelection.ALL);
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
    public Pass<OomConfig> create(OomConfig config) {
      return new Pass<>() {
        @Override
        public OomConfig config() {
          return config;
        }

        @Override
        public PassReport apply(ModelGraph model, PassContext context) {
          throw new OutOfMemoryError("Java heap space");
        }
      };
    }
  }

  @TempDir Path tmp;

  @Test
  void outOfMemoryInAPassNamesThePassAndLeavesNothing() throws Exception {
    PassRegistry registry = PassRegistry.of(List.of(new ScaleWeightsProvider(), new OomProvider()));
    Path model = PipelineFixtures.writeMlp(tmp.resolve("mlp.onnx"));
    Path work = Files.createDirectory(tmp.resolve("work"));
    PipelineSpec spec =
        PipelineSpec.builder()
            .model(model)
            .output(work.resolve("out"))
            .registry(registry)
            .pass(
                new ScaleWeightsConfig(
                    LayerSelection.ALL, 0.5, 0, -1, Integer.MAX_VALUE, Mode.SCALE, List.of()))
            .pass(new OomConfig(LayerSelection.ALL))
            .build();
    PipelineRunner runner = new PipelineRunner(registry, List.of(), List.of());

    OutOfMemoryException e =
        catchThrowableOfType(
            OutOfMemoryException.class, () -> runner.run(spec, RunOptions.defaults()));

    assertThat(e.step()).isEqualTo("applying passes[1] (test-out-of-memory)");
    assertThat(e.getMessage())
        .startsWith(
            "out of memory (Java heap space) while applying passes[1] (test-out-of-memory), with"
                + " a maximum heap of ")
        .endsWith(" MiB")
        .doesNotContain("\n");
    assertThat(e.getCause()).isInstanceOf(OutOfMemoryError.class);
    assertThat(e.maxHeapBytes()).isEqualTo(Runtime.getRuntime().maxMemory());
    assertThat(work).isEmptyDirectory(); // neither out nor the .out.tmp-* staging folder
  }

  @Test
  void theSuggestedHeapIsTwiceTheLimitRoundedUp() {
    long mib = 1L << 20;
    assertThat(OutOfMemoryException.suggestedMaxHeap(62 * mib)).isEqualTo("128m"); // -Xmx64m
    assertThat(OutOfMemoryException.suggestedMaxHeap(93 * mib)).isEqualTo("192m"); // -Xmx96m
    assertThat(OutOfMemoryException.suggestedMaxHeap(10 * mib)).isEqualTo("64m");
    assertThat(OutOfMemoryException.suggestedMaxHeap(3900 * mib)).isEqualTo("8g"); // -Xmx4g
  }
}
