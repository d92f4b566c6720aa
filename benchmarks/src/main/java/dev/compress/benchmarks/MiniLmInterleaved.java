package dev.compress.benchmarks;

import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.BuiltinModels;
import dev.compress.api.io.onnx.OnnxReader;
import dev.compress.api.tensor.Tensor;
import dev.compress.runtime.djl.DjlExecutor;
import dev.compress.runtime.kernels.Int4Linear;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * MiniLM at batch 1 on the DJL executor, f32 vs int8 vs int4 interleaved round by round in one
 * process (so load drift on a shared machine hits all three alike); prints medians and ratios.
 * Args: seq [rounds]. A complement to {@link MiniLmBench}, whose trials run one after another.
 */
public final class MiniLmInterleaved {
  private MiniLmInterleaved() {}

  public static void main(String[] args) throws Exception {
    int seq = Integer.parseInt(args[0]);
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 30;
    Path file = BuiltinModels.extract("all-minilm-l6-v2.onnx");
    String[] names = {"fp32", "int8", "int4", "int4-a8"};
    int v = names.length;
    DjlExecutor[] ex = new DjlExecutor[v];
    long[] ids = new long[seq];
    long[] ones = new long[seq];
    for (int i = 0; i < seq; i++) {
      ids[i] = i == 0 ? 101 : i == seq - 1 ? 102 : 1000 + (i * 7919) % 20000;
      ones[i] = 1;
    }
    Map<String, Tensor> all = new HashMap<>();
    all.put("input_ids", Tensor.ofLongs("input_ids", new long[] {1, seq}, ids));
    all.put("attention_mask", Tensor.ofLongs("attention_mask", new long[] {1, seq}, ones));
    all.put("token_type_ids", Tensor.ofLongs("token_type_ids", new long[] {1, seq}, new long[seq]));
    Map<String, Tensor> in = new HashMap<>();
    for (int i = 0; i < v; i++) {
      ModelGraph m = OnnxReader.read(file);
      if (i == 1) {
        MiniLmQuant.int8DequantizeLinear(m);
      } else if (i >= 2) {
        MiniLmQuant.int4MatMulNBits(m, 32);
      }
      // int4-a8: the int4 kernels in their opt-in int8-activation mode (read when layers are built)
      if (i == 3) {
        System.setProperty(Int4Linear.ACTIVATIONS_PROPERTY, "int8");
      }
      ex[i] = DjlExecutor.create(m);
      if (i == 0) {
        for (String n : ex[0].inputNames()) {
          in.put(n, all.get(n));
        }
      }
      ex[i].forward(in);
      System.clearProperty(Int4Linear.ACTIVATIONS_PROPERTY);
    }
    List<List<Long>> t = new ArrayList<>();
    for (int i = 0; i < v; i++) {
      t.add(new ArrayList<>());
    }
    for (int r = 0; r < rounds + 5; r++) {
      for (int k = 0; k < v; k++) {
        int i = (r + k) % v; // rotate the order every round
        long t0 = System.nanoTime();
        ex[i].forward(in);
        if (r >= 5) {
          t.get(i).add(System.nanoTime() - t0);
        }
      }
    }
    double[] med = new double[v];
    for (int i = 0; i < v; i++) {
      med[i] =
          t.get(i).stream()
                  .mapToLong(Long::longValue)
                  .sorted()
                  .skip(rounds / 2)
                  .findFirst()
                  .orElse(0)
              / 1e6;
    }
    System.out.printf(
        Locale.ROOT,
        "MiniLM DJL batch 1 seq %d, %d interleaved rounds, median ms: fp32 %.2f  int8 %.2f  int4 %.2f"
            + "  int4-a8 %.2f | fp32/int8 %.2fx  fp32/int4 %.2fx  fp32/int4-a8 %.2fx%n",
        seq,
        rounds,
        med[0],
        med[1],
        med[2],
        med[3],
        med[0] / med[1],
        med[0] / med[2],
        med[0] / med[3]);
    for (DjlExecutor e : ex) {
      e.close();
    }
  }
}
