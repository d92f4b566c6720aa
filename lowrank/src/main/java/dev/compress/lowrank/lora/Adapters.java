package dev.compress.lowrank.lora;

import dev.compress.api.ConfigException;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.GraphEditor;
import dev.compress.api.graph.Node;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * LoRA adapters as ordinary graph nodes (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large
 * Language Models"): a linear layer {@code h = W0 x} gets the parallel branch {@code h = W0 x +
 * (alpha / r) B A x}.
 *
 * <p>Graph form, for a layer whose last node (its bias {@code Add}, else the MatMul/Gemm itself)
 * produced {@code out}: that node now produces {@code out_lora_base}, and
 *
 * <pre>
 *   a   = MatMul(x, LAYER.lora_A)          // A stored [in, r] (PEFT's A [r, in] transposed)
 *   b   = MatMul(a, LAYER.lora_B)          // B stored [r, out] (PEFT's B [out, r] transposed)
 *   s   = Mul(b, LAYER.lora_scale)         // the scalar alpha / r, never trained
 *   out = Add(out_lora_base, s)
 * </pre>
 *
 * so every consumer of {@code out}, a graph output included, reads the adapted value without being
 * rewired. A starts Kaiming-uniform as PEFT draws it ({@code kaiming_uniform_(a = sqrt(5))} on
 * {@code [r, in]}: {@code U(-1/sqrt(in), 1/sqrt(in))}), B starts at zero, so the adapted model
 * computes exactly what the base computes until B is trained. Adapter tensors take the base
 * weight's dtype.
 *
 * <p>AdaLoRA's adapters ({@link #insertAdaptive}) have a third factor between the two MatMuls,
 * {@code e = Mul(a, LAYER.lora_E)} with {@code lora_E [r]} the diagonal Λ: {@code ΔW = P Λ Q} with
 * {@code Q = lora_Aᵀ}, {@code P = lora_Bᵀ}; Λ starts at zero and A, B from {@code N(0, 0.02²)}, as
 * PEFT initialises them.
 *
 * <p>{@link #merge} folds {@code (alpha / r) A B} into the base weight (in its dtype, through
 * {@link GraphEditor#replaceConstant} so a shared weight is copied) and {@link #remove} takes the
 * branch out again.
 */
public final class Adapters {
  /** Suffix of the adapter node names, so that adapters are not adapted again. */
  static final String MARK = "/lora_";

  private Adapters() {}

  /**
   * One inserted adapter.
   *
   * @param layer the adapted layer's name
   * @param weight the base weight's value name
   * @param a A's initializer name ({@code [in, r]})
   * @param b B's initializer name ({@code [r, out]})
   * @param e Λ's initializer name ({@code [r]}) of an AdaLoRA adapter, null for a LoRA one
   * @param scale the scale initializer's name
   * @param rank r
   * @param alpha alpha
   * @param inFeatures the layer's input features
   * @param outFeatures the layer's output features
   * @param base the node whose output the branch is added to
   * @param out the value the adapted layer produces
   * @param nodes the four branch nodes (five with Λ), in order
   */
  public record Adapter(
      String layer,
      String weight,
      String a,
      String b,
      String e,
      String scale,
      int rank,
      double alpha,
      long inFeatures,
      long outFeatures,
      Node base,
      String out,
      List<Node> nodes) {
    /** {@code alpha / r}. */
    public double scaling() {
      return alpha / rank;
    }
  }

  /** Whether {@code layer} is itself an adapter product (never adapted). */
  static boolean isAdapter(LinearLayer layer) {
    return layer.name().contains(MARK);
  }

  /**
   * Why {@code layer} cannot take a rank-{@code rank} adapter, or null when it can.
   *
   * @return one line naming the layer and the value found
   */
  static String problem(LinearLayer layer, int rank) {
    if (layer.kind() == LinearLayer.Kind.CONV) {
      return "layer '" + layer.name() + "' is a Conv; lora adapts MatMul and Gemm layers";
    }
    if (layer.kind() == LinearLayer.Kind.GEMM && layer.node().intAttr("transA", 0) != 0) {
      return "layer '" + layer.name() + "' is a Gemm with transA = 1; lora needs transA = 0";
    }
    if (layer.weightShape().length != 2) {
      return "layer '"
          + layer.name()
          + "' has a weight of rank "
          + layer.weightShape().length
          + "; lora adapts 2-D weights";
    }
    long max = Math.min(layer.inFeatures(), layer.outFeatures());
    if (rank > max) {
      return "layer '"
          + layer.name()
          + "': rank "
          + rank
          + " is above min(in "
          + layer.inFeatures()
          + ", out "
          + layer.outFeatures()
          + ") = "
          + max;
    }
    return null;
  }

  /**
   * Inserts a rank-{@code rank} adapter on {@code layer}, A drawn from {@code random}, B zero.
   *
   * @throws ConfigException when the layer cannot take one ({@link #problem})
   */
  public static Adapter insert(
      GraphEditor ed, LinearLayer layer, int rank, double alpha, SplittableRandom random)
      throws ConfigException {
    return insert(ed, layer, rank, alpha, random, false);
  }

  /**
   * Inserts a rank-{@code rank} AdaLoRA adapter on {@code layer}: A and B from {@code N(0, 0.02²)}
   * drawn from {@code random}, Λ zero (so the model is unchanged).
   *
   * @throws ConfigException when the layer cannot take one ({@link #problem})
   */
  public static Adapter insertAdaptive(
      GraphEditor ed, LinearLayer layer, int rank, double alpha, SplittableRandom random)
      throws ConfigException {
    return insert(ed, layer, rank, alpha, random, true);
  }

  private static Adapter insert(
      GraphEditor ed,
      LinearLayer layer,
      int rank,
      double alpha,
      SplittableRandom random,
      boolean adaptive)
      throws ConfigException {
    String p = problem(layer, rank);
    if (p != null) {
      throw new ConfigException(p);
    }
    Graph g = ed.graph();
    Tensor w = g.initializers().get(layer.weight());
    DataType dt = w == null ? DataType.FLOAT : w.dtype(); // an NF4 base: float32
    long in = layer.inFeatures();
    long out = layer.outFeatures();
    float bound = (float) (1 / Math.sqrt(in));
    float[] a = new float[Math.toIntExact(in * rank)]; // [in, r]
    float[] bv = new float[Math.toIntExact(rank * out)]; // [r, out]
    for (int j = 0; j < rank; j++) { // PEFT's row j of A [r, in] is column j here
      for (int i = 0; i < in; i++) {
        a[i * rank + j] =
            adaptive
                ? (float) (0.02 * random.nextGaussian())
                : (float) ((random.nextDouble() * 2 - 1) * bound);
      }
    }
    if (adaptive) {
      for (int i = 0; i < bv.length; i++) {
        bv[i] = (float) (0.02 * random.nextGaussian());
      }
    }
    String aName = ed.freshName(layer.name() + ".lora_A");
    String bName = ed.freshName(layer.name() + ".lora_B");
    String eName = adaptive ? ed.freshName(layer.name() + ".lora_E") : null;
    String sName = ed.freshName(layer.name() + ".lora_scale");
    ed.putInitializer(Tensor.ofFloats(aName, dt, new long[] {in, rank}, a));
    ed.putInitializer(Tensor.ofFloats(bName, dt, new long[] {rank, out}, bv));
    if (adaptive) {
      ed.putInitializer(Tensor.ofFloats(eName, dt, new long[] {rank}, new float[rank]));
    }
    ed.putInitializer(Tensor.ofFloats(sName, dt, new long[] {}, (float) (alpha / rank)));

    Node base = lastNode(ed, layer);
    String outValue = base.output(0);
    String pre = ed.freshName(outValue + "_lora_base");
    String va = ed.freshName(layer.name() + "/lora_A_out");
    String ve = adaptive ? ed.freshName(layer.name() + "/lora_E_out") : null;
    String vb = ed.freshName(layer.name() + "/lora_B_out");
    String vs = ed.freshName(layer.name() + "/lora_scaled");
    // the base now produces `pre`; the Add takes over `out` (the index is rebuilt below)
    base.outputs().set(0, pre);
    List<Node> nodes = new ArrayList<>();
    nodes.add(
        Node.of(
            ed.freshName(layer.name() + MARK + "A"),
            "MatMul",
            List.of(layer.input(), aName),
            List.of(va)));
    if (adaptive) {
      nodes.add(
          Node.of(ed.freshName(layer.name() + MARK + "E"), "Mul", List.of(va, eName), List.of(ve)));
    }
    nodes.add(
        Node.of(
            ed.freshName(layer.name() + MARK + "B"),
            "MatMul",
            List.of(adaptive ? ve : va, bName),
            List.of(vb)));
    nodes.add(
        Node.of(
            ed.freshName(layer.name() + MARK + "scale"), "Mul", List.of(vb, sName), List.of(vs)));
    nodes.add(
        Node.of(
            ed.freshName(layer.name() + MARK + "add"), "Add", List.of(pre, vs), List.of(outValue)));
    Node anchor = base;
    for (Node n : nodes) {
      ed.insertAfter(anchor, n);
      anchor = n;
    }
    ed.rescan();
    return new Adapter(
        layer.name(),
        layer.weight(),
        aName,
        bName,
        eName,
        sName,
        rank,
        alpha,
        in,
        out,
        base,
        outValue,
        List.copyOf(nodes));
  }

  /** The bias Add of a MatMul layer when it has one, else the layer's node. */
  private static Node lastNode(GraphEditor ed, LinearLayer layer) {
    if (layer.kind() == LinearLayer.Kind.MATMUL && layer.biasNode().isPresent()) {
      for (Node c : ed.index().consumers(layer.output())) {
        if (c.opType().equals("Add")) {
          return c;
        }
      }
    }
    return layer.node();
  }

  /** Takes the adapter's branch out of the graph (its initializers too); the base is untouched. */
  public static void remove(GraphEditor ed, Adapter ad) {
    for (Node n : ad.nodes()) {
      ed.remove(n);
    }
    ad.base().outputs().set(0, ad.out());
    Graph g = ed.graph();
    g.initializers().remove(ad.a());
    g.initializers().remove(ad.b());
    if (ad.e() != null) {
      g.initializers().remove(ad.e());
    }
    g.initializers().remove(ad.scale());
    ed.rescan();
  }

  /**
   * Folds the adapter into its base weight and removes its branch: {@code W0 += (alpha / r) A B} in
   * the {@code [in, out]} view (transposed for a {@code transB} Gemm, divided by the Gemm's alpha),
   * rounded once to W0's dtype.
   *
   * @throws ConfigException when A and B do not multiply to the base weight's shape (nothing is
   *     changed)
   */
  public static void merge(GraphEditor ed, LinearLayer layer, Adapter ad) throws ConfigException {
    Graph g = ed.graph();
    Tensor a = g.initializers().get(ad.a());
    Tensor b = g.initializers().get(ad.b());
    if (ad.e() != null) {
      a = withDiagonal(a, g.initializers().get(ad.e()));
    }
    mergeInto(ed, layer, a, b, ad.scaling());
    remove(ed, ad);
  }

  /** {@code a [in, r]} with column j multiplied by {@code e[j]} (AdaLoRA's {@code Qᵀ Λ}). */
  static Tensor withDiagonal(Tensor a, Tensor e) {
    float[] av = a.toFloatArray();
    float[] ev = e.toFloatArray();
    int r = ev.length;
    for (int i = 0; i < av.length; i++) {
      av[i] *= ev[i % r];
    }
    return Tensor.ofFloats(a.name(), a.dtype(), a.shape(), av);
  }

  /**
   * Replaces the branch of {@code ad} by a LoRA branch of rank {@code k} with factors {@code a [in,
   * k]} and {@code b [k, out]} and the scale {@code scale} (in the old factors' dtype), or removes
   * it when {@code k} is 0.
   *
   * @return the new adapter, or null when {@code k} is 0
   */
  static Adapter refactor(
      GraphEditor ed, LinearLayer layer, Adapter ad, float[] a, float[] b, int k, double scale) {
    Graph g = ed.graph();
    DataType dt = g.initializers().get(ad.a()).dtype();
    if (k == 0) {
      remove(ed, ad);
      return null;
    }
    List<Node> nodes = new ArrayList<>(ad.nodes());
    if (ad.e() != null) { // a -> Mul(E) -> MatMul(B): B's MatMul reads a directly now
      Node mulE = nodes.remove(1);
      nodes.get(1).inputs().set(0, mulE.input(0));
      ed.remove(mulE);
      g.initializers().remove(ad.e());
    }
    ed.putInitializer(Tensor.ofFloats(ad.a(), dt, new long[] {ad.inFeatures(), k}, a));
    ed.putInitializer(Tensor.ofFloats(ad.b(), dt, new long[] {k, ad.outFeatures()}, b));
    ed.putInitializer(Tensor.ofFloats(ad.scale(), dt, new long[] {}, (float) scale));
    ed.rescan();
    return new Adapter(
        ad.layer(),
        ad.weight(),
        ad.a(),
        ad.b(),
        null,
        ad.scale(),
        k,
        scale * k,
        ad.inFeatures(),
        ad.outFeatures(),
        ad.base(),
        ad.out(),
        List.copyOf(nodes));
  }

  /**
   * Folds {@code scale * A B} (A {@code [in, r]}, B {@code [r, out]}) into {@code layer}'s weight.
   *
   * @throws ConfigException when the shapes do not fit the base weight (nothing is changed)
   */
  public static void mergeInto(GraphEditor ed, LinearLayer layer, Tensor a, Tensor b, double scale)
      throws ConfigException {
    Graph g = ed.graph();
    String wName = layer.node().input(1); // what the node reads now (an NF4 base thawed anew)
    Tensor w = g.initializers().get(wName);
    long in = layer.inFeatures();
    long out = layer.outFeatures();
    if (a.rank() != 2
        || b.rank() != 2
        || a.dim(1) != b.dim(0)
        || a.dim(0) != in
        || b.dim(1) != out
        || w == null) {
      throw new ConfigException(
          "lora merge: the adapter of layer '"
              + layer.name()
              + "' is A "
              + a.shapeString()
              + " x B "
              + b.shapeString()
              + ", which does not give the base weight's [in "
              + in
              + ", out "
              + out
              + "]"
              + (w == null ? " (the base weight is not an initializer)" : "")
              + "; nothing was merged");
    }
    int r = (int) a.dim(1);
    float[] av = a.toFloatArray();
    float[] bv = b.toFloatArray();
    float[] wv = w.toFloatArray();
    boolean outIn = layer.layout() == LinearLayer.WeightLayout.OUT_IN;
    double gemmAlpha =
        layer.kind() == LinearLayer.Kind.GEMM ? layer.node().floatAttr("alpha", 1f) : 1.0;
    double s = scale / gemmAlpha;
    for (int i = 0; i < in; i++) {
      for (int o = 0; o < out; o++) {
        double d = 0;
        for (int k = 0; k < r; k++) {
          d += (double) av[i * r + k] * bv[k * (int) out + o];
        }
        int at = outIn ? (int) (o * in + i) : (int) (i * out + o);
        wv[at] = (float) (wv[at] + s * d);
      }
    }
    Tensor merged = Tensor.ofFloats(wName, w.dtype(), w.shape(), wv);
    ed.replaceConstant(wName, merged, Set.of(layer.node()), "_lora_merged");
  }
}
