package dev.compress.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.exec.Device;
import dev.compress.api.exec.Executor;
import dev.compress.api.exec.ExecutorFactory;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.pass.PassContext;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.runtime.djl.DjlExecutor;
import dev.compress.runtime.djl.DjlExecutorFactory;
import dev.compress.runtime.ort.OrtExecutor;
import dev.compress.runtime.ort.OrtExecutorFactory;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The engines are found through the api's ServiceLoader SPI, and a pass context reaches them. */
class ExecutorFactoryTest {

  private static ModelGraph relu() {
    return TestGraphs.opset(14)
        .input("x", DataType.FLOAT, 2, 3)
        .node("Relu", List.of("x"), List.of("y"))
        .output("y", DataType.FLOAT)
        .build();
  }

  @Test
  void bothEnginesAreInstalledAndDjlIsTheCapturingOne() {
    assertThat(ExecutorFactory.installed().stream().map(ExecutorFactory::engine))
        .containsExactly("djl", "onnxruntime");
    assertThat(ExecutorFactory.of("djl")).isInstanceOf(DjlExecutorFactory.class);
    assertThat(ExecutorFactory.of("onnxruntime")).isInstanceOf(OrtExecutorFactory.class);
    assertThat(ExecutorFactory.capturing().engine()).isEqualTo("djl");
    assertThat(ExecutorFactory.of("djl").available(Device.CPU)).isTrue();
    assertThatThrownBy(() -> ExecutorFactory.of("tvm"))
        .hasMessageContaining("no executor engine 'tvm'")
        .hasMessageContaining("[djl, onnxruntime]");
  }

  @Test
  void passContextBuildsACapturingExecutorOnTheCpu() throws Exception {
    Tensor x = Tensor.ofFloats("x", new long[] {2, 3}, -1, 2, -3, 4, -5, 6);
    try (Executor ex = PassContext.of(0).executor(relu())) {
      assertThat(ex).isInstanceOf(DjlExecutor.class);
      assertThat(ex.device()).isEqualTo(Device.CPU);
      var r = ex.forward(Map.of("x", x), Set.of("/Relu_0"));
      assertThat(r.output("y").toFloatArray()).containsExactly(0, 2, 0, 4, 0, 6);
      assertThat(r.activation("/Relu_0").toFloatArray()).containsExactly(x.toFloatArray());
    }
    try (Executor ex = ExecutorFactory.of("onnxruntime").create(relu(), Device.CPU)) {
      assertThat(ex).isInstanceOf(OrtExecutor.class);
      assertThat(ex.supportsCapture()).isFalse();
      assertThat(ex.forward(Map.of("x", x)).get("y").toFloatArray())
          .containsExactly(0, 2, 0, 4, 0, 6);
    }
  }
}
