package dev.compress.quantization.ptq;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.io.onnx.OnnxReader;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/** The operators of a model after ONNX Runtime's graph optimizations (what it really runs). */
final class OrtGraphs {
  private OrtGraphs() {}

  static Map<String, Integer> optimizedOps(Path model, Path optimized) throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      o.setOptimizedModelFilePath(optimized.toString());
      try (OrtSession s = env.createSession(model.toString(), o)) {
        // the optimized model is written when the session is created
      }
    }
    ModelGraph m = OnnxReader.read(optimized);
    Map<String, Integer> ops = new TreeMap<>();
    for (Node n : m.graph().nodes()) {
      ops.merge(n.qualifiedOpType(), 1, Integer::sum);
    }
    return ops;
  }
}
