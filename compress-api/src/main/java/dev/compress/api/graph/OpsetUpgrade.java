package dev.compress.api.graph;

import dev.compress.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Raises a model's default-domain ({@code ai.onnx}) opset, in place, rewriting the operators whose
 * signature changed on the way so that the model computes the same function. Passes call it when
 * what they write needs a newer opset than the model imports (per-channel {@code DequantizeLinear}
 * needs 13, FLOAT8 needs 19): most encoders in the wild are exported at opset 11.
 *
 * <p>Supported: from opset 11 up to {@link #MAX_TARGET}. The changes made, by the opset where the
 * operator changed:
 *
 * <ol>
 *   <li>12: {@code Dropout}'s {@code ratio} attribute becomes its second input.
 *   <li>13: {@code Squeeze}/{@code Unsqueeze}/{@code ReduceSum} {@code axes} and {@code Split}'s
 *       {@code split} attributes become int64 inputs. {@code Softmax}, {@code LogSoftmax} and
 *       {@code Hardmax} changed meaning: before 13 they flatten the input to 2-D at {@code axis}
 *       and normalize over everything after it; from 13 over the one axis. Where {@code axis} is
 *       the last axis (negative, or the input's rank is known from the graph: {@link Ranks}) the
 *       node is unchanged; otherwise it is rewritten exactly as {@code Reshape(op(Flatten(x, axis),
 *       axis=-1), Shape(x))}.
 *   <li>18: the other reductions' ({@code ReduceMean}, {@code ReduceMax}, ...) {@code axes}
 *       attribute becomes an input.
 * </ol>
 *
 * Every other operator of {@link #UNCHANGED} only gained element types or optional attributes and
 * inputs whose defaults keep the old behaviour between 11 and 19. Any operator outside these lists
 * is a problem naming the node and operator, and nothing changes. Subgraphs ({@code If}/{@code
 * Loop}/{@code Scan} bodies) are upgraded with the same rules. The IR version is raised to the
 * minimum the new opset needs. Operators of other domains are not touched.
 */
public final class OpsetUpgrade {
  /** The oldest opset this upgrade starts from. */
  public static final long MIN_SOURCE = 11;

  /** The newest opset this upgrade reaches. */
  public static final long MAX_TARGET = 19;

  /** Operators whose behaviour is unchanged from opset 11 to 19 (with their default attributes). */
  public static final Set<String> UNCHANGED =
      Set.of(
          "Abs",
          "Acos",
          "Acosh",
          "Add",
          "And",
          "ArgMax",
          "ArgMin",
          "Asin",
          "Asinh",
          "Atan",
          "Atanh",
          "AveragePool",
          "BatchNormalization",
          "Cast",
          "Ceil",
          "Celu",
          "Clip",
          "Concat",
          "Constant",
          "ConstantOfShape",
          "Conv",
          "ConvInteger",
          "ConvTranspose",
          "Cos",
          "Cosh",
          "CumSum",
          "DepthToSpace",
          "DequantizeLinear",
          "Div",
          "DynamicQuantizeLinear",
          "Einsum",
          "Elu",
          "Equal",
          "Erf",
          "Exp",
          "Expand",
          "EyeLike",
          "Flatten",
          "Floor",
          "Gather",
          "GatherElements",
          "GatherND",
          "Gemm",
          "GlobalAveragePool",
          "GlobalMaxPool",
          "Greater",
          "GreaterOrEqual",
          "GRU",
          "HardSigmoid",
          "Identity",
          "If",
          "InstanceNormalization",
          "IsInf",
          "IsNaN",
          "LayerNormalization",
          "LeakyRelu",
          "Less",
          "LessOrEqual",
          "Log",
          "Loop",
          "LRN",
          "LSTM",
          "MatMul",
          "MatMulInteger",
          "Max",
          "MaxPool",
          "Mean",
          "Min",
          "Mod",
          "Mul",
          "Neg",
          "NonMaxSuppression",
          "NonZero",
          "Not",
          "OneHot",
          "Or",
          "Pad",
          "Pow",
          "PRelu",
          "QLinearConv",
          "QLinearMatMul",
          "QuantizeLinear",
          "Range",
          "Reciprocal",
          "Relu",
          "Reshape",
          "RNN",
          "Round",
          "Scan",
          "ScatterElements",
          "ScatterND",
          "Selu",
          "Shape",
          "Sigmoid",
          "Sign",
          "Sin",
          "Sinh",
          "Size",
          "Slice",
          "Softplus",
          "Softsign",
          "SpaceToDepth",
          "Sqrt",
          "Sub",
          "Sum",
          "Tan",
          "Tanh",
          "ThresholdedRelu",
          "Tile",
          "TopK",
          "Transpose",
          "Where",
          "Xor");

  /** Operators whose {@code axes} attribute becomes an input at opset 13. */
  private static final Set<String> AXES_AT_13 = Set.of("Squeeze", "Unsqueeze", "ReduceSum");

  /** Reductions whose {@code axes} attribute becomes an input at opset 18. */
  private static final Set<String> AXES_AT_18 =
      Set.of(
          "ReduceMean",
          "ReduceMax",
          "ReduceMin",
          "ReduceProd",
          "ReduceL1",
          "ReduceL2",
          "ReduceLogSum",
          "ReduceLogSumExp",
          "ReduceSumSquare");

  /** Operators that normalized over a flattened 2-D view before opset 13. */
  private static final Set<String> SOFTMAX_LIKE = Set.of("Softmax", "LogSoftmax", "Hardmax");

  /** What an upgrade did. */
  public record Result(long from, long to, int rewritten, List<String> changes) {
    /** Whether anything changed. */
    public boolean changed() {
      return from != to;
    }
  }

  private OpsetUpgrade() {}

  /** Whether {@code op} (default domain) can be carried from opset 11 to {@link #MAX_TARGET}. */
  static boolean known(String op) {
    return UNCHANGED.contains(op)
        || AXES_AT_13.contains(op)
        || AXES_AT_18.contains(op)
        || SOFTMAX_LIKE.contains(op)
        || op.equals("Split")
        || op.equals("Dropout");
  }

  /**
   * Why {@code model} cannot be raised to opset {@code target}, one line per problem (empty: it
   * can, or it already imports {@code target} or later).
   */
  public static List<String> problems(ModelGraph model, long target) {
    List<String> p = new ArrayList<>();
    long from = model.opset("").orElse(1);
    if (from >= target) {
      return p;
    }
    if (target > MAX_TARGET) {
      p.add("raising the opset is supported up to " + MAX_TARGET + ", asked for " + target);
      return p;
    }
    if (from < MIN_SOURCE) {
      p.add(
          "raising the opset to "
              + target
              + " is supported from opset "
              + MIN_SOURCE
              + " (the model imports "
              + from
              + ")");
      return p;
    }
    collectProblems(model.graph(), from, target, p);
    return p;
  }

  private static void collectProblems(Graph g, long from, long target, List<String> p) {
    for (Node n : g.nodes()) {
      if (n.domain().isEmpty() || n.domain().equals("ai.onnx")) {
        if (!known(n.opType())) {
          p.add(
              "node '"
                  + label(n)
                  + "': operator "
                  + n.opType()
                  + " is not known to keep its meaning from opset "
                  + from
                  + " to "
                  + target);
        }
      }
      for (Graph sub : subgraphs(n)) {
        collectProblems(sub, from, target, p);
      }
    }
  }

  /**
   * Raises the default-domain opset to {@code target} in place (nothing when it already is {@code
   * target} or more).
   *
   * @throws IllegalArgumentException with {@link #problems} when it is not safe; the model is then
   *     unchanged
   */
  public static Result upgrade(ModelGraph model, long target) {
    List<String> p = problems(model, target);
    if (!p.isEmpty()) {
      throw new IllegalArgumentException(String.join("; ", p));
    }
    long from = model.opset("").orElse(1);
    if (from >= target) {
      return new Result(from, from, 0, List.of());
    }
    Rewriter r = new Rewriter(from, target, GraphEditor.of(model.graph()));
    r.graph(model.graph(), Map.of());
    model.opsetImports().put("", target);
    long ir = minimumIrVersion(target);
    if (model.irVersion() < ir) {
      model.setIrVersion(ir);
    }
    return new Result(from, target, r.rewritten, List.copyOf(r.changes));
  }

  /** The IR version an opset needs (ONNX's versioning table). */
  static long minimumIrVersion(long opset) {
    if (opset >= 19) {
      return 9;
    }
    if (opset >= 15) {
      return 8;
    }
    if (opset >= 12) {
      return 7;
    }
    return 6;
  }

  private static final class Rewriter {
    final long from;
    final long to;
    final GraphEditor names; // fresh names across the graph and its subgraphs
    final List<String> changes = new ArrayList<>();
    int rewritten;

    Rewriter(long from, long to, GraphEditor names) {
      this.from = from;
      this.to = to;
      this.names = names;
    }

    boolean crosses(long opset) {
      return from < opset && to >= opset;
    }

    void graph(Graph g, Map<String, Integer> outerRanks) {
      Map<String, Integer> ranks = Ranks.of(g, outerRanks);
      List<Node> nodes = g.nodes();
      for (int i = 0; i < nodes.size(); i++) {
        Node n = nodes.get(i);
        for (Attribute a : n.attributes().values()) {
          if (a.type() == Attribute.Type.GRAPH) {
            graph(a.asGraph(), ranks);
          } else if (a.type() == Attribute.Type.GRAPHS) {
            for (Graph sub : a.asGraphs()) {
              graph(sub, ranks);
            }
          }
        }
        if (!(n.domain().isEmpty() || n.domain().equals("ai.onnx"))) {
          continue;
        }
        String op = n.opType();
        if ((AXES_AT_13.contains(op) && crosses(13)) || (AXES_AT_18.contains(op) && crosses(18))) {
          attributeToInput(g, n, "axes", 1);
        } else if (op.equals("Split") && crosses(13)) {
          attributeToInput(g, n, "split", 1);
        } else if (op.equals("Dropout") && crosses(12)) {
          Attribute ratio = n.attributes().remove("ratio");
          if (ratio != null) {
            String name = fresh(baseName(n) + "_ratio");
            g.putInitializer(Tensor.ofFloats(name, new long[0], ratio.asFloat()));
            setInput(n, 1, name);
            note(n, "ratio attribute -> input");
          }
        } else if (SOFTMAX_LIKE.contains(op) && crosses(13)) {
          i += softmax(g, i, n, ranks);
        }
      }
    }

    /** Returns how many nodes were inserted before {@code n}'s position. */
    private int softmax(Graph g, int index, Node n, Map<String, Integer> ranks) {
      long axis = n.intAttr("axis", 1);
      Integer rank = ranks.get(n.input(0));
      if (axis == -1 || (rank != null && axis == rank - 1)) {
        return 0; // the last axis: the same at 13
      }
      if (rank != null && axis < 0) {
        axis += rank;
      }
      // op_11(x, axis) == Reshape(op_13(Flatten(x, axis), axis=-1), Shape(x))
      String x = n.input(0);
      String base = baseName(n);
      String flat = fresh(base + "_flat");
      String shape = fresh(base + "_shape");
      String y = n.output(0);
      String normalized = fresh(base + "_2d");
      Node flatten = Node.of(fresh(base + "/Flatten"), "Flatten", List.of(x), List.of(flat));
      flatten.put(Attribute.of("axis", axis));
      Node shapeOf = Node.of(fresh(base + "/Shape"), "Shape", List.of(x), List.of(shape));
      n.inputs().set(0, flat);
      n.outputs().set(0, normalized);
      n.put(Attribute.of("axis", -1L));
      Node reshape =
          Node.of(fresh(base + "/Reshape"), "Reshape", List.of(normalized, shape), List.of(y));
      g.nodes().add(index + 1, reshape);
      g.nodes().add(index, shapeOf);
      g.nodes().add(index, flatten);
      note(n, "axis " + axis + " over the flattened input -> Flatten/" + n.opType() + "/Reshape");
      return 3;
    }

    private void attributeToInput(Graph g, Node n, String attr, int index) {
      Attribute a = n.attributes().remove(attr);
      if (a == null) {
        return;
      }
      long[] v = a.asLongs();
      String name = fresh(baseName(n) + "_" + attr);
      g.putInitializer(Tensor.ofLongs(name, new long[] {v.length}, v));
      setInput(n, index, name);
      note(n, attr + " attribute -> input");
    }

    private void note(Node n, String what) {
      rewritten++;
      changes.add(label(n) + " (" + n.opType() + "): " + what);
    }

    private String fresh(String base) {
      return names.freshName(base);
    }
  }

  private static void setInput(Node n, int index, String name) {
    while (n.inputs().size() <= index) {
      n.inputs().add("");
    }
    n.inputs().set(index, name);
  }

  private static String baseName(Node n) {
    return n.name().isEmpty() ? n.output(0) : n.name();
  }

  private static String label(Node n) {
    return n.name().isEmpty() ? "(" + n.opType() + " -> " + n.output(0) + ")" : n.name();
  }

  private static List<Graph> subgraphs(Node n) {
    List<Graph> out = new ArrayList<>();
    for (Attribute a : n.attributes().values()) {
      if (a.type() == Attribute.Type.GRAPH) {
        out.add(a.asGraph());
      } else if (a.type() == Attribute.Type.GRAPHS) {
        out.addAll(a.asGraphs());
      }
    }
    return out;
  }

  /**
   * Tensor ranks known from the graph without running it: declared shapes of inputs and value
   * infos, initializer shapes, and propagation through the operators whose output rank follows from
   * their inputs' ranks (and, for {@code Reshape}/{@code Expand}, from the length of a 1-D shape
   * tensor, itself tracked through {@code Shape}/{@code Unsqueeze}/{@code Concat}). A value that is
   * not in the map has an unknown rank.
   */
  static final class Ranks {
    private Ranks() {}

    static Map<String, Integer> of(Graph g, Map<String, Integer> outer) {
      Map<String, Integer> rank = new HashMap<>(outer);
      Map<String, Long> length = new HashMap<>(); // 1-D int tensors: their element count
      for (ValueInfo v : g.inputs()) {
        if (v.shape() != null) {
          rank.put(v.name(), v.shape().size());
        }
      }
      for (ValueInfo v : g.valueInfo()) {
        if (v.shape() != null) {
          rank.put(v.name(), v.shape().size());
        }
      }
      for (Tensor t : g.initializers().values()) {
        rank.put(t.name(), t.shape().length);
        if (t.shape().length == 1) {
          length.put(t.name(), t.shape()[0]);
        }
      }
      for (Node n : g.nodes()) {
        if (!(n.domain().isEmpty() || n.domain().equals("ai.onnx")) || n.outputs().isEmpty()) {
          continue;
        }
        Integer r = infer(n, rank, length);
        if (r != null) {
          for (String o : n.outputs()) {
            if (!o.isEmpty()) {
              rank.putIfAbsent(o, r);
            }
          }
        }
      }
      return rank;
    }

    private static Integer infer(Node n, Map<String, Integer> rank, Map<String, Long> length) {
      List<String> in = n.inputs();
      Integer r0 = in.isEmpty() ? null : rank.get(in.get(0));
      String out = n.output(0);
      switch (n.opType()) {
        case "Constant" -> {
          Attribute v = n.attributes().get("value");
          if (v != null && v.type() == Attribute.Type.TENSOR) {
            long[] s = v.asTensor().shape();
            if (s.length == 1) {
              length.put(out, s[0]);
            }
            return s.length;
          }
          return null;
        }
        case "Shape" -> {
          if (r0 != null && n.attributes().isEmpty()) {
            length.put(out, (long) (int) r0);
          }
          return 1;
        }
        case "Size" -> {
          return 0;
        }
        case "Unsqueeze" -> {
          long k = axesCount(n, length);
          if (r0 != null && k >= 0) {
            if (r0 == 0 && k == 1) {
              length.put(out, 1L);
            }
            return r0 + (int) k;
          }
          return null;
        }
        case "Squeeze" -> {
          long k = axesCount(n, length);
          return r0 != null && k >= 0 ? r0 - (int) k : null;
        }
        case "Concat" -> {
          long total = 0;
          for (String s : in) {
            Long l = length.get(s);
            if (l == null) {
              total = -1;
              break;
            }
            total += l;
          }
          if (total >= 0 && r0 != null && r0 == 1) {
            length.put(out, total);
          }
          return r0;
        }
        case "Reshape" -> {
          Long l = in.size() > 1 ? length.get(in.get(1)) : null;
          return l == null ? null : (int) (long) l;
        }
        case "Expand" -> {
          Long l = in.size() > 1 ? length.get(in.get(1)) : null;
          return l == null || r0 == null ? null : Math.max(r0, (int) (long) l);
        }
        case "Gather" -> {
          Integer q = in.size() > 1 ? rank.get(in.get(1)) : null;
          return r0 == null || q == null ? null : r0 + q - 1;
        }
        case "MatMul", "MatMulInteger" -> {
          Integer a = r0;
          Integer b = in.size() > 1 ? rank.get(in.get(1)) : null;
          if (a == null || b == null) {
            return null;
          }
          if (a == 1 && b == 1) {
            return 0;
          }
          if (a == 1) {
            return b - 1;
          }
          if (b == 1) {
            return a - 1;
          }
          return Math.max(a, b);
        }
        case "Flatten", "Gemm" -> {
          return 2;
        }
        case "ReduceMean",
            "ReduceSum",
            "ReduceMax",
            "ReduceMin",
            "ReduceProd",
            "ReduceL1",
            "ReduceL2",
            "ReduceLogSum",
            "ReduceLogSumExp",
            "ReduceSumSquare" -> {
          if (r0 == null) {
            return null;
          }
          if (n.intAttr("keepdims", 1) != 0) {
            return r0;
          }
          long k = axesCount(n, length);
          return k > 0 ? r0 - (int) k : null;
        }
        case "Add",
            "Sub",
            "Mul",
            "Div",
            "Pow",
            "Where",
            "Equal",
            "Greater",
            "GreaterOrEqual",
            "Less",
            "LessOrEqual",
            "And",
            "Or",
            "Xor",
            "Max",
            "Min",
            "Sum",
            "Mean",
            "PRelu",
            "Mod" -> {
          int max = 0;
          for (String s : in) {
            Integer r = rank.get(s);
            if (r == null) {
              return null;
            }
            max = Math.max(max, r);
          }
          return max;
        }
        case "Cast",
            "Erf",
            "Sqrt",
            "Exp",
            "Log",
            "Tanh",
            "Sigmoid",
            "Relu",
            "Neg",
            "Abs",
            "Reciprocal",
            "Softmax",
            "LogSoftmax",
            "Hardmax",
            "Dropout",
            "Identity",
            "LayerNormalization",
            "Clip",
            "Not",
            "Transpose",
            "Slice",
            "Split",
            "Floor",
            "Ceil",
            "Round",
            "Sign",
            "Softplus",
            "LeakyRelu",
            "Elu",
            "HardSigmoid",
            "QuantizeLinear",
            "DequantizeLinear",
            "BatchNormalization",
            "InstanceNormalization",
            "Conv",
            "CumSum" -> {
          return r0;
        }
        default -> {
          return null;
        }
      }
    }

    /** Number of axes given by attribute or constant input; -1 when unknown. */
    private static long axesCount(Node n, Map<String, Long> length) {
      Attribute a = n.attributes().get("axes");
      if (a != null) {
        return a.asLongs().length;
      }
      if (n.inputs().size() > 1 && !n.input(1).isEmpty()) {
        Long l = length.get(n.input(1));
        return l == null ? -1 : l;
      }
      return -1;
    }
  }
}
