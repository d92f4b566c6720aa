package dev.compress.quantization.awq;

import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.calibration.CalibrationSpec;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.BuiltinModels;
import dev.compress.api.io.onnx.OnnxReader;
import dev.compress.api.io.onnx.OnnxWriter;
import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.pass.ProgressListener;
import dev.compress.api.tensor.Tensor;
import dev.compress.quantization.grid.Granularity;
import dev.compress.quantization.rtn.ClipMethod;
import dev.compress.quantization.rtn.RtnConfig;
import dev.compress.quantization.rtn.RtnPass;
import dev.compress.runtime.calibration.TextCalibrationLoader;
import dev.compress.runtime.calibration.TextSamples;
import dev.compress.runtime.calibration.TokenizerLocator;
import dev.compress.runtime.ort.OrtExecutor;
import dev.compress.runtime.text.EncodedBatch;
import dev.compress.runtime.text.SentenceEmbeddings;
import dev.compress.runtime.text.SentenceTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * W4 g128 on all-MiniLM-L6-v2 (real weights): AWQ against round-to-nearest, both asymmetric, on the
 * embedding-fidelity protocol (mean-pooled, L2-normalized sentence embeddings of the held-out State
 * of the Union sentences, cosine to the fp32 model in ONNX Runtime), calibrated on
 * builtin:calibration-text (Moby-Dick, disjoint from the held-out set).
 */
class AwqMiniLmTest {
  private static final String MODEL = "builtin:all-minilm-l6-v2";
  private static final int HELDOUT = Integer.getInteger("awq.heldout", 300);

  private static Path original;
  private static List<Map<String, Tensor>> heldout;
  private static List<float[][]> reference;
  private static CalibrationSet calibration;
  @TempDir static Path tmp;

  @BeforeAll
  static void setUp() throws Exception {
    original = BuiltinModels.resolve(MODEL);
    List<String> sentences =
        TextSamples.read("builtin:heldout-sentences", "data").subList(0, HELDOUT);
    heldout = new ArrayList<>();
    try (SentenceTokenizer tok =
        SentenceTokenizer.create(TokenizerLocator.locate(MODEL, original), 256)) {
      for (int i = 0; i < sentences.size(); i += 32) {
        EncodedBatch b = tok.encode(sentences.subList(i, Math.min(sentences.size(), i + 32)));
        heldout.add(b.asMap());
      }
    }
    reference = embed(original);
    calibration =
        new TextCalibrationLoader()
            .load(
                CalibrationSpec.builder("builtin:calibration-text")
                    .kind("text")
                    .samples(Integer.getInteger("awq.calibration.samples", 32))
                    .sequenceLength(Integer.getInteger("awq.calibration.tokens", 64))
                    .batchSize(16)
                    .seed(0)
                    .shuffle(true)
                    .build(),
                OnnxReader.read(original),
                original,
                MODEL);
  }

  private static List<float[][]> embed(Path model) throws Exception {
    List<float[][]> out = new ArrayList<>();
    try (OrtExecutor ort = OrtExecutor.builder().setModelPath(model).build()) {
      for (Map<String, Tensor> b : heldout) {
        Map<String, Tensor> feeds = new java.util.LinkedHashMap<>();
        for (String n : ort.inputNames()) {
          feeds.put(n, b.get(n));
        }
        Map<String, Tensor> r = ort.forward(feeds);
        Tensor hidden =
            r.containsKey("last_hidden_state") ? r.get("last_hidden_state") : r.get("output_0");
        out.add(SentenceEmbeddings.embed(hidden, b.get("attention_mask")));
      }
    }
    return out;
  }

  /** Quantizes, writes, embeds in ONNX Runtime; returns {mean cosine, min cosine}. */
  private static double[] run(String label, Pass<?> pass) throws Exception {
    ModelGraph m = OnnxReader.read(original);
    long t0 = System.nanoTime();
    PassReport report =
        pass.apply(
            m,
            new PassContext(0, Optional.of(calibration), Optional.empty(), ProgressListener.NONE));
    double secs = (System.nanoTime() - t0) / 1e9;
    if (pass instanceof AwqPass) {
      // The fused LayerNormalization is ONNX from opset 17: the opset-14 export is raised to it.
      assertThat(m.opset("")).hasValue(17);
      assertThat(report.metrics()).containsEntry("opset_raised_to", 17.0);
    }
    Path file = tmp.resolve(label + ".onnx");
    OnnxWriter.write(m, file);
    List<float[][]> e = embed(file);
    double sum = 0;
    double min = 1;
    int n = 0;
    for (int b = 0; b < e.size(); b++) {
      for (int i = 0; i < e.get(b).length; i++) {
        double c = SentenceEmbeddings.cosine(e.get(b)[i], reference.get(b)[i]);
        sum += c;
        min = Math.min(min, c);
        n++;
      }
    }
    System.out.printf(
        "[awq-minilm] | %-28s | %.5f | %.5f | %3d layers | %5.1f s | loss ratio %s | %s s search"
            + " | %s s clip%n",
        label,
        sum / n,
        min,
        report.layersTouched().size(),
        secs,
        report.metrics().getOrDefault("module_loss_ratio_mean", Double.NaN),
        report.metrics().getOrDefault("seconds_scale_search", Double.NaN),
        report.metrics().getOrDefault("seconds_clip_search", Double.NaN));
    return new double[] {sum / n, min};
  }

  private static AwqConfig awq(ClipMethod clip, boolean duo) {
    return AwqConfig.builder()
        .bits(4)
        .groupSize(128)
        .symmetric(false)
        .alphaGrid(20)
        .duoScaling(duo)
        .clip(clip)
        .clipTokens(512)
        .residualMul(true)
        .accuracyLevel(0)
        .build();
  }

  @Test
  void foldedButUnquantizedMiniLmComputesTheSameEmbeddings() throws Exception {
    ModelGraph folded = OnnxReader.read(original);
    // Duo scaling makes s != 1 at every alpha, so every foldable group is really rescaled.
    AwqPass pass =
        new AwqPass(
            AwqConfig.builder()
                .bits(4)
                .groupSize(128)
                .symmetric(false)
                .alphaGrid(2)
                .duoScaling(true)
                .clip(ClipMethod.NONE)
                .clipTokens(512)
                .residualMul(true)
                .accuracyLevel(0)
                .build());
    AwqPass.Searched searched = pass.searched(folded, calibration);
    Map<String, Double> alphas = searched.alphas();
    // q/k/v (after the previous norm) and the FFN input (after the attention norm) of 6 layers.
    assertThat(alphas.values().stream().filter(a -> a >= 0).count()).isEqualTo(12);
    // o_proj reads the attention context, fc2 a GELU, the pooler a Gather: reported unscaled.
    assertThat(searched.unscaled()).hasSize(13);
    assertThat(searched.unscaled().get("/pooler/dense/Gemm")).contains("Gather");
    assertThat(folded.opset("")).hasValue(17); // raised for the fused LayerNormalization
    Path file = tmp.resolve("folded.onnx");
    OnnxWriter.write(folded, file);
    List<float[][]> e = embed(file);
    double min = 1;
    for (int b = 0; b < e.size(); b++) {
      for (int i = 0; i < e.get(b).length; i++) {
        min = Math.min(min, SentenceEmbeddings.cosine(e.get(b)[i], reference.get(b)[i]));
      }
    }
    assertThat(min).isGreaterThan(0.99999);
  }

  @Test
  void awqBeatsRoundToNearestAndTheClipSearchHelpsRoundToNearest() throws Exception {
    double[] rtn =
        run(
            "rtn w4 g128 asym",
            new RtnPass(
                RtnConfig.builder()
                    .bits(4)
                    .granularity(Granularity.PER_GROUP)
                    .groupSize(128)
                    .symmetric(false)
                    .build()));
    double[] rtnMse =
        run(
            "rtn w4 g128 asym clip=mse",
            new RtnPass(
                RtnConfig.builder()
                    .bits(4)
                    .granularity(Granularity.PER_GROUP)
                    .groupSize(128)
                    .symmetric(false)
                    .embeddings(false)
                    .clip(ClipMethod.MSE)
                    .build()));
    double[] awqFull = run("awq w4 g128", new AwqPass(awq(ClipMethod.MSE, false)));
    assertThat(rtnMse[0]).isGreaterThan(rtn[0]);
    assertThat(awqFull[0]).isGreaterThan(rtn[0]);
    if (Boolean.getBoolean("awq.table")) {
      // The rest of the quality table: -Dawq.table=true (slower; not asserted).
      run("awq w4 g128 scale only", new AwqPass(awq(ClipMethod.NONE, false)));
      run("awq w4 g128 duo", new AwqPass(awq(ClipMethod.MSE, true)));
      run(
          "awq w4 g128 clip only",
          new AwqPass(
              AwqConfig.builder()
                  .bits(4)
                  .groupSize(128)
                  .symmetric(false)
                  .alphaGrid(1)
                  .duoScaling(false)
                  .clip(ClipMethod.MSE)
                  .clipTokens(512)
                  .residualMul(true)
                  .accuracyLevel(0)
                  .build()));
    }
  }
}
