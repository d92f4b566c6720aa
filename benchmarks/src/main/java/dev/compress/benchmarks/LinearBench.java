package dev.compress.benchmarks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.onnx.OnnxWriter;
import dev.compress.runtime.kernels.Int4Linear;
import dev.compress.runtime.kernels.Int8Linear;
import dev.compress.runtime.kernels.QuantizedLinear;
import dev.compress.runtime.kernels.VectorSupport;
import dev.compress.runtime.kernels.W8A8Linear;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@code Y[M,N] = X[M,K] · W} with the weight in each format and engine, on the same shapes:
 *
 * <ul>
 *   <li>{@code int4}: our {@link Int4Linear} (MatMulNBits layout, block 128, symmetric);
 *   <li>{@code int4-a8}: the same layer in its opt-in int8-activation mode ({@link
 *       Int4Linear#withInt8Activations}: X quantized per block inside the call);
 *   <li>{@code int8}: our {@link Int8Linear} (int8 weight-only, per-channel);
 *   <li>{@code w8a8}: our {@link W8A8Linear} (dynamic uint8 activations, quantized inside the
 *       call);
 *   <li>{@code djl-fp32}: DJL's {@code NDArray.matMul} on the PyTorch engine, f32 weight;
 *   <li>{@code ort-int4}: ONNX Runtime's {@code com.microsoft::MatMulNBits} (same block size);
 *   <li>{@code ort-int8}: ONNX Runtime's dynamic int8 path ({@code DynamicQuantizeLinear →
 *       MatMulInteger → Cast → Mul}, which its optimizer fuses);
 *   <li>{@code ort-fp32}: ONNX Runtime's {@code MatMul}, f32 weight.
 * </ul>
 *
 * <p>Shapes are {@code K x N}. The 4096 x 4096 weights are larger than the last-level cache only in
 * f32, so every engine there cycles through enough copies of its weight (≥ 128 MB in all) that each
 * call reads its weight from DRAM, as a large model's layers do; MiniLM's shapes use one copy (the
 * whole int4 MiniLM fits in L3 too). All engines use every core: our kernels the shared {@code
 * KernelPool}, PyTorch and ONNX Runtime their intra-op pools. Inputs are ready in each engine's own
 * memory; times exclude moving activations between Java and native memory.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {
      "--add-modules",
      "jdk.incubator.vector",
      "--enable-native-access=ALL-UNNAMED",
      "-Xmx6g",
      "-Dai.djl.offline=true"
    })
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 6, time = 1)
public class LinearBench {
  /** Bytes the cycled copies of a 4096 x 4096 weight add up to (well above a 32 MB L3). */
  static final long COLD_BYTES = 128L << 20;

  @Param({"4096x4096", "384x1536", "1536x384"})
  public String shape;

  @Param({"1", "8", "32"})
  public int m;

  @Param({"int4", "int4-a8", "int8", "w8a8", "djl-fp32", "ort-int4", "ort-int8", "ort-fp32"})
  public String impl;

  private interface Op {
    void run(int copy) throws Exception;
  }

  private Op op;
  private int copies;
  private int next;
  private final List<AutoCloseable> closers = new ArrayList<>();
  private float[] y;

  static int[] kn(String shape) {
    String[] p = shape.split("x");
    return new int[] {Integer.parseInt(p[0]), Integer.parseInt(p[1])};
  }

  /** Bytes of the weight as stored (codes + scales). */
  static long weightBytes(String impl, int k, int n) {
    return switch (impl) {
      case "int4", "int4-a8", "ort-int4" -> (long) k * n / 2 + 4L * n * ((k + 127) / 128);
      case "int8", "w8a8", "ort-int8" -> (long) k * n + 4L * n;
      default -> 4L * k * n;
    };
  }

  @Setup(Level.Trial)
  public void setup() throws Exception {
    int[] d = kn(shape);
    int k = d[0];
    int n = d[1];
    long bytes = weightBytes(impl, k, n);
    copies = k >= 4096 ? (int) Math.max(1, (COLD_BYTES + bytes - 1) / bytes) : 1;
    Random rnd = new Random(42);
    float[] x = new float[m * k];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rnd.nextGaussian();
    }
    y = new float[m * n];
    int block = 128;
    int blocks = (k + block - 1) / block;
    System.out.printf(
        "%n[setup] %s %s m=%d: %d cop%s of %.1f MB; vector kernels: %s%n",
        impl, shape, m, copies, copies == 1 ? "y" : "ies", bytes / 1e6, VectorSupport.reason());
    switch (impl) {
      case "int4", "int4-a8", "ort-int4" -> {
        byte[] b = new byte[n * blocks * block / 2];
        rnd.nextBytes(b);
        float[] s = scales(rnd, n * blocks);
        if (!impl.equals("ort-int4")) {
          QuantizedLinear[] ls = new QuantizedLinear[copies];
          for (int c = 0; c < copies; c++) {
            ls[c] =
                Int4Linear.fromMatMulNBits(b.clone(), s, null, k, n, block)
                    .withInt8Activations(impl.equals("int4-a8"));
          }
          op = c -> ls[c].multiply(x, m, y);
        } else {
          op = ort(Models.int4(k, n, block, b, s), x, k);
        }
      }
      case "int8", "w8a8", "ort-int8" -> {
        byte[] w = new byte[k * n];
        rnd.nextBytes(w);
        float[] s = scales(rnd, n);
        if (impl.equals("ort-int8")) {
          op = ort(Models.int8Dynamic(k, n, w, s), x, k);
        } else {
          QuantizedLinear[] ls = new QuantizedLinear[copies];
          for (int c = 0; c < copies; c++) {
            ls[c] =
                impl.equals("int8")
                    ? Int8Linear.of(w, false, k, n, false, s, null)
                    : W8A8Linear.of(w, false, k, n, false, s, null);
          }
          op = c -> ls[c].multiply(x, m, y);
        }
      }
      case "djl-fp32", "ort-fp32" -> {
        float[] w = new float[k * n];
        for (int i = 0; i < w.length; i++) {
          w[i] = (float) rnd.nextGaussian() * 0.02f;
        }
        if (impl.equals("ort-fp32")) {
          op = ort(Models.fp32(k, n, w), x, k);
        } else {
          NDManager nd = NDManager.newBaseManager("PyTorch");
          closers.add(nd);
          NDArray xa = nd.create(x, new Shape(m, k));
          NDArray[] ws = new NDArray[copies];
          for (int c = 0; c < copies; c++) {
            ws[c] = nd.create(w, new Shape(k, n));
          }
          op =
              c -> {
                try (NDArray r = xa.matMul(ws[c])) {
                  if (r.size() != (long) m * n) {
                    throw new IllegalStateException("shape " + r.getShape());
                  }
                }
              };
        }
      }
      default -> throw new IllegalArgumentException("unknown impl " + impl);
    }
  }

  private static float[] scales(Random rnd, int count) {
    float[] s = new float[count];
    for (int i = 0; i < count; i++) {
      s[i] = 0.001f + rnd.nextFloat() * 0.01f;
    }
    return s;
  }

  /** An ONNX Runtime session per copy over the model, the input tensor created once. */
  private Op ort(ModelGraph model, float[] x, int k) throws Exception {
    Path file = Files.createTempFile("compress-bench-", ".onnx");
    OnnxWriter.write(model, file);
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    OrtSession[] sessions = new OrtSession[copies];
    for (int c = 0; c < copies; c++) {
      OrtSession.SessionOptions o = new OrtSession.SessionOptions();
      o.setIntraOpNumThreads(Runtime.getRuntime().availableProcessors());
      o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      sessions[c] = env.createSession(file.toString(), o);
      closers.add(sessions[c]);
    }
    Files.delete(file);
    OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {m, k});
    closers.add(in);
    Map<String, OnnxTensor> feed = Map.of("x", in);
    return c -> {
      try (OrtSession.Result r = sessions[c].run(feed)) {
        if (r.size() != 1) {
          throw new IllegalStateException("outputs " + r.size());
        }
      }
    };
  }

  @Benchmark
  public void multiply() throws Exception {
    op.run(next);
    next = next + 1 == copies ? 0 : next + 1;
  }

  @TearDown(Level.Trial)
  public void close() throws Exception {
    for (int i = closers.size() - 1; i >= 0; i--) {
      closers.get(i).close();
    }
    closers.clear();
  }
}
