package dev.compress.runtime.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.compress.api.exec.Device;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.BuiltinModels;
import dev.compress.api.io.onnx.OnnxReader;
import dev.compress.api.tensor.Tensor;
import dev.compress.runtime.djl.DjlExecutor;
import dev.compress.runtime.djl.DjlTrainableModel;
import dev.compress.training.GradientRecording;
import dev.compress.training.ParameterSelection;
import dev.compress.training.TensorNd;
import dev.compress.training.loss.Losses;
import dev.compress.training.optim.AdamW;
import dev.compress.training.optim.GradClip;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * Training step time on all-MiniLM-L6-v2 (every float initializer trainable, AdamW, clipping)
 * against a forward, at batch B x T tokens, and heap / native memory over many steps. A benchmark,
 * never part of the test suite; run from the runtime module's test class path:
 *
 * <pre>{@code
 * ./mvnw -o -q -pl training,runtime -am test-compile dependency:build-classpath \
 *     -Dmdep.outputFile=/tmp/cp.txt -Dmdep.includeScope=test
 * cd runtime && $JAVA_HOME/bin/java -Xmx2g --add-modules jdk.incubator.vector -Dai.djl.offline=true \
 *     -DDJL_CACHE_DIR=target/djl-cache \
 *     -cp target/test-classes:target/classes:../training/target/classes:$(cat /tmp/cp.txt) \
 *     dev.compress.runtime.bench.TrainStepBench [timedSteps] [memorySteps] [batch] [tokens]
 * }</pre>
 *
 * <p>Measured on the shared 2-core development machine (batch 32 x 64, 5 timed steps): inference
 * forward 4.86 s, trainable forward 5.39 s, train step 19.7 s (4.05x the forward); over 42 steps
 * heap after GC 10.8-11.3 MB, RSS 1715-1751 MB, native arrays of the model constant at 508.
 */
public final class TrainStepBench {
  private TrainStepBench() {}

  public static void main(String[] args) throws Exception {
    int timed = args.length > 0 ? Integer.parseInt(args[0]) : 10;
    int memSteps = args.length > 1 ? Integer.parseInt(args[1]) : 100;
    int batch = args.length > 2 ? Integer.parseInt(args[2]) : 32;
    int tokens = args.length > 3 ? Integer.parseInt(args[3]) : 64;
    Path modelFile = BuiltinModels.extract("all-minilm-l6-v2.onnx");
    ModelGraph graph = OnnxReader.read(modelFile);
    System.out.printf(
        "TrainStepBench: all-MiniLM-L6-v2 (%.1f MB), batch %d x %d tokens, %d cores, Java %s%n",
        Files.size(modelFile) / 1e6,
        batch,
        tokens,
        Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.version"));
    Map<String, Tensor> in = inputs(graph, batch, tokens, 1);
    Map<String, Tensor> in2 = inputs(graph, batch, tokens, 2);
    String out = graph.graph().outputs().get(0).name();

    Tensor target;
    double fwdInference;
    try (DjlExecutor ex = DjlExecutor.create(graph)) {
      target = ex.forward(in2).get(out);
      ex.forward(in);
      long t = System.nanoTime();
      for (int i = 0; i < timed; i++) {
        ex.forward(in);
      }
      fwdInference = (System.nanoTime() - t) / 1e9 / timed;
    }
    try (DjlTrainableModel m =
            DjlTrainableModel.create(graph, ParameterSelection.all(), Device.CPU);
        AdamW opt = new AdamW(0.9, 0.999, 1e-8, 0.01)) {
      long params = m.parameters().stream().mapToLong(p -> p.size()).sum();
      System.out.printf(
          "parameters: %d tensors, %.2f M values%n", m.parameters().size(), params / 1e6);
      double fwdFrozen;
      try (NDManager nd = m.newManager()) {
        Map<String, NDArray> x = nd(in, nd);
        m.forward(nd, x).values().forEach(NDArray::close);
        long t = System.nanoTime();
        for (int i = 0; i < timed; i++) {
          m.forward(nd, x).values().forEach(NDArray::close);
        }
        fwdFrozen = (System.nanoTime() - t) / 1e9 / timed;
      }
      long[] step = {0};
      Runnable train =
          () -> {
            try (NDManager nd = m.newManager()) {
              Map<String, NDArray> x = nd(in, nd);
              NDArray y = TensorNd.toNd(target, nd);
              m.zeroGradients();
              try (GradientRecording rec = m.recordGradients()) {
                rec.backward(Losses.mse(m.forward(nd, x).get(out), y));
              }
              GradClip.clipGlobalNorm(m.parameters(), 1.0);
              opt.step(m.parameters(), 1e-5, ++step[0]);
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          };
      train.run();
      long t = System.nanoTime();
      for (int i = 0; i < timed; i++) {
        train.run();
      }
      double stepTime = (System.nanoTime() - t) / 1e9 / timed;
      System.out.printf(
          "forward (inference executor) %.3f s | forward (trainable, not recording) %.3f s |"
              + " train step (forward+backward+clip+AdamW) %.3f s = %.2fx the inference forward%n",
          fwdInference, fwdFrozen, stepTime, stepTime / fwdInference);

      System.out.println("memory over " + memSteps + " more steps (heap after GC, process RSS):");
      for (int i = 0; i <= memSteps; i++) {
        if (i % Math.max(1, memSteps / 8) == 0) {
          System.gc();
          Runtime r = Runtime.getRuntime();
          System.out.printf(
              "  step %5d  heap %6.1f MB  rss %7.1f MB  native arrays %d%n",
              step[0], (r.totalMemory() - r.freeMemory()) / 1e6, rssMb(), residentArrays(m));
        }
        if (i < memSteps) {
          train.run();
        }
      }
    }
  }

  private static int residentArrays(DjlTrainableModel m) {
    try {
      var f = DjlTrainableModel.class.getDeclaredMethod("residentArrayCount");
      f.setAccessible(true);
      return (int) f.invoke(m);
    } catch (ReflectiveOperationException e) {
      return -1;
    }
  }

  private static Map<String, NDArray> nd(Map<String, Tensor> in, NDManager nd) {
    Map<String, NDArray> x = new LinkedHashMap<>();
    in.forEach((k, v) -> x.put(k, TensorNd.toNd(v, nd)));
    return x;
  }

  private static Map<String, Tensor> inputs(ModelGraph g, int b, int t, long seed) {
    Random r = new Random(seed);
    Map<String, Tensor> in = new LinkedHashMap<>();
    for (var v : g.graph().feedInputs()) {
      long[] vals = new long[b * t];
      if (v.name().contains("input_ids")) {
        for (int i = 0; i < vals.length; i++) {
          vals[i] = i % t == 0 ? 101 : i % t == t - 1 ? 102 : 1000 + r.nextInt(29000);
        }
      } else if (v.name().contains("mask")) {
        Arrays.fill(vals, 1);
      }
      in.put(v.name(), Tensor.ofLongs(v.name(), new long[] {b, t}, vals));
    }
    return in;
  }

  private static double rssMb() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
        }
      }
    } catch (java.io.IOException e) {
      // not Linux
    }
    return Double.NaN;
  }
}
