package dev.compress.runtime.canonical;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import dev.compress.api.canonical.CanonicalizationReport;
import dev.compress.api.canonical.Canonicalizer;
import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.OpsetCheck;
import dev.compress.api.graph.OpsetUpgrade;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.graph.ValueInfo.Dim;
import dev.compress.api.io.BuiltinModels;
import dev.compress.api.io.onnx.OnnxReader;
import dev.compress.api.io.onnx.OnnxWriter;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The canonicalized model computes what the original computes, in ONNX Runtime (the reference
 * runtime), and the fused operators load there at the opsets exporters use.
 *
 * <p>Both models run with ORT's graph optimizations off, so the original really executes its
 * primitive operators (ORT would otherwise fuse the same patterns itself) and the canonical one
 * executes {@code LayerNormalization} and {@code com.microsoft::Gelu} kernels.
 */
class CanonicalizationOrtTest {
  private static final Path OUT = Path.of("target", "canonical");
  private static OrtEnvironment env;

  @BeforeAll
  static void setUp() throws Exception {
    env = OrtEnvironment.getEnvironment();
    Files.createDirectories(OUT);
  }

  /**
   * The opset-14 export (langchain4j 1.4.0-beta10, on the test classpath) and the opset-11 / IR 6
   * export (1.20.0-beta30, which this module's build unpacks into its target folder).
   */
  @ParameterizedTest
  @ValueSource(strings = {"opset14", "opset11"})
  void canonicalMiniLmMatchesOriginal(String which) throws Exception {
    Path original;
    if (which.equals("opset14")) {
      original = BuiltinModels.extract("all-minilm-l6-v2.onnx");
    } else {
      original =
          Path.of("target", "test-models", "minilm-opset11").resolve("all-minilm-l6-v2.onnx");
      assertThat(original)
          .as("unpacked by this module's pom in generate-test-resources")
          .isRegularFile();
    }
    ModelGraph model = OnnxReader.read(original);
    CanonicalizationReport report = Canonicalizer.canonicalize(model);
    assertThat(report.layerNorms()).isEqualTo(13);
    assertThat(report.gelus()).isEqualTo(6);
    // LayerNormalization is ONNX from opset 17: what is written is raised to it (the writer
    // refuses the fused form at the export's opset).
    OpsetUpgrade.upgrade(model, OpsetCheck.minimumDefaultOpset(model));
    assertThat(model.opset("")).hasValue(17);
    Path canonical = OUT.resolve("all-minilm-l6-v2-" + which + "-canonical.onnx");
    OnnxWriter.write(model, canonical);

    // Two sequences, the second padded: [CLS] ... [SEP] with made-up but valid vocabulary ids.
    long[][] ids = {
      {101, 7592, 2088, 2003, 1037, 3231, 6251, 102},
      {101, 2023, 2003, 2178, 102, 0, 0, 0}
    };
    long[][] mask = {{1, 1, 1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 0, 0, 0}};
    long[][] types = new long[2][8];
    Map<String, long[][]> feeds = new LinkedHashMap<>();
    feeds.put("input_ids", ids);
    feeds.put("attention_mask", mask);
    feeds.put("token_type_ids", types);

    Map<String, float[]> want = run(original, feeds, OptLevel.NO_OPT);
    for (OptLevel level : List.of(OptLevel.NO_OPT, OptLevel.ALL_OPT)) {
      Map<String, float[]> got = run(canonical, feeds, level);
      assertThat(got.keySet()).isEqualTo(want.keySet());
      for (String name : want.keySet()) {
        double diff = maxAbsDiff(want.get(name), got.get(name));
        System.out.printf(
            "MiniLM %s %s output %s: max |diff| = %.3g (max |value| %.3g)%n",
            which, level, name, diff, maxAbs(want.get(name)));
        // measured (opset14): hidden states 2.4e-5 (NO_OPT), 2.9e-5 (ALL_OPT); pooler 2.7e-7
        assertThat(diff).as(name).isLessThanOrEqualTo(1e-4);
      }
    }
  }

  /**
   * A block {@code x -> LayerNorm -> GELU -> y} as PyTorch exports it, at opset 11 (IR 6, the
   * oldest export around), 14 (MiniLM's) and 17 (where ONNX itself defines LayerNormalization); the
   * canonical form is written at opset 17, raised from the older ones.
   */
  @ParameterizedTest
  @ValueSource(longs = {11, 14, 17})
  void fusedOperatorsLoadAndMatchAtOpset(long opset) throws Exception {
    ModelGraph model = layerNormGeluBlock(opset);
    Path original = OUT.resolve("ln-gelu-opset" + opset + ".onnx");
    OnnxWriter.write(model, original);
    CanonicalizationReport report = Canonicalizer.canonicalize(model);
    assertThat(report.layerNorms()).isEqualTo(1);
    assertThat(report.gelus()).isEqualTo(1);
    assertThat(model.opsetImports()).containsEntry("", opset).containsEntry("com.microsoft", 1L);
    assertThat(OpsetCheck.check(model).ok()).isEqualTo(opset >= 17);
    OpsetUpgrade.upgrade(model, OpsetCheck.minimumDefaultOpset(model));
    assertThat(OpsetCheck.check(model).violations()).isEmpty();
    Path canonical = OUT.resolve("ln-gelu-opset" + opset + "-canonical.onnx");
    OnnxWriter.write(model, canonical);

    float[] x = new float[2 * 3 * C];
    Random r = new Random(42);
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (3 * r.nextGaussian() + 1);
    }
    float[] want = runFloat(original, x);
    float[] got = runFloat(canonical, x);
    double diff = maxAbsDiff(want, got);
    System.out.printf("LayerNorm+GELU block at opset %d: max |diff| = %.3g%n", opset, diff);
    assertThat(diff).isLessThanOrEqualTo(1e-5); // measured 2.4e-7 at each opset
  }

  private static final int C = 16;

  private static ModelGraph layerNormGeluBlock(long opset) {
    Graph g = new Graph("block");
    List<Dim> shape = List.of(Dim.of(2), Dim.of(3), Dim.of(C));
    g.inputs().add(ValueInfo.tensor("x", DataType.FLOAT, shape));
    g.outputs().add(ValueInfo.tensor("y", DataType.FLOAT, shape));
    List<Node> n = g.nodes();
    String s = "/block/LayerNorm/";
    n.add(
        Node.of(s + "ReduceMean", "ReduceMean", List.of("x"), List.of("mean"))
            .put(Attribute.ofInts("axes", -1)));
    n.add(Node.of(s + "Sub", "Sub", List.of("x", "mean"), List.of("d")));
    n.add(constant(s + "Constant", "two", 2f));
    n.add(Node.of(s + "Pow", "Pow", List.of("d", "two"), List.of("sq")));
    n.add(
        Node.of(s + "ReduceMean_1", "ReduceMean", List.of("sq"), List.of("var"))
            .put(Attribute.ofInts("axes", -1)));
    n.add(constant(s + "Constant_1", "eps", 1e-12f));
    n.add(Node.of(s + "Add", "Add", List.of("var", "eps"), List.of("ve")));
    n.add(Node.of(s + "Sqrt", "Sqrt", List.of("ve"), List.of("std")));
    n.add(Node.of(s + "Div", "Div", List.of("d", "std"), List.of("norm")));
    Random r = new Random(7);
    float[] gamma = new float[C];
    float[] beta = new float[C];
    for (int i = 0; i < C; i++) {
      gamma[i] = 1 + 0.2f * (float) r.nextGaussian();
      beta[i] = 0.2f * (float) r.nextGaussian();
    }
    g.putInitializer(Tensor.ofFloats("ln.weight", new long[] {C}, gamma));
    g.putInitializer(Tensor.ofFloats("ln.bias", new long[] {C}, beta));
    n.add(Node.of(s + "Mul", "Mul", List.of("norm", "ln.weight"), List.of("scaled")));
    n.add(Node.of(s + "Add_1", "Add", List.of("scaled", "ln.bias"), List.of("h")));
    String a = "/block/act/";
    n.add(constant(a + "Constant", "sqrt2", 1.4142135f));
    n.add(Node.of(a + "Div", "Div", List.of("h", "sqrt2"), List.of("hs")));
    n.add(Node.of(a + "Erf", "Erf", List.of("hs"), List.of("erf")));
    n.add(constant(a + "Constant_1", "one", 1f));
    n.add(Node.of(a + "Add", "Add", List.of("erf", "one"), List.of("e")));
    n.add(Node.of(a + "Mul", "Mul", List.of("h", "e"), List.of("he")));
    n.add(constant(a + "Constant_2", "half", 0.5f));
    n.add(Node.of(a + "Mul_1", "Mul", List.of("he", "half"), List.of("y")));
    // IR 6 for opset 11 (what PyTorch 1.x wrote), IR 8 otherwise.
    ModelGraph m = new ModelGraph(opset <= 11 ? 6 : 8, g);
    m.opsetImports().put("", opset);
    return m;
  }

  private static Node constant(String name, String out, float v) {
    return Node.of(name, "Constant", List.of(), List.of(out))
        .put(Attribute.of("value", Tensor.ofFloats(out, new long[0], v)));
  }

  private static float[] runFloat(Path model, float[] x) throws OrtException {
    try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
      opts.setOptimizationLevel(OptLevel.NO_OPT);
      try (OrtSession session = env.createSession(model.toString(), opts);
          OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {2, 3, C});
          OrtSession.Result res = session.run(Map.of("x", in))) {
        return flat((OnnxTensor) res.get(0));
      }
    }
  }

  private static Map<String, float[]> run(Path model, Map<String, long[][]> feeds, OptLevel level)
      throws OrtException {
    try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
      opts.setOptimizationLevel(level);
      try (OrtSession session = env.createSession(model.toString(), opts)) {
        Map<String, OnnxTensor> in = new LinkedHashMap<>();
        try {
          for (Map.Entry<String, long[][]> e : feeds.entrySet()) {
            in.put(e.getKey(), OnnxTensor.createTensor(env, e.getValue()));
          }
          try (OrtSession.Result res = session.run(in)) {
            Map<String, float[]> out = new LinkedHashMap<>();
            for (Map.Entry<String, ai.onnxruntime.OnnxValue> e : res) {
              out.put(e.getKey(), flat((OnnxTensor) e.getValue()));
            }
            return out;
          }
        } finally {
          in.values().forEach(OnnxTensor::close);
        }
      }
    }
  }

  private static float[] flat(OnnxTensor t) {
    FloatBuffer b = t.getFloatBuffer();
    float[] a = new float[b.remaining()];
    b.get(a);
    return a;
  }

  private static double maxAbs(float[] a) {
    double m = 0;
    for (float v : a) {
      m = Math.max(m, Math.abs(v));
    }
    return m;
  }

  private static double maxAbsDiff(float[] a, float[] b) {
    assertThat(b).hasSameSizeAs(a);
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs((double) a[i] - b[i]));
    }
    return m;
  }
}
