package dev.compress.distillation.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.calibration.CalibrationSpec;
import dev.compress.api.exec.Device;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.BuiltinModels;
import dev.compress.api.io.onnx.OnnxReader;
import dev.compress.api.pass.ProgressListener;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.runtime.calibration.TextCalibrationLoader;
import dev.compress.training.ParameterSelection;
import dev.compress.training.TensorNd;
import dev.compress.training.TrainableFactory;
import dev.compress.training.TrainableModel;
import dev.compress.training.data.TensorExamples;
import dev.compress.training.distill.LossPlan;
import dev.compress.training.distill.LossTerm;
import dev.compress.training.loop.StepLoss;
import dev.compress.training.loop.TrainConfig;
import dev.compress.training.loop.TrainResult;
import dev.compress.training.loop.Trainer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Training step time of all-MiniLM-L6-v2 (every one of its 22.7M parameters trained) against a
 * frozen forward of the same batch, and the process's memory over many updates (issue 14). A
 * benchmark: it never asserts.
 *
 * <p>The step is exactly {@code distill}'s: the training module's {@link Trainer} (zero gradients,
 * forward inside a gradient recording, {@link LossPlan} loss, backward, global-norm clipping, AdamW
 * with warmup and cosine decay) on {@link TensorExamples} of tokenized {@code
 * builtin:calibration-text} sentences, truncated or padded to exactly {@code bench.tokens}. The
 * loss is {@code embedding-cosine} against a fixed random target per sentence (standing in for a
 * teacher's values, so the gradients are not zero); the cost of a step does not depend on the
 * target. The forward is the same model's forward of the same batch outside any recording, the way
 * validation and the teacher run. Times are medians.
 *
 * <p>Memory: every {@code bench.sampleEvery} updates (from the trainer's progress callback) it
 * prints the resident set ({@code VmRSS}, native PyTorch memory included) and the Java heap used
 * after a {@code System.gc()}; a leak shows as growth between the first and the last samples.
 *
 * <p>Build: {@code ./mvnw -o -q -B -pl distillation -am test-compile dependency:build-classpath
 * -Dmdep.outputFile=target/bench.cp -Dmdep.includeScope=test -Dspotless.check.skip=true}. Run:
 * {@code java -Xmx2g -cp distillation/target/test-classes:distillation/target/classes:$(cat
 * distillation/target/bench.cp) dev.compress.distillation.bench.TrainStepMiniLmBench} with {@code
 * -Dbench.batch=32 -Dbench.tokens=64 -Dbench.steps=20 -Dbench.forwards=10 -Dbench.sampleEvery=5}
 * (the defaults: step vs forward time) or {@code -Dbench.batch=4 -Dbench.tokens=32
 * -Dbench.steps=1000 -Dbench.sampleEvery=50} (the memory check at a smaller batch).
 *
 * <p>Measured 2026-12-08 on the shared 2-core machine at load average ~17 (times are the load's as
 * much as the code's): batch 32 x 64, forward 2,894 ms, training step 13,710 ms (4.74x a forward),
 * peak RSS 1.80 GB. Memory at batch 2 x 16 (a step took ~3 s, so 1,000 steps would take ~50 min;
 * stopped after 200): RSS 709 / 706 / 724 / 722 / 722 MB at steps 1 / 50 / 100 / 150 / 200, Java
 * heap used 10 MB at every sample: no growth seen in 200 updates.
 */
public final class TrainStepMiniLmBench {
  private static final String MODEL = "builtin:all-minilm-l6-v2";

  private TrainStepMiniLmBench() {}

  public static void main(String[] args) throws Exception {
    int batch = Integer.getInteger("bench.batch", 32);
    int tokens = Integer.getInteger("bench.tokens", 64);
    int steps = Integer.getInteger("bench.steps", 20);
    int forwards = Integer.getInteger("bench.forwards", 10);
    int every = Integer.getInteger("bench.sampleEvery", 5);
    Path file = BuiltinModels.resolve(MODEL);
    ModelGraph model = OnnxReader.read(file);
    int samples = Math.max(4 * batch, 128);
    CalibrationSet data =
        new TextCalibrationLoader()
            .load(
                new CalibrationSpec(
                    "text", "builtin:calibration-text", samples, tokens, samples, 0, true, ""),
                model,
                file,
                MODEL);
    LossPlan plan =
        LossPlan.resolve(
            List.of(LossTerm.of(LossTerm.Kind.EMBEDDING_COSINE)),
            model,
            model,
            data.batches().get(0).keySet());
    String target = plan.teacherValues().iterator().next();
    TensorExamples examples = fixedLength(data.batches().get(0), tokens, target, 384);
    System.out.printf(
        "all-MiniLM-L6-v2, batch %d x %d tokens, %d examples, %d cores, max heap %d MB%n",
        batch,
        tokens,
        examples.size(),
        Runtime.getRuntime().availableProcessors(),
        Runtime.getRuntime().maxMemory() >> 20);
    try (TrainableModel m =
        TrainableFactory.installedDefault().create(model, ParameterSelection.all(), Device.CPU)) {
      long params = m.parameters().stream().mapToLong(p -> p.size()).sum();
      int[] first = new int[batch];
      for (int i = 0; i < batch; i++) {
        first[i] = i;
      }
      Map<String, Tensor> b = examples.batch(first);
      double[] fwd = new double[forwards];
      for (int i = -2; i < forwards; i++) { // two warm-up forwards
        try (NDManager nd = m.newManager()) {
          Map<String, NDArray> in = new LinkedHashMap<>();
          for (String name : m.inputNames()) {
            in.put(name, TensorNd.toNd(b.get(name), nd));
          }
          long t0 = System.nanoTime();
          m.forward(nd, in).values().iterator().next().getFloat(0, 0, 0);
          if (i >= 0) {
            fwd[i] = (System.nanoTime() - t0) / 1e6;
          }
        }
      }
      StepLoss loss =
          (tm, nd, bb) -> plan.loss(nd, tm.forward(nd, inputs(tm, bb), plan.studentValues()), bb);
      List<Double> stepMs = new ArrayList<>();
      ProgressListener sampler =
          new ProgressListener() {
            private long last = System.nanoTime();

            @Override
            public void step(String pass, int done, int total, String item) {
              long now = System.nanoTime();
              stepMs.add((now - last) / 1e6);
              if (done % every == 0 || done == 1) {
                System.gc();
                Runtime rt = Runtime.getRuntime();
                System.out.printf(
                    "step %5d: RSS %5d MB, heap used %4d MB, %s%n",
                    done, rssKb("VmRSS") >> 10, (rt.totalMemory() - rt.freeMemory()) >> 20, item);
              }
              last = System.nanoTime(); // the sample itself is not part of the next step
            }
          };
      TrainConfig tc =
          TrainConfig.builder()
              .optSteps(steps)
              .optBatchSize(batch)
              .optLr(1e-5)
              .optWarmup(0.1)
              .optClipNorm(1.0)
              .optSeed(0)
              .build();
      long t0 = System.nanoTime();
      TrainResult r = new Trainer(tc, sampler).fit(m, examples, loss);
      double wall = (System.nanoTime() - t0) / 1e9;
      double stepMedian = median(stepMs.subList(Math.min(2, stepMs.size() - 1), stepMs.size()));
      double fwdMedian = median(Arrays.stream(fwd).boxed().toList());
      System.out.printf(
          "%d parameters trained; forward %.0f ms, training step %.0f ms (median, first two steps"
              + " left out): %.2fx a forward; %d steps in %.1f s; loss %.4f -> %.4f; peak RSS %d"
              + " MB%n",
          params,
          fwdMedian,
          stepMedian,
          stepMedian / fwdMedian,
          r.steps(),
          wall,
          r.history().get(0).loss(),
          r.finalLoss(),
          rssKb("VmHWM") >> 10);
    }
  }

  /**
   * The batch's examples at exactly {@code tokens} (padded with mask 0, or truncated), each with a
   * fixed random target {@code [1, tokens, dim]} as {@code teacher/target}.
   */
  private static TensorExamples fixedLength(
      Map<String, Tensor> batch, int tokens, String target, int dim) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    long n = -1;
    for (Map.Entry<String, Tensor> e : batch.entrySet()) {
      Tensor t = e.getValue();
      n = t.dim(0);
      long len = t.dim(1);
      long[] ids = new long[(int) (n * tokens)];
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < Math.min(len, tokens); j++) {
          ids[i * tokens + j] = longAt(t, i * len + j);
        }
      }
      Tensor fixed = Tensor.ofLongs(e.getKey(), new long[] {n, tokens}, ids);
      out.put(e.getKey(), t.dtype() == DataType.INT64 ? fixed : toInt32(fixed));
    }
    Random r = new Random(1);
    ByteBuffer buf =
        ByteBuffer.allocate(Math.toIntExact(n * tokens * dim * 4)).order(ByteOrder.LITTLE_ENDIAN);
    for (long i = 0; i < n * tokens * dim; i++) {
      buf.putFloat((float) r.nextGaussian());
    }
    buf.flip();
    out.put(
        LossPlan.TEACHER + target,
        Tensor.of(LossPlan.TEACHER + target, DataType.FLOAT, new long[] {n, tokens, dim}, buf));
    return TensorExamples.fromBatches(List.of(out));
  }

  private static long longAt(Tensor t, long index) {
    ByteBuffer d = t.data().order(ByteOrder.LITTLE_ENDIAN);
    return t.dtype() == DataType.INT64 ? d.getLong((int) (index * 8)) : d.getInt((int) (index * 4));
  }

  private static Tensor toInt32(Tensor t) {
    long[] shape = t.shape();
    int[] v = new int[(int) t.elementCount()];
    for (int i = 0; i < v.length; i++) {
      v[i] = (int) longAt(t, i);
    }
    return Tensor.ofInts(t.name(), shape, v);
  }

  private static Map<String, NDArray> inputs(TrainableModel m, Map<String, NDArray> batch) {
    Map<String, NDArray> in = new LinkedHashMap<>();
    for (String name : m.inputNames()) {
      in.put(name, batch.get(name));
    }
    return in;
  }

  private static double median(List<Double> v) {
    double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
  }

  private static long rssKb(String key) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith(key + ":")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (java.io.IOException e) {
      return -1;
    }
    return -1;
  }
}
