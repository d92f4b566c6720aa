package dev.compress.runtime.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.UnsupportedModelException;
import dev.compress.api.exec.Device;
import dev.compress.api.exec.ForwardResult;
import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.runtime.TestGraphs;
import dev.compress.runtime.ort.OrtExecutor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Construction-time checks, run-time errors, capture, memory behaviour and close. */
class DjlExecutorLifecycleTest {

  /** x (rows, 256) -> MatMul W -> Add(bias first) -> Relu -> Softmax; a weight leads the Add. */
  private static ModelGraph mlp() {
    return TestGraphs.opset(14)
        .input("x", DataType.FLOAT, -1, 256)
        .init(TestGraphs.randomTensor("w", 71, 256, 256))
        .init(TestGraphs.randomTensor("bias", 72, 256))
        .node("MatMul", List.of("x", "w"), List.of("h"))
        .node("Add", List.of("bias", "h"), List.of("a"))
        .node("Relu", List.of("a"), List.of("r"))
        .node("Softmax", List.of("r"), List.of("y"))
        .output("y", DataType.FLOAT)
        .build();
  }

  @Test
  void unsupportedOperatorsAreAllReportedAtConstructionWithDomainAndNodeName() {
    ModelGraph m =
        TestGraphs.opset(14)
            .domain("com.microsoft", 1)
            .input("x", DataType.FLOAT, 2, 4)
            .node("com.microsoft", "Attention", List.of("x"), List.of("a"))
            .node("NonMaxSuppression", List.of("a"), List.of("b"))
            .node("Relu", List.of("b"), List.of("y"))
            .output("y", DataType.FLOAT)
            .build();
    assertThatThrownBy(() -> DjlExecutor.create(m))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageContaining("com.microsoft::Attention (node '/Attention_0')")
        .hasMessageContaining("NonMaxSuppression (node '/NonMaxSuppression_1')")
        .hasMessageNotContaining("Relu");
  }

  @Test
  void unsupportedAttributesAreReportedAtConstruction() {
    ModelGraph m =
        TestGraphs.opset(14)
            .input("x", DataType.FLOAT, 1, 1, 4, 4)
            .node(
                "MaxPool",
                List.of("x"),
                List.of("y"),
                Attribute.ofInts("kernel_shape", 2, 2),
                Attribute.ofInts("dilations", 2, 2))
            .output("y", DataType.FLOAT)
            .build();
    assertThatThrownBy(() -> DjlExecutor.create(m))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageContaining("MaxPool '/MaxPool_0'")
        .hasMessageContaining("dilations");
  }

  @Test
  void missingDefaultOpsetIsAnError() {
    ModelGraph m = mlp();
    m.opsetImports().clear();
    assertThatThrownBy(() -> DjlExecutor.create(m))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageContaining("no opset for the default ONNX domain");
  }

  @Test
  void whatOnlyTheInputsRevealIsReportedAtRunTime() throws Exception {
    // Conv over 4 spatial dimensions: nothing at construction says so (data and weight are fed).
    ModelGraph m =
        TestGraphs.opset(14)
            .input("x", DataType.FLOAT, 1, 1, 2, 2, 2, 2)
            .input("w", DataType.FLOAT, 1, 1, 1, 1, 1, 1)
            .node("Conv", List.of("x", "w"), List.of("y"))
            .output("y", DataType.FLOAT)
            .build();
    try (DjlExecutor ex = DjlExecutor.create(m)) {
      Map<String, Tensor> in =
          Map.of(
              "x", TestGraphs.randomTensor("x", 1, 1, 1, 2, 2, 2, 2),
              "w", TestGraphs.randomTensor("w", 2, 1, 1, 1, 1, 1, 1));
      assertThatThrownBy(() -> ex.forward(in))
          .isInstanceOf(UnsupportedModelException.class)
          .hasMessageContaining("Conv '/Conv_0'")
          .hasMessageContaining("4 spatial dimensions");
    }
  }

  @Test
  void engineFailuresNameTheNodeAndInputs() throws Exception {
    try (DjlExecutor ex = DjlExecutor.create(mlp())) {
      Tensor wrong = TestGraphs.randomTensor("x", 3, 4, 256);
      // the declared shape has a symbolic row count, so (4, 256) passes; make MatMul fail instead
      ModelGraph bad =
          TestGraphs.opset(14)
              .input("x", DataType.FLOAT, -1, -1)
              .init(TestGraphs.randomTensor("w", 71, 256, 256))
              .node("MatMul", List.of("x", "w"), List.of("y"))
              .output("y", DataType.FLOAT)
              .build();
      try (DjlExecutor ex2 = DjlExecutor.create(bad)) {
        assertThatThrownBy(() -> ex2.forward(Map.of("x", TestGraphs.randomTensor("x", 3, 4, 5))))
            .isInstanceOf(CompressionException.class)
            .hasMessageContaining(
                "MatMul '/MatMul_0' failed on inputs [float32(4, 5), float32(256, 256)]");
      }
      assertThat(ex.forward(Map.of("x", wrong)).get("y").shape()).containsExactly(4, 256);
    }
  }

  @Test
  void inputsAreValidatedAgainstTheDeclaredTypes() throws Exception {
    try (DjlExecutor ex = DjlExecutor.create(mlp())) {
      assertThat(ex.inputNames()).containsExactly("x");
      assertThat(ex.outputNames()).containsExactly("y");
      assertThatThrownBy(() -> ex.forward(Map.of()))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("missing input 'x'");
      assertThatThrownBy(
              () ->
                  ex.forward(Map.of("x", Tensor.ofLongs("x", new long[] {1, 256}, new long[256]))))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("must be FLOAT, found INT64");
      assertThatThrownBy(() -> ex.forward(Map.of("x", TestGraphs.randomTensor("x", 1, 256, 1))))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("must have shape");
      Map<String, Tensor> extra =
          Map.of(
              "x",
              TestGraphs.randomTensor("x", 1, 1, 256),
              "z",
              TestGraphs.randomTensor("z", 1, 1));
      assertThatThrownBy(() -> ex.forward(extra))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("unknown input 'z'");
    }
  }

  @Test
  void captureRecordsTheRuntimeInputsOfNamedNodes() throws Exception {
    Tensor x = TestGraphs.randomTensor("x", 81, 3, 256);
    try (DjlExecutor ex = DjlExecutor.create(mlp());
        DjlExecutor upToAdd = DjlExecutor.create(truncatedAtAdd())) {
      ForwardResult r = ex.forward(Map.of("x", x), Set.of("/MatMul_0", "/Add_1"));
      // MatMul's runtime input is x itself (the weight is left out).
      assertThat(r.captured().get("/MatMul_0")).hasSize(1);
      assertThat(r.activation("/MatMul_0").name()).isEqualTo("x");
      assertThat(r.activation("/MatMul_0").toFloatArray()).containsExactly(x.toFloatArray());
      // Add's runtime input is h = x W: compare with a graph that outputs h.
      Tensor h = upToAdd.forward(Map.of("x", x)).get("h");
      assertThat(r.activation("/Add_1").toFloatArray()).containsExactly(h.toFloatArray());
      assertThat(r.outputs()).containsOnlyKeys("y");
      assertThatThrownBy(() -> ex.forward(Map.of("x", x), Set.of("/nope")))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("no node of that name");
    }
    try (OrtExecutor ort = OrtExecutor.builder().setModel(mlp()).build()) {
      assertThat(ort.supportsCapture()).isFalse();
      assertThatThrownBy(() -> ort.forward(Map.of("x", x), Set.of("/MatMul_0")))
          .isInstanceOf(UnsupportedOperationException.class)
          .hasMessageContaining("use DjlExecutor for calibration");
    }
  }

  private static ModelGraph truncatedAtAdd() {
    return TestGraphs.opset(14)
        .input("x", DataType.FLOAT, -1, 256)
        .init(TestGraphs.randomTensor("w", 71, 256, 256))
        .node("MatMul", List.of("x", "w"), List.of("h"))
        .output("h", DataType.FLOAT)
        .build();
  }

  /**
   * 1,000 forwards leave the native side as they found it: the root manager holds exactly the two
   * weights between calls (a result attached to a weight's manager, the usual DJL leak, would show
   * here at once), and resident memory stays within a bound that leaking the 0.5 MB of per-call
   * native arrays would exceed fivefold (1,000 x 0.5 MB). The graph ends in a scalar, so the Java
   * heap (also part of RSS) sees little garbage per call.
   */
  @Test
  void thousandForwardsDoNotGrowNativeMemory() throws Exception {
    ModelGraph m =
        TestGraphs.opset(14)
            .input("x", DataType.FLOAT, 64, 512)
            .init(TestGraphs.randomTensor("w", 73, 512, 512))
            .init(TestGraphs.randomTensor("bias", 74, 512))
            .node("MatMul", List.of("x", "w"), List.of("h")) // 128 KB
            .node("Add", List.of("bias", "h"), List.of("a")) // 128 KB, weight first
            .node("Relu", List.of("a"), List.of("r")) // 128 KB
            .node("Softmax", List.of("r"), List.of("p")) // 128 KB
            .node("ReduceSum", List.of("p"), List.of("y"), Attribute.of("keepdims", 0L))
            .output("y", DataType.FLOAT)
            .build();
    Tensor x = TestGraphs.randomTensor("x", 91, 64, 512);
    try (DjlExecutor ex = DjlExecutor.create(m)) {
      int weights = ex.residentArrayCount();
      assertThat(weights).isEqualTo(2);
      for (int i = 0; i < 100; i++) {
        ex.forward(Map.of("x", x));
      }
      System.gc();
      long rssBefore = rssBytes();
      for (int i = 0; i < 1000; i++) {
        Tensor y = ex.forward(Map.of("x", x)).get("y");
        if (i % 100 == 0) {
          assertThat(ex.residentArrayCount()).as("arrays after call " + i).isEqualTo(weights);
          assertThat((double) y.toFloatArray()[0]).isCloseTo(64, within(1e-3)); // rows sum to 1
        }
      }
      System.gc();
      long rssAfter = rssBytes();
      assertThat(ex.residentArrayCount()).isEqualTo(weights);
      if (rssBefore > 0) {
        long growth = rssAfter - rssBefore;
        System.out.printf("[memory] RSS growth over 1,000 forwards: %.1f MB%n", growth / 1e6);
        assertThat(growth)
            .as("RSS growth in bytes")
            .isLessThan(100L << 20); // measured -1 to 4 MB (leaking: 268 MB)
      }
    }
  }

  /** VmRSS from /proc (Linux), or -1 elsewhere. */
  private static long rssBytes() throws IOException {
    Path status = Path.of("/proc/self/status");
    if (!Files.isReadable(status)) {
      return -1;
    }
    for (String line : Files.readAllLines(status)) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    }
    return -1;
  }

  @Test
  void concurrentForwardsAgreeWithSequentialOnes() throws Exception {
    try (DjlExecutor ex = DjlExecutor.create(mlp())) {
      List<Tensor> inputs = new ArrayList<>();
      List<float[]> expected = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        Tensor x = TestGraphs.randomTensor("x", 100 + i, 4, 256);
        inputs.add(x);
        expected.add(ex.forward(Map.of("x", x)).get("y").toFloatArray());
      }
      ExecutorService pool = Executors.newFixedThreadPool(4);
      try {
        List<Future<float[]>> futures = new ArrayList<>();
        for (int rep = 0; rep < 5; rep++) {
          for (Tensor x : inputs) {
            futures.add(pool.submit(() -> ex.forward(Map.of("x", x)).get("y").toFloatArray()));
          }
        }
        for (int i = 0; i < futures.size(); i++) {
          assertThat(futures.get(i).get()).containsExactly(expected.get(i % inputs.size()));
        }
      } finally {
        pool.shutdown();
      }
      assertThat(ex.residentArrayCount()).isEqualTo(2);
    }
  }

  @Test
  void closeIsIdempotentAndForwardAfterCloseFails() throws Exception {
    DjlExecutor ex = DjlExecutor.create(mlp());
    ex.close();
    ex.close();
    assertThatThrownBy(() -> ex.forward(Map.of("x", TestGraphs.randomTensor("x", 1, 1, 256))))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
  }

  @Test
  void gpuIsRefusedWithoutOneAndMatchesTheCpuWithOne() throws Exception {
    if (!DjlExecutor.gpuAvailable()) {
      assertThatThrownBy(() -> DjlExecutor.builder().setModel(mlp()).optDevice(Device.GPU).build())
          .isInstanceOf(ConfigException.class)
          .hasMessageStartingWith("device gpu: DJL's PyTorch engine reports no GPU (it loaded")
          .hasMessageContaining("PYTORCH_LIBRARY_PATH")
          .hasMessageContaining("-Pgpu -Dpytorch.native.artifactId=pytorch-native-cu128")
          .hasMessageContaining("ai.djl.pytorch:pytorch-native-cu128:2.7.1:linux-x86_64")
          .hasMessageNotContaining("\n");
      return;
    }
    Tensor x = TestGraphs.randomTensor("x", 5, 8, 256);
    try (DjlExecutor gpu = DjlExecutor.builder().setModel(mlp()).optDevice(Device.GPU).build();
        DjlExecutor cpu = DjlExecutor.create(mlp())) {
      assertThat(gpu.device()).isEqualTo(Device.GPU);
      double diff =
          TestGraphs.maxAbsDiff(
              gpu.forward(Map.of("x", x)).get("y"), cpu.forward(Map.of("x", x)).get("y"));
      assertThat(diff).isLessThan(1e-5);
    }
  }

  @Test
  void theCudaFlavorNamedInTheHintIsOneDjlsJniIsBuiltFor() {
    // pytorch-jni carries a JNI library per flavor it supports; the hint must name one of them.
    assertThat(
            DjlExecutor.class.getResource(
                "/jnilib/linux-x86_64/" + DjlExecutor.CUDA_FLAVOR + "/libdjl_torch.so"))
        .isNotNull();
  }

  @Test
  void supportedOpsCoverMiniLmAndTheCnnFamily() {
    assertThat(DjlExecutor.supportedOps())
        .contains(
            "Shape",
            "Gather",
            "Unsqueeze",
            "Concat",
            "Reshape",
            "Transpose",
            "MatMul",
            "Add",
            "Mul",
            "Div",
            "Sub",
            "Pow",
            "Sqrt",
            "ReduceMean",
            "Erf",
            "Softmax",
            "Cast",
            "Constant",
            "ConstantOfShape",
            "Slice",
            "Where",
            "Equal",
            "Expand",
            "Tanh",
            "Gemm",
            "LayerNormalization",
            "com.microsoft::Gelu",
            "Conv",
            "BatchNormalization",
            "Relu",
            "MaxPool",
            "AveragePool",
            "GlobalAveragePool",
            "Flatten",
            "Sigmoid",
            "Identity",
            "Dropout",
            "Clip",
            "LeakyRelu",
            "Squeeze",
            "ReduceSum");
  }
}
