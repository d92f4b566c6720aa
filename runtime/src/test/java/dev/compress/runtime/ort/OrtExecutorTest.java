package dev.compress.runtime.ort;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.exec.Device;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.runtime.TestGraphs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ONNX Runtime executor's own contract: sources, options, errors and close. */
class OrtExecutorTest {

  private static ModelGraph addOne() {
    return TestGraphs.opset(14)
        .input("x", DataType.FLOAT, -1)
        .init(Tensor.ofFloats("one", new long[0], 1f))
        .node("Add", List.of("x", "one"), List.of("y"))
        .output("y", DataType.FLOAT)
        .build();
  }

  @Test
  void runsAGraphInMemoryOrAFileWithAThreadCount(@TempDir Path dir) throws Exception {
    Tensor x = Tensor.ofFloats("x", new long[] {3}, 1, 2, 3);
    try (OrtExecutor ex = OrtExecutor.builder().setModel(addOne()).optIntraOpThreads(1).build()) {
      assertThat(ex.inputNames()).containsExactly("x");
      assertThat(ex.outputNames()).containsExactly("y");
      assertThat(ex.device()).isEqualTo(Device.CPU);
      assertThat(ex.forward(Map.of("x", x)).get("y").toFloatArray()).containsExactly(2, 3, 4);
    }
    Path file = dir.resolve("add.onnx");
    dev.compress.api.io.onnx.OnnxWriter.write(addOne(), file);
    try (OrtExecutor ex = OrtExecutor.create(file)) {
      assertThat(ex.forward(Map.of("x", x)).get("y").toFloatArray()).containsExactly(2, 3, 4);
    }
    // The temporary file of the in-memory variant is gone once the session exists.
    try (var tmp = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
      assertThat(tmp.map(p -> p.getFileName().toString()))
          .noneMatch(n -> n.startsWith("compress-ort-") && n.endsWith(".onnx"));
    }
  }

  @Test
  void errorsAreClear(@TempDir Path dir) throws Exception {
    assertThatThrownBy(() -> OrtExecutor.create(dir.resolve("missing.onnx")))
        .isInstanceOf(CompressionException.class)
        .hasMessageContaining("ONNX Runtime cannot load");
    OrtExecutor ex = OrtExecutor.builder().setModel(addOne()).build();
    assertThatThrownBy(() -> ex.forward(Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("missing input 'x'");
    assertThatThrownBy(() -> ex.forward(Map.of("x", Tensor.ofLongs("x", new long[] {1}, 1))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must be FLOAT");
    ex.close();
    ex.close();
    assertThatThrownBy(() -> ex.forward(Map.of("x", Tensor.ofFloats("x", new long[] {1}, 1))))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void aGpuWithoutTheCudaProviderNamesTheJarToBuildWith() {
    assumeFalse(OrtExecutor.cudaProviderAvailable(), "onnxruntime_gpu is on the classpath (-Pgpu)");
    assertThatThrownBy(() -> OrtExecutor.builder().setModel(addOne()).optDevice(Device.GPU).build())
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "device gpu: ONNX Runtime's CUDA execution provider is not available (the CPU"
                + " onnxruntime jar is on the classpath); HINT: build with -Pgpu, which puts"
                + " com.microsoft.onnxruntime:onnxruntime_gpu in its place (it needs CUDA 12 and"
                + " cuDNN 9 on the machine; README, GPU), or use --device cpu");
  }

  @Test
  void runsOnCudaAsOnTheCpuWhereTheProviderAndAGpuExist() throws Exception {
    assumeTrue(
        OrtExecutor.cudaProviderAvailable(),
        "the CPU onnxruntime jar is on the classpath (build with -Pgpu to run this)");
    OrtExecutor gpu;
    try {
      gpu = OrtExecutor.builder().setModel(addOne()).optDevice(Device.GPU).build();
    } catch (ConfigException e) {
      // The provider is there but found no CUDA device or libraries: nothing to test here.
      assumeTrue(false, e.getMessage());
      return;
    }
    Tensor x = Tensor.ofFloats("x", new long[] {3}, 1, 2, 3);
    try (gpu;
        OrtExecutor cpu = OrtExecutor.builder().setModel(addOne()).build()) {
      assertThat(gpu.device()).isEqualTo(Device.GPU);
      assertThat(gpu.forward(Map.of("x", x)).get("y").toFloatArray())
          .containsExactly(cpu.forward(Map.of("x", x)).get("y").toFloatArray());
    }
  }
}
