package dev.compress.evaluation.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.compress.api.ConfigException;
import dev.compress.api.UnsupportedModelException;
import dev.compress.api.exec.Device;
import dev.compress.api.exec.Executor;
import dev.compress.api.io.onnx.OnnxWriter;
import dev.compress.evaluation.TinyModels;
import dev.compress.runtime.djl.DjlExecutor;
import dev.compress.runtime.ort.OrtExecutor;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EngineSpecTest {
  @Test
  void djlRefusesAnOperatorItHasNoKernelForWithAClearMessageWhileOrtRunsIt(@TempDir Path dir)
      throws Exception {
    Path m = dir.resolve("hardmax.onnx");
    OnnxWriter.write(TinyModels.withUnsupportedOp(), m);
    assertThatThrownBy(() -> new EngineSpec(EngineKind.DJL, Device.CPU, false, 1).open(m))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageStartingWith("engine djl cannot run " + m)
        .hasMessageContaining("Hardmax")
        .hasMessageContaining("HINT: measure it with --engine onnxruntime");
    try (Executor e = new EngineSpec(EngineKind.ONNXRUNTIME, Device.CPU, false, 1).open(m)) {
      assertThat(e.inputNames()).containsExactly("x");
    }
  }

  @Test
  void bothEnginesRunMatMulNBits(@TempDir Path dir) throws Exception {
    Path m = dir.resolve("nbits.onnx");
    OnnxWriter.write(TinyModels.withContribOp(), m);
    for (EngineKind kind : EngineKind.values()) {
      try (Executor e = new EngineSpec(kind, Device.CPU, false, 1).open(m)) {
        assertThat(e.inputNames()).as(kind.toString()).containsExactly("x");
      }
    }
  }

  @Test
  void longListsOfUnsupportedNodesAreCondensedPerOperator() {
    String msg =
        "DjlExecutor cannot run graph 'g': no kernel for operator DequantizeLinear (node 'a');"
            + " no kernel for operator DequantizeLinear (node 'b'); no kernel for operator"
            + " com.microsoft::MatMulNBits (node 'c')";
    assertThat(EngineSpec.summarize(msg))
        .isEqualTo(
            "no kernel for DequantizeLinear (2 nodes, first 'a'); no kernel for"
                + " com.microsoft::MatMulNBits (node 'c')");
  }

  @Test
  void impossibleSettingsAreRefusedBeforeLoading() {
    assertThatThrownBy(() -> new EngineSpec(EngineKind.DJL, Device.CPU, true, 1).check())
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("half precision is not available: the DJL interpreter");
    assertThatThrownBy(() -> EngineKind.parse("tvm", "--engine"))
        .isInstanceOf(ConfigException.class)
        .hasMessage("--engine must be one of [onnxruntime, djl], found 'tvm'");
  }

  @Test
  void onnxRuntimeOnAGpuWithoutItsCudaProviderNamesWhatToBuildWith() {
    assumeFalse(OrtExecutor.cudaProviderAvailable(), "onnxruntime_gpu is on the classpath (-Pgpu)");
    assertThatThrownBy(() -> new EngineSpec(EngineKind.ONNXRUNTIME, Device.GPU, false, 1).check())
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(
            "device gpu: ONNX Runtime's CUDA execution provider is not available (the CPU"
                + " onnxruntime jar is on the classpath); HINT: build with -Pgpu");
  }

  @Test
  void onnxRuntimeRunsOnAGpuWhereItsCudaProviderAndADeviceExist(@TempDir Path dir)
      throws Exception {
    assumeTrue(OrtExecutor.cudaProviderAvailable(), "the CPU onnxruntime jar (build with -Pgpu)");
    Path m = dir.resolve("nbits.onnx");
    OnnxWriter.write(TinyModels.withContribOp(), m);
    EngineSpec gpu = new EngineSpec(EngineKind.ONNXRUNTIME, Device.GPU, false, 1);
    gpu.check();
    Executor e;
    try {
      e = gpu.open(m);
    } catch (ConfigException noDevice) {
      assumeTrue(false, noDevice.getMessage());
      return;
    }
    try (e) {
      assertThat(e.device()).isEqualTo(Device.GPU);
      assertThat(gpu.describe()).contains("on CUDA device 0");
    }
  }

  @Test
  void gpuWithoutAGpuIsAClearError() {
    assumeFalse(DjlExecutor.gpuAvailable(), "this machine has a GPU");
    assertThatThrownBy(() -> new EngineSpec(EngineKind.DJL, Device.GPU, false, 1).check())
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("device gpu: DJL's PyTorch engine reports no GPU")
        .hasMessageContaining("pytorch-native-cu128");
  }
}
