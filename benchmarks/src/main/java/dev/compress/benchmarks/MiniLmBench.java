package dev.compress.benchmarks;

import dev.compress.api.exec.Executor;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.BuiltinModels;
import dev.compress.api.io.onnx.OnnxReader;
import dev.compress.api.tensor.Tensor;
import dev.compress.runtime.djl.DjlExecutor;
import dev.compress.runtime.ort.OrtExecutor;
import java.nio.file.Path;
import java.util.HashMap;
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
 * all-MiniLM-L6-v2 end to end at batch 1: f32, int8 per channel (DequantizeLinear, run on our int8
 * kernel) and int4 blocks of 32 (MatMulNBits, our int4 kernel), on the DJL executor, and the same
 * three models on ONNX Runtime for reference. Token ids are random (latency does not depend on
 * them), every token real.
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
      "-Xmx4g",
      "-Dai.djl.offline=true"
    })
@Warmup(iterations = 4, time = 2)
@Measurement(iterations = 6, time = 2)
public class MiniLmBench {
  @Param({"fp32", "int8", "int4"})
  public String variant;

  @Param({"16", "128"})
  public int seq;

  @Param({"djl", "ort"})
  public String engine;

  private Executor ex;
  private Map<String, Tensor> inputs;

  @Setup(Level.Trial)
  public void setup() throws Exception {
    Path file = BuiltinModels.extract("all-minilm-l6-v2.onnx");
    ModelGraph m = OnnxReader.read(file);
    switch (variant) {
      case "int8" -> MiniLmQuant.int8DequantizeLinear(m);
      case "int4" -> MiniLmQuant.int4MatMulNBits(m, 32);
      case "fp32" -> {}
      default -> throw new IllegalArgumentException(variant);
    }
    int threads = Runtime.getRuntime().availableProcessors();
    ex =
        engine.equals("djl")
            ? DjlExecutor.create(m)
            : OrtExecutor.builder().setModel(m).optIntraOpThreads(threads).build();
    long[] ids = new long[seq];
    long[] mask = new long[seq];
    long[] types = new long[seq];
    Random r = new Random(7);
    for (int i = 0; i < seq; i++) {
      ids[i] = i == 0 ? 101 : i == seq - 1 ? 102 : 1000 + r.nextInt(20000);
      mask[i] = 1;
    }
    Map<String, Tensor> all = new HashMap<>();
    all.put("input_ids", Tensor.ofLongs("input_ids", new long[] {1, seq}, ids));
    all.put("attention_mask", Tensor.ofLongs("attention_mask", new long[] {1, seq}, mask));
    all.put("token_type_ids", Tensor.ofLongs("token_type_ids", new long[] {1, seq}, types));
    inputs = new HashMap<>();
    for (String name : ex.inputNames()) {
      inputs.put(name, all.get(name));
    }
  }

  @Benchmark
  public Object forward() throws Exception {
    return ex.forward(inputs);
  }

  @TearDown(Level.Trial)
  public void close() throws Exception {
    ex.close();
  }
}
