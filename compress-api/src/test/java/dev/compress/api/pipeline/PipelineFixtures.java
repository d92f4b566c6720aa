package dev.compress.api.pipeline;

import dev.compress.api.calibration.CalibrationIdentity;
import dev.compress.api.calibration.CalibrationLoader;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.calibration.CalibrationSpec;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.graph.ValueInfo.Dim;
import dev.compress.api.io.onnx.OnnxWriter;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** A tiny two-layer MLP written to a file, and fake calibration/evaluation services. */
final class PipelineFixtures {
  private PipelineFixtures() {}

  static final String LAYER0 = "/layer0/MatMul";
  static final String LAYER1 = "/layer1/MatMul";

  /** x[1,4] -> MatMul W0[4,8] -> Add b0 -> Relu -> MatMul W1[8,2] -> y[1,2]. */
  static ModelGraph mlp() {
    Graph g = new Graph("mlp");
    g.inputs().add(ValueInfo.tensor("x", DataType.FLOAT, List.of(Dim.of(1), Dim.of(4))));
    g.outputs().add(ValueInfo.tensor("y", DataType.FLOAT, List.of(Dim.of(1), Dim.of(2))));
    g.putInitializer(Tensor.ofFloats("W0", new long[] {4, 8}, ramp(32, 0.01f)));
    g.putInitializer(Tensor.ofFloats("b0", new long[] {8}, ramp(8, 0.1f)));
    g.putInitializer(Tensor.ofFloats("W1", new long[] {8, 2}, ramp(16, -0.02f)));
    g.nodes().add(Node.of(LAYER0, "MatMul", List.of("x", "W0"), List.of("h0")));
    g.nodes().add(Node.of("/layer0/Add", "Add", List.of("h0", "b0"), List.of("h1")));
    g.nodes().add(Node.of("/layer0/Relu", "Relu", List.of("h1"), List.of("h2")));
    g.nodes().add(Node.of(LAYER1, "MatMul", List.of("h2", "W1"), List.of("y")));
    ModelGraph m = new ModelGraph(8, g);
    m.opsetImports().put("", 17L);
    m.setProducerName("pipeline-test");
    return m;
  }

  static Path writeMlp(Path file) throws IOException {
    OnnxWriter.write(mlp(), file);
    return file;
  }

  private static float[] ramp(int n, float step) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (i - n / 2) * step;
    }
    return v;
  }

  /** A loader for kind {@code text} that returns two empty batches. */
  static final class FakeCalibrationLoader implements CalibrationLoader {
    @Override
    public boolean supports(CalibrationSpec spec) {
      return spec.kind().equals("text");
    }

    @Override
    public CalibrationSet load(
        CalibrationSpec spec, ModelGraph model, Path modelFile, String modelSpec) {
      return new CalibrationSet(
          List.of(Map.of(), Map.of()),
          new CalibrationIdentity(
              spec.source(),
              spec.kind(),
              spec.samples(),
              spec.sequenceLength(),
              spec.seed(),
              spec.shuffle(),
              "c0ffee"));
    }
  }

  /** An evaluator returning fixed metrics and the given gate failures. */
  static final class FakeEvaluator implements Evaluator {
    private final List<String> failures;

    FakeEvaluator(List<String> failures) {
      this.failures = failures;
    }

    @Override
    public EvaluationResult evaluate(
        EvaluateSpec spec, Path original, Path compressed, String modelSpec) {
      return new EvaluationResult(
          Map.of("cosine.mean", 0.995, "cosine.min", 0.97),
          Map.of("data", spec.data() + " (10 samples, sha256 abc)"),
          "metric  original  compressed\ncosine  1.0  0.995",
          failures);
    }
  }
}
