package dev.compress.pruning.bench;

import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.calibration.CalibrationSpec;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.BuiltinModels;
import dev.compress.api.io.onnx.OnnxReader;
import dev.compress.api.io.onnx.OnnxWriter;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.pass.ProgressListener;
import dev.compress.api.tensor.Tensor;
import dev.compress.pruning.magnitude.MagnitudePruningConfig;
import dev.compress.pruning.magnitude.MagnitudePruningPass;
import dev.compress.pruning.sparsegpt.SparseGptConfig;
import dev.compress.pruning.sparsegpt.SparseGptPass;
import dev.compress.pruning.wanda.WandaConfig;
import dev.compress.pruning.wanda.WandaPass;
import dev.compress.runtime.calibration.BuiltinTextData;
import dev.compress.runtime.calibration.TextCalibrationLoader;
import dev.compress.runtime.calibration.TextSamples;
import dev.compress.runtime.calibration.TokenizerLocator;
import dev.compress.runtime.ort.OrtExecutor;
import dev.compress.runtime.text.EncodedBatch;
import dev.compress.runtime.text.SentenceEmbeddings;
import dev.compress.runtime.text.SentenceTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The issue-15 table: all-MiniLM-L6-v2 pruned to 50% unstructured and 2:4 by magnitude, Wanda and
 * SparseGPT (every linear layer; 128 Moby-Dick calibration sentences of up to 128 tokens), mean and
 * min cosine of the mean-pooled embeddings to the fp32 model on held-out sentences run in ONNX
 * Runtime, and the wall time of each pass.
 *
 * <pre>
 * ./mvnw -B -o -q -pl pruning -am test-compile -Psparse-bench -Dspotless.check.skip
 * java -Xmx3g -cp pruning/target/test-classes:pruning/target/classes:$(cat pruning/target/bench.classpath) \
 *   dev.compress.pruning.bench.SparseMiniLmBench [heldout sentences, default 200]
 * </pre>
 */
public final class SparseMiniLmBench {
  static final String MODEL = "builtin:all-minilm-l6-v2";

  private final Path file;
  private final List<Map<String, Tensor>> heldout = new ArrayList<>();
  private final float[][] reference;
  private final Path dir;

  private SparseMiniLmBench(int heldoutSentences) throws Exception {
    file = BuiltinModels.resolve(MODEL);
    dir = Files.createTempDirectory("sparse-bench");
    List<String> all = TextSamples.read(BuiltinTextData.HELDOUT_SENTENCES, "heldout");
    List<String> used = all.subList(0, Math.min(heldoutSentences, all.size()));
    try (SentenceTokenizer t =
        SentenceTokenizer.create(TokenizerLocator.locate(MODEL, file), 128)) {
      for (int i = 0; i < used.size(); i += 32) {
        EncodedBatch b = t.encode(used.subList(i, Math.min(used.size(), i + 32)));
        heldout.add(b.asMap());
      }
    }
    reference = embed(file);
  }

  private float[][] embed(Path model) throws Exception {
    List<float[]> rows = new ArrayList<>();
    try (OrtExecutor ort = OrtExecutor.builder().setModelPath(model).build()) {
      for (Map<String, Tensor> b : heldout) {
        Map<String, Tensor> out = ort.forward(b);
        rows.addAll(
            List.of(SentenceEmbeddings.embed(out.get("output_0"), b.get("attention_mask"))));
      }
    }
    return rows.toArray(new float[0][]);
  }

  private double[] fidelity(ModelGraph m, String label) throws Exception {
    Path f = dir.resolve(label + ".onnx");
    OnnxWriter.write(m, f);
    float[][] e = embed(f);
    double sum = 0;
    double min = 1;
    for (int i = 0; i < e.length; i++) {
      double c = SentenceEmbeddings.cosine(e[i], reference[i]);
      sum += c;
      min = Math.min(min, c);
    }
    Files.delete(f);
    return new double[] {sum / e.length, min};
  }

  private void row(String method, String pattern, Pass<?> pass, double paper) throws Exception {
    ModelGraph m = OnnxReader.read(file);
    CalibrationSpec spec =
        CalibrationSpec.builder(BuiltinTextData.CALIBRATION_TEXT)
            .kind("text")
            .samples(128)
            .sequenceLength(128)
            .batchSize(16)
            .seed(0)
            .shuffle(true)
            .tokenizer("")
            .build();
    CalibrationSet cal = new TextCalibrationLoader().load(spec, m, file, MODEL);
    PassContext ctx = new PassContext(0, Optional.of(cal), Optional.empty(), ProgressListener.NONE);
    long t0 = System.nanoTime();
    PassReport r = pass.apply(m, ctx);
    double secs = (System.nanoTime() - t0) / 1e9;
    double[] f = fidelity(m, method + "-" + pattern.replace(":", "of"));
    System.out.printf(
        "| %-9s | %-12s | %.4f | %.4f | %.3f | %6.1f s | %.4f |%n",
        method, pattern, f[0], f[1], paper, secs, r.metrics().get("sparsity"));
  }

  /** Runs the table. */
  public static void main(String[] args) throws Exception {
    int heldout = args.length > 0 ? Integer.parseInt(args[0]) : 200;
    SparseMiniLmBench b = new SparseMiniLmBench(heldout);
    System.out.printf(
        "all-MiniLM-L6-v2, %d held-out sentences, 128 calibration sentences, %d cores%n",
        b.reference.length, Runtime.getRuntime().availableProcessors());
    System.out.println(
        "| method    | pattern      | mean cos | min cos | paper | time | sparsity |");
    LayerSelection all = LayerSelection.ALL;
    for (String p : List.of("unstructured", "2:4")) {
      boolean u = p.equals("unstructured");
      b.row(
          "magnitude",
          p,
          new MagnitudePruningPass(
              MagnitudePruningConfig.builder()
                  .selection(all)
                  .sparsity(0.5)
                  .scope(MagnitudePruningConfig.Scope.PER_LAYER)
                  .pattern(p)
                  .build()),
          u ? 0.721 : 0.622);
      b.row(
          "wanda",
          p,
          new WandaPass(
              WandaConfig.builder()
                  .selection(all)
                  .sparsity(0.5)
                  .pattern(p)
                  .blockPattern(null)
                  .build()),
          u ? 0.859 : 0.747);
      b.row(
          "sparsegpt",
          p,
          new SparseGptPass(
              SparseGptConfig.builder()
                  .selection(all)
                  .sparsity(0.5)
                  .pattern(p)
                  .blockSize(128)
                  .dampPercent(0.01)
                  .blockPattern(null)
                  .build()),
          u ? 0.895 : 0.827);
    }
  }
}
