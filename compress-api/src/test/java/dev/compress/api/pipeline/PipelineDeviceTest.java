package dev.compress.api.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.exec.Device;
import dev.compress.api.exec.Executor;
import dev.compress.api.exec.ExecutorFactory;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.LayerSelection;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pipeline's {@code device} key: bound and checked with the rest of the spec, resolved against
 * the engine at plan time, carried to every pass's context and recorded in the manifest.
 */
class PipelineDeviceTest {
  private static final PassRegistry REGISTRY = PassRegistry.of(List.of(new TeacherProvider()));

  @TempDir Path tmp;

  /** An engine that may or may not have a GPU, and records which devices it was asked about. */
  static final class FakeEngine implements ExecutorFactory {
    final boolean gpu;
    final List<Device> asked = new ArrayList<>();

    FakeEngine(boolean gpu) {
      this.gpu = gpu;
    }

    @Override
    public String engine() {
      return "fake";
    }

    @Override
    public boolean supportsCapture() {
      return true;
    }

    @Override
    public boolean available(Device device) {
      asked.add(device);
      return device == Device.CPU || gpu;
    }

    @Override
    public Executor create(ModelGraph model, Device device) throws CompressionException {
      throw new UnsupportedOperationException("not used by these passes");
    }
  }

  private static String yaml(String device, Path out) {
    return "apiVersion: compress/v1\nkind: Pipeline\nmodel: m.onnx\n"
        + (device == null ? "" : "device: " + device + "\n")
        + "passes:\n  - type: needs-teacher\noutput: {dir: "
        + out
        + "}\n";
  }

  @Test
  void deviceDefaultsToCpuAndReadsBackFromTheResolvedSpec() throws Exception {
    PipelineSpec spec = PipelineSpec.fromYaml(yaml(null, tmp.resolve("o")), REGISTRY);
    assertThat(spec.device()).isEqualTo("cpu");
    assertThat(spec.toMap()).containsEntry("device", "cpu");
    PipelineSpec auto = PipelineSpec.fromYaml(yaml("AUTO", tmp.resolve("o")), REGISTRY);
    assertThat(auto.device()).isEqualTo("auto");
    assertThat(PipelineSpec.fromYaml(auto.toYaml(), REGISTRY)).isEqualTo(auto);
    assertThat(auto.withOverrides(List.of("device=gpu"), REGISTRY).device()).isEqualTo("gpu");
  }

  @Test
  void aBadDeviceIsOneLineNamingTheKeyWithADidYouMean() {
    ConfigException e =
        catchThrowableOfType(
            ConfigException.class,
            () -> PipelineSpec.fromYaml(yaml("gpuu", tmp.resolve("o")), REGISTRY));
    assertThat(e.problems())
        .containsExactly(
            "device must be one of [cpu, gpu, auto], found 'gpuu'; did you mean 'gpu'?");
    ConfigException notText =
        catchThrowableOfType(
            ConfigException.class,
            () -> PipelineSpec.fromYaml(yaml("[gpu]", tmp.resolve("o")), REGISTRY));
    assertThat(notText.problems()).singleElement().asString().startsWith("device must be one of");
    ConfigException unknown =
        catchThrowableOfType(
            ConfigException.class,
            () -> PipelineSpec.fromYaml(yaml("cpu", tmp.resolve("o")) + "devcie: gpu\n", REGISTRY));
    assertThat(unknown.problems()).containsExactly("devcie: unknown key; did you mean 'device'?");
    assertThatThrownBy(() -> spec("tpu").build())
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("device must be one of [cpu, gpu, auto], found 'tpu'");
  }

  private PipelineSpec.Builder spec(String device) throws Exception {
    Path model = tmp.resolve("mlp.onnx");
    if (!Files.exists(model)) {
      PipelineFixtures.writeMlp(model);
    }
    return PipelineSpec.builder()
        .model(model)
        .device(device)
        .pass(new TeacherProvider.Config(LayerSelection.ALL))
        .pass(new TeacherProvider.Config(LayerSelection.ALL))
        .output(tmp.resolve("out-" + device))
        .registry(REGISTRY);
  }

  private static PipelineRunner runner(ExecutorFactory engine) {
    return new PipelineRunner(REGISTRY, List.of(), List.of(), engine);
  }

  private static JsonNode manifest(RunResult r) throws Exception {
    return new ObjectMapper().readTree(r.manifest().toFile());
  }

  private static List<Double> gpuMetric(RunResult r) {
    return r.passes().stream().map(p -> p.metrics().get("gpu")).toList();
  }

  @Test
  void cpuReachesEveryPassWithoutAskingTheEngine() throws Exception {
    FakeEngine engine = new FakeEngine(true);
    RunResult r = runner(engine).run(spec("cpu").build(), RunOptions.defaults());
    assertThat(gpuMetric(r)).containsExactly(0.0, 0.0);
    assertThat(engine.asked).isEmpty();
    assertThat(manifest(r).path("device").path("requested").asText()).isEqualTo("cpu");
    assertThat(manifest(r).path("device").path("used").asText()).isEqualTo("cpu");
  }

  @Test
  void gpuReachesEveryPassWhenTheEngineHasOne() throws Exception {
    FakeEngine engine = new FakeEngine(true);
    assertThat(runner(engine).validate(spec("gpu").build()).device()).isEqualTo(Device.GPU);
    RunResult r = runner(engine).run(spec("gpu").build(), RunOptions.defaults());
    assertThat(gpuMetric(r)).containsExactly(1.0, 1.0);
    assertThat(manifest(r).path("device").path("used").asText()).isEqualTo("gpu");
  }

  @Test
  void gpuWithoutOneIsRefusedAtPlanTimeNamingTheKey() throws Exception {
    PipelineSpec spec = spec("gpu").build();
    ConfigException e =
        catchThrowableOfType(
            ConfigException.class, () -> runner(new FakeEngine(false)).validate(spec));
    assertThat(e.problems()).hasSize(1);
    assertThat(e.problems().getFirst())
        .startsWith("device: gpu, but the fake engine finds no GPU on this machine")
        .contains("device: auto");
    assertThatThrownBy(() -> runner(new FakeEngine(false)).run(spec, RunOptions.defaults()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("device: gpu");
    assertThat(tmp.resolve("out-gpu")).doesNotExist();
  }

  @Test
  void autoFallsBackToTheCpuAndSaysSo() throws Exception {
    StringWriter printed = new StringWriter();
    RunResult r =
        runner(new FakeEngine(false))
            .run(spec("auto").build(), RunOptions.defaults().withOut(new PrintWriter(printed)));
    assertThat(gpuMetric(r)).containsExactly(0.0, 0.0);
    assertThat(manifest(r).path("device").path("requested").asText()).isEqualTo("auto");
    assertThat(manifest(r).path("device").path("used").asText()).isEqualTo("cpu");
    assertThat(printed.toString())
        .contains("device auto: no GPU found by the fake engine; the passes run on the CPU");

    RunResult onGpu =
        runner(new FakeEngine(true))
            .run(spec("auto").build(), RunOptions.defaults().withOverwrite(true));
    assertThat(gpuMetric(onGpu)).containsExactly(1.0, 1.0);
    assertThat(manifest(onGpu).path("device").path("used").asText()).isEqualTo("gpu");
  }
}
