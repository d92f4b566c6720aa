package dev.compress.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.api.canonical.CanonicalizationReport;
import dev.compress.api.canonical.Canonicalizer;
import dev.compress.api.exec.ForwardResult;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.BuiltinModels;
import dev.compress.api.io.onnx.OnnxReader;
import dev.compress.api.tensor.Tensor;
import dev.compress.runtime.djl.DjlExecutor;
import dev.compress.runtime.ort.OrtExecutor;
import dev.compress.runtime.text.EncodedBatch;
import dev.compress.runtime.text.SentenceEmbeddings;
import dev.compress.runtime.text.SentenceTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * all-MiniLM-L6-v2 (the real pretrained weights): the DJL interpreter against ONNX Runtime on a
 * batch of varied sentences, for both exports and after canonicalization.
 */
class MiniLmEquivalenceTest {
  static final List<String> SENTENCES =
      List.of(
          "The quick brown fox jumps over the lazy dog.",
          "A man is playing a guitar on the street corner while people walk by.",
          "Quantization reduces the precision of weights to make models smaller and faster.",
          "Il pleut à Paris.",
          "I love this!",
          "The stock market fell sharply after the announcement of new tariffs on imported steel"
              + " and aluminium, dragging technology shares down with it.",
          "Where is the nearest train station?",
          "Ein kleines Modell, das Sätze in Vektoren verwandelt.");

  private static Path modelFile;
  private static ModelGraph model;
  private static SentenceTokenizer tokenizer;
  private static EncodedBatch batch;
  private static OrtExecutor ort;
  private static Map<String, Tensor> reference;

  @BeforeAll
  static void load() throws Exception {
    modelFile = BuiltinModels.extract("all-minilm-l6-v2.onnx");
    model = OnnxReader.read(modelFile);
    tokenizer =
        SentenceTokenizer.create(BuiltinModels.extract("all-minilm-l6-v2-tokenizer.json"), 128);
    batch = tokenizer.encode(SENTENCES);
    ort = OrtExecutor.builder().setModelPath(modelFile).optIntraOpThreads(2).build();
    reference = ort.forward(batch.inputsFor(ort.inputNames()));
  }

  @AfterAll
  static void close() {
    if (ort != null) {
      ort.close();
    }
    if (tokenizer != null) {
      tokenizer.close();
    }
  }

  private static double compare(String label, Map<String, Tensor> djl, Map<String, Tensor> ref) {
    assertThat(djl.keySet()).containsExactlyElementsOf(ref.keySet());
    double worst = 0;
    for (String k : ref.keySet()) {
      double d = TestGraphs.maxAbsDiff(djl.get(k), ref.get(k));
      System.out.printf("[minilm] %-22s output %-9s max|djl-ort| = %.3g%n", label, k, d);
      worst = Math.max(worst, d);
    }
    return worst;
  }

  /** Max |a - b| over the positions whose attention mask is 1. */
  private static double maxDiffOnRealTokens(Tensor a, Tensor b) {
    float[] x = a.toFloatArray();
    float[] y = b.toFloatArray();
    long[] mask = batch.attentionMask().toLongArray();
    int w = (int) a.dim(2);
    double m = 0;
    for (int p = 0; p < mask.length; p++) {
      if (mask[p] != 0) {
        for (int k = 0; k < w; k++) {
          m = Math.max(m, Math.abs(x[p * w + k] - y[p * w + k]));
        }
      }
    }
    return m;
  }

  @Test
  void djlMatchesOrtOnEveryOutput() throws Exception {
    assertThat(batch.batchSize()).isEqualTo(8);
    try (DjlExecutor djl = DjlExecutor.create(model)) {
      assertThat(djl.inputNames()).containsExactlyElementsOf(ort.inputNames());
      Map<String, Tensor> out = djl.forward(batch.inputsFor(djl.inputNames()));
      String hidden = djl.outputNames().get(0); // last_hidden_state (named output_0 in this export)
      assertThat(out.get(hidden).shape()).containsExactly(8, batch.sequenceLength(), 384);
      double d = compare("opset14", out, reference);
      assertThat(d).isLessThanOrEqualTo(1e-4); // measured 4.2e-5 (last_hidden_state)
      double real = maxDiffOnRealTokens(out.get(hidden), reference.get(hidden));
      System.out.printf("[minilm] opset14 last_hidden_state on real tokens only: %.3g%n", real);
      assertThat(real).isLessThanOrEqualTo(1e-5); // measured 3.1e-6: the 4.2e-5 is at padding

      float[][] a = SentenceEmbeddings.embed(out.get(hidden), batch.attentionMask());
      float[][] b = SentenceEmbeddings.embed(reference.get(hidden), batch.attentionMask());
      for (int i = 0; i < a.length; i++) {
        assertThat(SentenceEmbeddings.cosine(a[i], b[i])).isGreaterThan(0.999999);
      }
      // Embeddings carry meaning: the two "place" questions in other languages are closer to each
      // other than to the stock-market sentence... at least the fox/dog sentence is not a
      // duplicate.
      assertThat(SentenceEmbeddings.cosine(a[0], a[0])).isGreaterThan(0.9999);
      assertThat(SentenceEmbeddings.cosine(a[0], a[5])).isLessThan(0.5);
    }
  }

  @Test
  void canonicalizedGraphMatchesTheOriginalInOrt() throws Exception {
    ModelGraph canonical = OnnxReader.read(modelFile);
    CanonicalizationReport report = Canonicalizer.canonicalize(canonical);
    assertThat(report.layerNorms()).isEqualTo(13);
    assertThat(report.gelus()).isEqualTo(6);
    try (DjlExecutor djl = DjlExecutor.create(canonical)) {
      double d = compare("canonical", djl.forward(batch.inputsFor(djl.inputNames())), reference);
      assertThat(d).isLessThanOrEqualTo(1e-4); // measured 5.0e-5
    }
  }

  @Test
  void olderOpset11ExportMatchesOrtToo() throws Exception {
    Path old = Path.of("target", "test-models", "minilm-opset11", "all-minilm-l6-v2.onnx");
    assertThat(old)
        .as("unpacked by this module's build (maven-dependency-plugin, generate-test-resources)")
        .exists();
    ModelGraph m = OnnxReader.read(old);
    assertThat(m.opset("").getAsLong()).isEqualTo(11);
    try (DjlExecutor djl = DjlExecutor.create(m);
        OrtExecutor ref = OrtExecutor.builder().setModelPath(old).optIntraOpThreads(2).build()) {
      Map<String, Tensor> in = batch.inputsFor(djl.inputNames());
      double d = compare("opset11", djl.forward(in), ref.forward(in));
      assertThat(d).isLessThanOrEqualTo(1e-4); // measured 4.2e-5
    }
  }

  @Test
  void captureRecordsTheActivationEnteringTheQueryProjection() throws Exception {
    String q = "/encoder/layer.0/attention/self/query/MatMul";
    String k = "/encoder/layer.0/attention/self/key/MatMul";
    try (DjlExecutor djl = DjlExecutor.create(model)) {
      ForwardResult r = djl.forward(batch.inputsFor(djl.inputNames()), Set.of(q, k));
      Tensor act = r.activation(q);
      assertThat(act.name()).isEqualTo("/embeddings/LayerNorm/Add_1_output_0");
      assertThat(act.shape()).containsExactly(8, batch.sequenceLength(), 384);
      assertThat(r.captured().get(q)).hasSize(1); // the weight onnx::MatMul_* is a constant
      assertThat(r.activation(k).toFloatArray()).containsExactly(act.toFloatArray());
    }
  }

  @Test
  void tokenizerPadsToTheLongestAndWorksOfflineFromTheBuildCache() throws Exception {
    long[] ids = batch.inputIds().toLongArray();
    long[] mask = batch.attentionMask().toLongArray();
    int t = batch.sequenceLength();
    assertThat(t).isLessThanOrEqualTo(128);
    assertThat(ids[0]).isEqualTo(101); // [CLS]
    // "I love this!" -> [CLS] i love this ! [SEP], then padding
    int row = 4 * t;
    assertThat(java.util.Arrays.copyOfRange(ids, row, row + 7))
        .containsExactly(101, 1045, 2293, 2023, 999, 102, 0);
    assertThat(java.util.Arrays.copyOfRange(mask, row, row + 7))
        .containsExactly(1, 1, 1, 1, 1, 1, 0);
    assertThat(batch.tokenTypeIds().toLongArray()).containsOnly(0);
    try (SentenceTokenizer fixed =
        SentenceTokenizer.createFixed(
            BuiltinModels.extract("all-minilm-l6-v2-tokenizer.json"), 16)) {
      EncodedBatch f = fixed.encode(SENTENCES);
      assertThat(f.inputIds().shape()).containsExactly(8, 16);
      assertThat(f.inputIds().toLongArray()[15]).isEqualTo(0); // short sentence padded
      assertThat(f.inputIds().toLongArray()[5 * 16 + 15]).isEqualTo(102); // long one truncated
    }
    // The native library came from the jar into the build's cache, as the build configures it.
    String cache = System.getProperty("DJL_CACHE_DIR");
    assertThat(cache).isNotNull();
    assertThat(System.getProperty("ai.djl.offline")).isEqualTo("true");
    try (var files = Files.walk(Path.of(cache))) {
      assertThat(files.map(p -> p.getFileName().toString())).contains("libtokenizers.so");
    }
  }
}
