package dev.compress.benchmarks;

import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.io.BuiltinModels;
import dev.compress.api.io.onnx.OnnxReader;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.runtime.djl.DjlExecutor;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Quantized vs f32 on the DJL executor at growing row counts, interleaved (every round runs fp32,
 * int8 and int4 once each, rotating the order, so load drift on a shared machine hits all alike);
 * prints medians and the ratios {@code fp32 time / quantized time} (above 1: quantized faster).
 *
 * <ul>
 *   <li>one MiniLM-shaped linear ({@code 384x1536}, {@code 1536x384}, {@code 384x384}) at 1, 8, 32
 *       and 128 rows of X, as a one-node model: {@code MatMul} (fp32), the same model through the
 *       {@code rtn-quantization} pass at 8 bits per channel ({@code DequantizeLinear → MatMul},
 *       int8) and at 4 bits in groups of 128 ({@code MatMulNBits}, int4 g128);
 *   <li>all-MiniLM-L6-v2 forward at batch 1 x seq 128 and 8 x 128, quantized the same way.
 * </ul>
 *
 * <p>Times include the executor's work per call (copies between Java and the engine, dispatch).
 * Args: {@code [rounds] [modelRounds]} (defaults 40 and 8). On a shared, loaded machine wall times
 * of sub-millisecond calls mostly measure waits for a core; run single-threaded with the calling
 * thread's CPU time instead (after {@code ./mvnw -o -q -B -pl benchmarks -am test-compile
 * dependency:build-classpath -Dmdep.outputFile=target/bench.cp -Dmdep.includeScope=test}):
 *
 * <pre>
 * OMP_NUM_THREADS=1 DJL_CACHE_DIR=benchmarks/target/djl-cache java --add-modules jdk.incubator.vector \
 *   --enable-native-access=ALL-UNNAMED -Dai.djl.offline=true -Dai.djl.pytorch.num_threads=1 \
 *   -Dai.djl.pytorch.num_interop_threads=1 -Dcompress.kernels.threads=1 -Dbench.cpu=true \
 *   -cp benchmarks/target/classes:$(cat benchmarks/target/bench.cp) \
 *   dev.compress.benchmarks.QuantRowsInterleaved 30 6
 * </pre>
 */
public final class QuantRowsInterleaved {
  private QuantRowsInterleaved() {}

  private static final String[] NAMES = {"fp32", "int8", "int4"};

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 40;
    int modelRounds = args.length > 1 ? Integer.parseInt(args[1]) : 8;
    int[][] shapes = {{384, 1536}, {1536, 384}, {384, 384}};
    int[] rows = {1, 8, 32, 128};
    System.out.println(CPU ? "calling thread's CPU time" : "wall time");
    System.out.printf(
        Locale.ROOT,
        "%-10s %5s %10s %10s %10s | %9s %9s%n",
        "K x N",
        "rows",
        "fp32 us",
        "int8 us",
        "int4 us",
        "fp32/int8",
        "fp32/int4");
    for (int[] s : shapes) {
      DjlExecutor[] ex = linear(s[0], s[1]);
      if (s == shapes[0]) { // JIT warm-up: C2 compiles slowly on a loaded machine
        interleave(ex, Map.of("x", input(1, s[0])), 0, 200);
        interleave(ex, Map.of("x", input(8, s[0])), 0, 50);
      }
      for (int m : rows) {
        Map<String, Tensor> in = Map.of("x", input(m, s[0]));
        double[] med = interleave(ex, in, rounds, 10);
        System.out.printf(
            Locale.ROOT,
            "%-10s %5d %10.1f %10.1f %10.1f | %8.2fx %8.2fx%n",
            s[0] + "x" + s[1],
            m,
            med[0] / 1e3,
            med[1] / 1e3,
            med[2] / 1e3,
            med[0] / med[1],
            med[0] / med[2]);
      }
      close(ex);
    }
    if (modelRounds > 0) {
      DjlExecutor[] ex = miniLm();
      for (int batch : new int[] {1, 8}) {
        double[] med = interleave(ex, miniLmInputs(ex[0], batch, 128), modelRounds, 2);
        System.out.printf(
            Locale.ROOT,
            "MiniLM %dx128 (%d rounds) ms: fp32 %.1f  int8 %.1f  int4 %.1f | fp32/int8 %.2fx"
                + "  fp32/int4 %.2fx%n",
            batch,
            modelRounds,
            med[0] / 1e6,
            med[1] / 1e6,
            med[2] / 1e6,
            med[0] / med[1],
            med[0] / med[2]);
      }
      close(ex);
    }
  }

  /**
   * Medians (ns) of {@code rounds} interleaved forwards per executor, after {@code warmup} rounds:
   * wall time, or with {@code -Dbench.cpu=true} the calling thread's CPU time, which a loaded
   * machine does not inflate with waits for a core; it covers the whole product only when PyTorch
   * and the kernel pool run on the caller ({@code -Dai.djl.pytorch.num_threads=1
   * -Dcompress.kernels.threads=1}, {@code OMP_NUM_THREADS=1}).
   */
  static double[] interleave(DjlExecutor[] ex, Map<String, Tensor> in, int rounds, int warmup)
      throws Exception {
    int v = ex.length;
    List<List<Long>> t = new ArrayList<>();
    for (int i = 0; i < v; i++) {
      t.add(new ArrayList<>());
    }
    for (int r = 0; r < rounds + warmup; r++) {
      for (int j = 0; j < v; j++) {
        int i = (r + j) % v;
        long t0 = now();
        ex[i].forward(in);
        if (r >= warmup) {
          t.get(i).add(now() - t0);
        }
      }
    }
    double[] med = new double[v];
    for (int i = 0; i < v && rounds > 0; i++) {
      long[] a = t.get(i).stream().mapToLong(Long::longValue).sorted().toArray();
      med[i] = a[a.length / 2];
    }
    return med;
  }

  private static final boolean CPU = Boolean.getBoolean("bench.cpu");
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  private static long now() {
    return CPU ? THREADS.getCurrentThreadCpuTime() : System.nanoTime();
  }

  /** fp32, int8 (per channel) and int4 (g128) executors over one {@code x · W} layer. */
  static DjlExecutor[] linear(int k, int n) throws Exception {
    Random rnd = new Random(7);
    float[] w = new float[k * n];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) rnd.nextGaussian() * 0.05f;
    }
    DjlExecutor[] ex = new DjlExecutor[NAMES.length];
    for (int i = 0; i < ex.length; i++) {
      ModelGraph m = oneLayer(k, n, w);
      if (i == 1) {
        MiniLmQuant.int8DequantizeLinear(m);
      } else if (i == 2) {
        MiniLmQuant.int4MatMulNBits(m, 128);
      }
      ex[i] = DjlExecutor.create(m);
    }
    return ex;
  }

  private static ModelGraph oneLayer(int k, int n, float[] w) {
    Graph g = new Graph("linear");
    ModelGraph m = new ModelGraph(8, g);
    m.opsetImports().put("", 17L);
    m.setProducerName("compress-benchmarks");
    g.inputs()
        .add(
            ValueInfo.tensor(
                "x", DataType.FLOAT, List.of(ValueInfo.Dim.of("m"), ValueInfo.Dim.of(k))));
    g.outputs().add(ValueInfo.tensor("y", DataType.FLOAT, null));
    g.putInitializer(Tensor.ofFloats("W", new long[] {k, n}, w.clone()));
    g.nodes().add(Node.of("layer/MatMul", "MatMul", List.of("x", "W"), List.of("y")));
    return m;
  }

  private static Tensor input(int m, int k) {
    Random rnd = new Random(m * 31L + k);
    float[] x = new float[m * k];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rnd.nextGaussian();
    }
    return Tensor.ofFloats("x", new long[] {m, k}, x);
  }

  /** MiniLM fp32, int8 per channel, int4 g128 ({@code MatMulNBits}). */
  static DjlExecutor[] miniLm() throws Exception {
    Path file = BuiltinModels.extract("all-minilm-l6-v2.onnx");
    DjlExecutor[] ex = new DjlExecutor[NAMES.length];
    for (int i = 0; i < ex.length; i++) {
      ModelGraph m = OnnxReader.read(file);
      if (i == 1) {
        MiniLmQuant.int8DequantizeLinear(m);
      } else if (i == 2) {
        MiniLmQuant.int4MatMulNBits(m, 128);
      }
      ex[i] = DjlExecutor.create(m);
    }
    return ex;
  }

  private static Map<String, Tensor> miniLmInputs(DjlExecutor ex, int batch, int seq) {
    long[] ids = new long[batch * seq];
    long[] ones = new long[batch * seq];
    for (int b = 0; b < batch; b++) {
      for (int i = 0; i < seq; i++) {
        ids[b * seq + i] =
            i == 0 ? 101 : i == seq - 1 ? 102 : 1000 + ((i + 13L * b) * 7919) % 20000;
        ones[b * seq + i] = 1;
      }
    }
    long[] shape = {batch, seq};
    Map<String, Tensor> all = new HashMap<>();
    all.put("input_ids", Tensor.ofLongs("input_ids", shape, ids));
    all.put("attention_mask", Tensor.ofLongs("attention_mask", shape, ones));
    all.put("token_type_ids", Tensor.ofLongs("token_type_ids", shape, new long[batch * seq]));
    Map<String, Tensor> in = new HashMap<>();
    for (String n : ex.inputNames()) {
      in.put(n, all.get(n));
    }
    return in;
  }

  private static void close(DjlExecutor[] ex) {
    for (DjlExecutor e : ex) {
      e.close();
    }
  }
}
