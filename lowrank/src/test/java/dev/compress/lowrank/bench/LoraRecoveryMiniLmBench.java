package dev.compress.lowrank.bench;

import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.calibration.CalibrationSpec;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.BuiltinModels;
import dev.compress.api.io.onnx.OnnxReader;
import dev.compress.api.io.onnx.OnnxWriter;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.pass.ProgressListener;
import dev.compress.api.tensor.Tensor;
import dev.compress.lowrank.lora.AdaLoraConfig;
import dev.compress.lowrank.lora.AdaLoraPass;
import dev.compress.lowrank.lora.LoraConfig;
import dev.compress.lowrank.lora.LoraPass;
import dev.compress.lowrank.rank.Allocation;
import dev.compress.lowrank.svdllm.SvdLlmConfig;
import dev.compress.lowrank.svdllm.SvdLlmPass;
import dev.compress.runtime.calibration.TextCalibrationLoader;
import dev.compress.runtime.calibration.TextSamples;
import dev.compress.runtime.calibration.TokenizerLocator;
import dev.compress.runtime.text.EncodedBatch;
import dev.compress.runtime.text.SentenceTokenizer;
import dev.compress.training.distill.LossTerm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Low-rank recovery on all-MiniLM-L6-v2 (real weights): SVD-LLM removes 20% of the encoder's linear
 * parameters (global allocation), then {@code lora} trains rank-r adapters on both factors of every
 * factorized layer against the fp32 model (embedding MSE + cosine on Moby-Dick calibration
 * sentences) and merges them. Prints the held-out mean / min cosine to fp32 (State of the Union
 * sentences, ONNX Runtime) before and after the recovery, the training steps and wall time, and
 * parameters and file size. A benchmark: it never asserts.
 *
 * <p>Run (from the repository root): {@code ./mvnw -o -q -B -pl lowrank -am test-compile
 * dependency:build-classpath -Dmdep.outputFile=target/bench.cp -Dmdep.includeScope=test
 * -Dspotless.check.skip=true && java -Xmx6g -cp
 * lowrank/target/test-classes:lowrank/target/classes:$(cat lowrank/target/bench.cp)
 * dev.compress.lowrank.bench.LoraRecoveryMiniLmBench} ({@code -Dbench.heldout=300
 * -Dbench.samples=256 -Dbench.tokens=64 -Dbench.steps=60 -Dbench.batch=16 -Dbench.rank=8
 * -Dbench.alpha=16 -Dbench.lr=1e-3}; {@code -Dbench.factored=FILE} starts from the svd-llm model an
 * earlier run wrote instead of factorizing again; {@code -Dbench.method=adalora} trains AdaLoRA
 * instead, from rank {@code -Dbench.initRank=12} to an average of {@code bench.rank}, {@code
 * -Dbench.orth=0.1}).
 */
public final class LoraRecoveryMiniLmBench {
  private static final String MODEL = "builtin:all-minilm-l6-v2";

  private LoraRecoveryMiniLmBench() {}

  public static void main(String[] args) throws Exception {
    int heldoutCount = Integer.getInteger("bench.heldout", 300);
    int samples = Integer.getInteger("bench.samples", 256);
    int tokens = Integer.getInteger("bench.tokens", 64);
    int steps = Integer.getInteger("bench.steps", 60);
    int batch = Integer.getInteger("bench.batch", 16);
    int rank = Integer.getInteger("bench.rank", 8);
    double alpha = Double.parseDouble(System.getProperty("bench.alpha", "16"));
    double lr = Double.parseDouble(System.getProperty("bench.lr", "1e-3"));
    Path original = BuiltinModels.resolve(MODEL);
    Path tmp = Files.createTempDirectory("lora-bench");
    List<String> sentences =
        TextSamples.read("builtin:heldout-sentences", "data").subList(0, heldoutCount);
    List<Map<String, Tensor>> heldout = new ArrayList<>();
    try (SentenceTokenizer tok =
        SentenceTokenizer.create(TokenizerLocator.locate(MODEL, original), 256)) {
      for (int i = 0; i < sentences.size(); i += 32) {
        EncodedBatch b = tok.encode(sentences.subList(i, Math.min(sentences.size(), i + 32)));
        heldout.add(b.asMap());
      }
    }
    List<float[][]> reference = LowRankMiniLmBench.embed(original, heldout);
    CalibrationSet calibration =
        new TextCalibrationLoader()
            .load(
                new CalibrationSpec(
                    "text", "builtin:calibration-text", samples, tokens, 16, 0, true, ""),
                OnnxReader.read(original),
                original,
                MODEL);
    ModelGraph teacher = OnnxReader.read(original);
    ModelGraph m = OnnxReader.read(original);
    PassContext ctx =
        new PassContext(0, Optional.of(calibration), Optional.of(teacher), ProgressListener.NONE);
    LayerSelection encoder = new LayerSelection(List.of("re:/encoder/.*"), List.of());
    long s0 = System.nanoTime();
    Path factored;
    String given = System.getProperty("bench.factored");
    if (given != null) { // a factorized model an earlier run wrote (the SVDs take minutes)
      factored = Path.of(given);
      m = OnnxReader.read(factored);
    } else {
      new SvdLlmPass(new SvdLlmConfig(encoder, Allocation.GLOBAL, 0.2, 0.95, 64)).apply(m, ctx);
      factored = tmp.resolve("svdllm-20.onnx");
      OnnxWriter.write(m, factored);
    }
    double svdSecs = (System.nanoTime() - s0) / 1e9;
    double[] before =
        LowRankMiniLmBench.cosine(LowRankMiniLmBench.embed(factored, heldout), reference);
    System.out.printf(
        "all-MiniLM-L6-v2, %d held-out sentences, %d calibration samples x %d tokens, %d cores%n",
        heldoutCount, samples, tokens, Runtime.getRuntime().availableProcessors());
    System.out.printf(
        "fp32: %d parameters, %d bytes; svd-llm -20%% global (%.1f s): %d parameters, %d bytes,"
            + " held-out cosine mean %.4f min %.4f%n",
        LowRankMiniLmBench.parameters(teacher),
        Files.size(original),
        svdSecs,
        LowRankMiniLmBench.parameters(m),
        Files.size(factored),
        before[0],
        before[1]);
    List<LossTerm> losses =
        List.of(
            LossTerm.of(LossTerm.Kind.EMBEDDING_MSE), LossTerm.of(LossTerm.Kind.EMBEDDING_COSINE));
    boolean ada = System.getProperty("bench.method", "lora").equals("adalora");
    long t0 = System.nanoTime();
    PassReport r;
    if (ada) { // the same final budget: rank bench.initRank falling to an average of bench.rank
      AdaLoraConfig c =
          AdaLoraConfig.builder()
              .targets("re:/encoder/.*")
              .rank(Integer.getInteger("bench.initRank", 12))
              .targetRank(rank)
              .alpha(alpha)
              .orthWeight(Double.parseDouble(System.getProperty("bench.orth", "0.1")))
              .lr(lr)
              .steps(steps)
              .batchSize(batch)
              .losses(losses.toArray(LossTerm[]::new))
              .validationFraction(0.1)
              .validateEvery(Math.max(1, steps / 5))
              .build();
      r = new AdaLoraPass(c).apply(m, ctx);
      System.out.printf(
          "adalora rank %d -> average %d: allocated min %.0f max %.0f, %.0f adapter parameters"
              + " kept%n",
          c.rank(),
          rank,
          r.metrics().get("rank_allocated_min"),
          r.metrics().get("rank_allocated_max"),
          r.metrics().get("adapter_parameters_kept"));
    } else {
      LoraConfig c =
          LoraConfig.defaults()
              .withSelection(new LayerSelection(List.of("re:/encoder/.*"), List.of()))
              .withRank(rank, alpha)
              .withSchedule(lr, steps, batch)
              .withLosses(losses)
              .withValidation(0.1, Math.max(1, steps / 5));
      r = new LoraPass(c).apply(m, ctx);
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    Path recovered = tmp.resolve("svdllm-20-lora.onnx");
    OnnxWriter.write(m, recovered);
    double[] after =
        LowRankMiniLmBench.cosine(LowRankMiniLmBench.embed(recovered, heldout), reference);
    System.out.printf(
        (ada ? "adalora" : "lora")
            + " r=%d alpha=%.0f lr=%.1g: %d steps x %d, %.0f layers, %.0f adapter parameters,"
            + " pass %.1f s (teacher %.1f s, training %.1f s), validation loss %.4g -> %.4g%n",
        rank,
        alpha,
        lr,
        r.metrics().get("steps").intValue(),
        batch,
        r.metrics().get("layers_adapted"),
        r.metrics().get("adapter_parameters"),
        secs,
        r.metrics().get("teacher_seconds"),
        r.metrics().get("train_seconds"),
        r.metrics().get("validation_loss_before"),
        r.metrics().get("validation_loss_best"));
    System.out.printf(
        "after recovery (merged): %d parameters, %d bytes, held-out cosine mean %.4f min %.4f"
            + " (before %.4f / %.4f)%n",
        LowRankMiniLmBench.parameters(m),
        Files.size(recovered),
        after[0],
        after[1],
        before[0],
        before[1]);
  }
}
