package dev.compress.lowrank.lora;

import dev.compress.api.ConfigException;
import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.GraphEditor;
import dev.compress.api.graph.Node;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Nf4;
import dev.compress.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * QLoRA's frozen base (Dettmers et al. 2023): a linear weight replaced by its {@link Nf4} form,
 * dequantized in the forward by ordinary operators, so training reads 1 byte per base weight
 * instead of 4 and the adapters learn against the quantized base.
 *
 * <pre>
 *   idx = Cast(LAYER.nf4_codes [out*in] uint8, to int64)     // one level index per byte
 *   v   = Gather(nf4_levels [16], idx)                       // level values
 *   w   = Reshape(Mul(Reshape(v, [blocks, 64]), LAYER.nf4_absmax [blocks, 1]), [out, in])
 *   W   = Transpose(w) for a MatMul / Gemm transB=0 weight ([in, out]); w itself for transB=1
 * </pre>
 *
 * The blocks of 64 run along PyTorch's {@code out x in} view (contiguous in the input features, as
 * bitsandbytes quantizes {@code nn.Linear.weight}); {@code LAYER.nf4_absmax} holds the absmax as
 * the double quantization restores it ({@link Nf4#absmax}), so the forward computes exactly {@link
 * Nf4#dequantize}. The codes are kept one per byte: ONNX has no 4-bit index type that Gather reads,
 * so the in-graph form costs 8 bits per weight (the packed {@link Nf4.Quantized} stays 4.127).
 * {@link #thaw} puts the dequantized weight back as a float initializer.
 */
final class Nf4Base {
  static final String LEVELS = "nf4_levels";

  private Nf4Base() {}

  /**
   * One frozen weight.
   *
   * @param layer the layer
   * @param weight the weight value the layer read (now produced by the dequantization)
   * @param original the original weight (restored when training fails)
   * @param quantized the packed NF4 weight ({@code [out, in]} order), from which the thaw
   *     recomputes the float weight (4.1 bits per weight held, not 32)
   * @param nodes the dequantization nodes
   * @param initializers the initializers they read (the shared levels excepted)
   */
  record Frozen(
      LinearLayer layer,
      String weight,
      Tensor original,
      Nf4.Quantized quantized,
      List<Node> nodes,
      List<String> initializers) {}

  /** Why {@code layer} cannot take an NF4 base, or null. */
  static String problem(LinearLayer layer, Graph g) {
    Tensor w = g.initializers().get(layer.weight());
    if (w == null || w.dtype() != DataType.FLOAT) {
      return "layer '"
          + layer.name()
          + "': base nf4 needs a float32 initializer weight, found "
          + (w == null ? "a Constant node" : w.dtype());
    }
    long n = layer.inFeatures() * layer.outFeatures();
    if (layer.inFeatures() % Nf4.BLOCK != 0) {
      return "layer '"
          + layer.name()
          + "': base nf4 needs in_features divisible by "
          + Nf4.BLOCK
          + " (the NF4 block), found "
          + layer.inFeatures();
    }
    return n > Integer.MAX_VALUE ? "layer '" + layer.name() + "' is too large for nf4" : null;
  }

  /**
   * Replaces {@code layer}'s weight by its NF4 dequantization.
   *
   * @throws ConfigException when the layer does not fit ({@link #problem})
   */
  static Frozen freeze(GraphEditor ed, LinearLayer layer) throws ConfigException {
    String p = problem(layer, ed.graph());
    if (p != null) {
      throw new ConfigException(p);
    }
    Graph g = ed.graph();
    Tensor w = g.initializers().get(layer.weight());
    int in = (int) layer.inFeatures();
    int out = (int) layer.outFeatures();
    boolean outIn = layer.layout() == LinearLayer.WeightLayout.OUT_IN;
    float[] v = w.toFloatArray();
    float[] oi = outIn ? v : transpose(v, in, out); // [out, in]
    Nf4.Quantized q = Nf4.quantize(oi);

    if (!g.initializers().containsKey(LEVELS)) {
      ed.putInitializer(Tensor.ofFloats(LEVELS, new long[] {16}, Nf4.levels()));
    }
    byte[] codes = new byte[out * in];
    for (int i = 0; i < codes.length; i++) {
      codes[i] = (byte) Nf4.code(q, i);
    }
    String base = layer.name();
    String cName = ed.freshName(base + ".nf4_codes");
    String aName = ed.freshName(base + ".nf4_absmax");
    String s1 = ed.freshName(base + ".nf4_blocks_shape");
    String s2 = ed.freshName(base + ".nf4_weight_shape");
    float[] absmax = Nf4.absmax(q);
    ed.putInitializer(Tensor.ofBytes(cName, DataType.UINT8, new long[] {codes.length}, codes));
    ed.putInitializer(Tensor.ofFloats(aName, new long[] {absmax.length, 1}, absmax));
    ed.putInitializer(Tensor.ofLongs(s1, new long[] {2}, absmax.length, Nf4.BLOCK));
    ed.putInitializer(Tensor.ofLongs(s2, new long[] {2}, out, in));
    String weight = ed.freshName(layer.weight() + "_nf4");
    String idx = ed.freshName(base + "/nf4_idx");
    String lv = ed.freshName(base + "/nf4_values");
    String bl = ed.freshName(base + "/nf4_blocks");
    String sc = ed.freshName(base + "/nf4_scaled");
    String oiName = outIn ? weight : ed.freshName(base + "/nf4_out_in");
    List<Node> nodes = new ArrayList<>();
    nodes.add(
        Node.of(ed.freshName(base + "/nf4_cast"), "Cast", List.of(cName), List.of(idx))
            .put(Attribute.of("to", (long) DataType.INT64.onnxCode())));
    nodes.add(
        Node.of(ed.freshName(base + "/nf4_gather"), "Gather", List.of(LEVELS, idx), List.of(lv)));
    nodes.add(
        Node.of(ed.freshName(base + "/nf4_reshape"), "Reshape", List.of(lv, s1), List.of(bl)));
    nodes.add(Node.of(ed.freshName(base + "/nf4_scale"), "Mul", List.of(bl, aName), List.of(sc)));
    nodes.add(
        Node.of(ed.freshName(base + "/nf4_weight"), "Reshape", List.of(sc, s2), List.of(oiName)));
    if (!outIn) {
      nodes.add(
          Node.of(
                  ed.freshName(base + "/nf4_transpose"),
                  "Transpose",
                  List.of(oiName),
                  List.of(weight))
              .put(Attribute.ofInts("perm", 1, 0)));
    }
    Node anchor = layer.node();
    for (Node n : nodes) {
      ed.insertBefore(anchor, n);
    }
    ed.setInput(layer.node(), 1, weight);
    ed.removeUnread(List.of(layer.weight()));
    return new Frozen(layer, weight, w, q, nodes, List.of(cName, aName, s1, s2));
  }

  /**
   * Puts the dequantized base back as a float initializer (under a fresh name when the original
   * name is still taken: a weight other nodes share) and removes the dequantization.
   */
  static void thaw(GraphEditor ed, Frozen f) {
    restore(ed, f, dequantized(f));
  }

  /** The dequantized weight in the layer's layout, under the original weight's name. */
  static Tensor dequantized(Frozen f) {
    LinearLayer l = f.layer();
    float[] back = Nf4.dequantize(f.quantized()); // [out, in]
    boolean outIn = l.layout() == LinearLayer.WeightLayout.OUT_IN;
    float[] stored = outIn ? back : transpose(back, (int) l.outFeatures(), (int) l.inFeatures());
    return Tensor.ofFloats(f.original().name(), f.original().dtype(), f.original().shape(), stored);
  }

  /** Puts the original weight back and removes the dequantization (a failed run). */
  static void undo(GraphEditor ed, Frozen f) {
    restore(ed, f, f.original());
  }

  private static void restore(GraphEditor ed, Frozen f, Tensor t) {
    Graph g = ed.graph();
    String name =
        g.initializers().containsKey(t.name())
            ? ed.freshName(t.name() + "_nf4_dequantized")
            : t.name();
    ed.putInitializer(t.withName(name));
    ed.setInput(f.layer().node(), 1, name);
    for (Node n : f.nodes().reversed()) {
      ed.remove(n);
    }
    for (String i : f.initializers()) {
      g.initializers().remove(i);
    }
    ed.rescan();
    ed.removeUnread(List.of(LEVELS));
  }

  private static float[] transpose(float[] v, int rows, int cols) {
    float[] o = new float[v.length];
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) {
        o[j * rows + i] = v[i * cols + j];
      }
    }
    return o;
  }
}
