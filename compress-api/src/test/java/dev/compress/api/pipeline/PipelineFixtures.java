package dev.compress.api.pipeline;

import dev.compress.api.calibration.CalibrationIdentity;
import dev.compress.api.calibration.CalibrationLoader;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.calibration.CalibrationSpec;
import dev.compress.api.graph.GraphBuilder;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.onnx.OnnxWriter;
import dev.compress.api.tensor.DataType;
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
    GraphBuilder b = GraphBuilder.create("mlp").producer("pipeline-test");
    String x = b.input("x", DataType.FLOAT, 1, 4);
    b.output("y", DataType.FLOAT, 1, 2);
    String w0 = b.floats("W0", new long[] {4, 8}, ramp(32, 0.01f));
    String b0 = b.floats("b0", new long[] {8}, ramp(8, 0.1f));
    String w1 = b.floats("W1", new long[] {8, 2}, ramp(16, -0.02f));
    String h0 = b.opTo("MatMul", LAYER0, List.of(x, w0), "h0");
    String h1 = b.opTo("Add", "/layer0/Add", List.of(h0, b0), "h1");
    String h2 = b.opTo("Relu", "/layer0/Relu", List.of(h1), "h2");
    b.opTo("MatMul", LAYER1, List.of(h2, w1), "y");
    return b.build();
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
