package dev.compress.api.graph;

import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Builds a {@link ModelGraph} in code: declared inputs and outputs, initializers, nodes, opset
 * imports; {@link #build()} checks the result with {@link GraphCheck}. For tests (tiny seeded
 * models) and for importers that assemble a graph from a checkpoint (Hugging Face folders).
 *
 * <pre>{@code
 * GraphBuilder b = GraphBuilder.create("mlp");
 * String x = b.input("x", DataType.FLOAT, "batch", 16);
 * String h = b.linear("fc1", x, w1, b1);        // /fc1/MatMul, /fc1/Add; w1 stored [in, out]
 * h = b.op("Relu", "/relu", List.of(h));
 * b.output(b.linear("fc2", h, w2, null), DataType.FLOAT);
 * ModelGraph model = b.build();
 * }</pre>
 *
 * <p>Names: a value, node or initializer name given explicitly is used as given (a value or
 * initializer name already taken, or a node name given twice, is an {@link
 * IllegalArgumentException}); names the builder invents come from {@link GraphEditor#freshName}
 * (exporter style: a node's output is {@code <node>_output_<i>}), so they never collide. Nodes are
 * appended in call order, which is topological when every input exists before it is read.
 *
 * <p>Opsets: the default ONNX domain is imported at {@link #DEFAULT_OPSET} unless {@link #opset}
 * says otherwise; a node of another domain imports it (version 1) the first time one is added. Ops
 * whose form depends on the opset ({@link #reduceMean}, {@link #geluFused}) follow the imported
 * version, so set it before adding nodes.
 *
 * <p>Lifecycle: one builder per model; after {@link #build()} the builder must not be used again.
 */
public final class GraphBuilder {
  /** The default-domain opset imported unless {@link #opset} is called: 17 (LayerNormalization). */
  public static final long DEFAULT_OPSET = 17;

  /** The ONNX Runtime contrib domain ({@code Gelu}, {@code SkipLayerNormalization}, ...). */
  public static final String MS_DOMAIN = "com.microsoft";

  private final Graph graph;
  private final ModelGraph model;
  private final GraphEditor editor;
  private final Set<String> nodeNames = new HashSet<>();
  private boolean built;

  private GraphBuilder(String name) {
    graph = new Graph(name);
    model = new ModelGraph(8, graph);
    model.opsetImports().put("", DEFAULT_OPSET);
    editor = GraphEditor.of(graph);
  }

  /** A builder of an empty graph called {@code graphName}: IR version 8, ai.onnx opset 17. */
  public static GraphBuilder create(String graphName) {
    return new GraphBuilder(graphName);
  }

  /** Imports {@code domain} ("" or "ai.onnx" for the default one) at {@code version}. */
  public GraphBuilder opset(String domain, long version) {
    model.opsetImports().put(domain.equals("ai.onnx") ? "" : domain, version);
    return this;
  }

  /** The default-domain opset now imported. */
  public long opset() {
    return model.opset("").orElse(DEFAULT_OPSET);
  }

  /** Sets the IR version (8 unless set). */
  public GraphBuilder irVersion(long v) {
    model.setIrVersion(v);
    return this;
  }

  /** Sets the producer name written into the model. */
  public GraphBuilder producer(String name) {
    model.setProducerName(name);
    return this;
  }

  /** The model being built (for reading; edit through the builder). */
  public ModelGraph model() {
    return model;
  }

  /** The editor over the graph being built (for its {@link GraphEditor#freshName}). */
  public GraphEditor editor() {
    return editor;
  }

  // --- inputs, outputs, initializers ------------------------------------------------------

  /**
   * Declares a graph input.
   *
   * @param dims each an {@code Integer}/{@code Long} (fixed size) or a {@code String} (symbolic
   *     name, e.g. {@code "batch"}); none at all declares a scalar
   * @return {@code name}
   */
  public String input(String name, DataType type, Object... dims) {
    claimValue(name);
    graph.inputs().add(ValueInfo.tensor(name, type, dims(dims)));
    return name;
  }

  /**
   * Declares a graph input with {@code shape} as a list of dimensions, or null for an unknown rank
   * (a model that accepts inputs of any shape).
   *
   * @return {@code name}
   */
  public String input(String name, DataType type, List<ValueInfo.Dim> shape) {
    claimValue(name);
    graph.inputs().add(ValueInfo.tensor(name, type, shape));
    return name;
  }

  /** Declares {@code value} a graph output of {@code type} and unknown shape. */
  public GraphBuilder output(String value, DataType type) {
    graph.outputs().add(ValueInfo.tensor(value, type, null));
    return this;
  }

  /** Declares {@code value} a graph output; {@code dims} as for {@link #input}. */
  public GraphBuilder output(String value, DataType type, Object... dims) {
    graph.outputs().add(ValueInfo.tensor(value, type, dims(dims)));
    return this;
  }

  /**
   * Adds {@code t} as an initializer under its own name (any dtype: build it with {@link Tensor}'s
   * factories).
   *
   * @return its name
   * @throws IllegalArgumentException when the name is already taken
   */
  public String initializer(Tensor t) {
    claimValue(t.name());
    graph.putInitializer(t);
    return t.name();
  }

  /** A float initializer called {@code name}. */
  public String floats(String name, long[] shape, float... values) {
    return initializer(Tensor.ofFloats(name, shape, values));
  }

  /** A 1-D int64 initializer under a fresh name from {@code base} (shapes, axes, indices). */
  public String longs(String base, long... values) {
    return fresh(Tensor.ofLongs(editor.freshName(base), new long[] {values.length}, values));
  }

  /** A rank-0 float initializer under a fresh name from {@code base}. */
  public String scalar(String base, float value) {
    return fresh(Tensor.ofFloats(editor.freshName(base), new long[] {}, value));
  }

  // --- nodes -------------------------------------------------------------------------------

  /**
   * Adds a default-domain node with one output, named {@code <nodeName>_output_0}.
   *
   * @param nodeName the node's name, or null for a fresh one from {@code opType}
   * @return the output value's name
   */
  public String op(String opType, String nodeName, List<String> inputs, Attribute... attrs) {
    return node("", opType, nodeName, inputs, 1, attrs).getFirst();
  }

  /**
   * Adds a node with {@code outputs} fresh outputs ({@code <nodeName>_output_<i>}).
   *
   * @param domain "" for the default domain; another one is imported at version 1 if it is not yet
   * @param nodeName the node's name, or null for a fresh one from {@code opType}
   * @return the output names, in order
   */
  public List<String> node(
      String domain,
      String opType,
      String nodeName,
      List<String> inputs,
      int outputs,
      Attribute... attrs) {
    String name = nodeName(nodeName, opType);
    List<String> outs = new ArrayList<>();
    for (int i = 0; i < outputs; i++) {
      outs.add(editor.freshName(name + "_output_" + i));
    }
    add(domain, opType, name, inputs, outs, attrs);
    return outs;
  }

  /**
   * Adds a node whose outputs have the given names (e.g. a graph output called {@code y}); an empty
   * name is an omitted optional output.
   *
   * @param nodeName the node's name, or null for a fresh one from {@code opType}
   * @return the node
   * @throws IllegalArgumentException when an output name is already taken
   */
  public Node nodeTo(
      String domain,
      String opType,
      String nodeName,
      List<String> inputs,
      List<String> outputs,
      Attribute... attrs) {
    String name = nodeName(nodeName, opType);
    outputs.stream().filter(o -> !o.isEmpty()).forEach(this::claimValue);
    return add(domain, opType, name, inputs, outputs, attrs);
  }

  /** A default-domain node with one output named {@code output}; returns {@code output}. */
  public String opTo(
      String opType, String nodeName, List<String> inputs, String output, Attribute... attrs) {
    nodeTo("", opType, nodeName, inputs, List.of(output), attrs);
    return output;
  }

  /** A {@code Constant} node holding {@code value}; its output carries the tensor's name. */
  public String constantNode(String nodeName, Tensor value) {
    return opTo("Constant", nodeName, List.of(), value.name(), Attribute.of("value", value));
  }

  /**
   * Renames {@code value}, an output of a node added earlier that nothing reads yet, to {@code
   * newName} (e.g. the last layer's output to {@code last_hidden_state}); returns {@code newName}.
   *
   * @throws IllegalArgumentException when {@code value} has no producer, is already read, or {@code
   *     newName} is taken
   */
  public String rename(String value, String newName) {
    Node producer =
        editor
            .index()
            .producer(value)
            .orElseThrow(() -> new IllegalArgumentException("no node computes '" + value + "'"));
    if (!editor.index().consumers(value).isEmpty()) {
      throw new IllegalArgumentException("'" + value + "' is already read; rename it before");
    }
    claimValue(newName);
    Node renamed = producer.copy();
    renamed.outputs().set(producer.outputs().indexOf(value), newName);
    editor.replaceNode(producer, renamed);
    return newName;
  }

  // --- layers ------------------------------------------------------------------------------

  /**
   * A linear layer as exporters write it: {@code /<prefix>/MatMul} of {@code x} and {@code weight}
   * (stored {@code [in, out]}), then {@code /<prefix>/Add} of {@code bias} when there is one.
   *
   * @param prefix the module path, e.g. {@code encoder/layer.0/attention/self/query} (slashes at
   *     either end are ignored)
   * @param bias {@code [out]}, or null for none
   * @return the layer's output
   */
  public String linear(String prefix, String x, Tensor weight, Tensor bias) {
    if (weight.rank() != 2) {
      throw new IllegalArgumentException(
          "linear '" + prefix + "': weight must be [in, out], found " + weight.shapeString());
    }
    String p = scope(prefix);
    String y = op("MatMul", p + "/MatMul", List.of(x, initializer(weight)));
    return bias == null ? y : op("Add", p + "/Add", List.of(y, initializer(bias)));
  }

  /** {@code LayerNormalization} over the last axis (opset 17). */
  public String layerNorm(String nodeName, String x, Tensor gamma, Tensor beta, float epsilon) {
    return op(
        "LayerNormalization",
        nodeName,
        List.of(x, initializer(gamma), initializer(beta)),
        Attribute.of("axis", -1L),
        Attribute.of("epsilon", epsilon));
  }

  /**
   * RMSNorm as one {@code SimplifiedLayerNormalization} node over the last axis: {@code x /
   * sqrt(mean(x²) + ε) * gamma}. ONNX Runtime registers it in the default domain (the form its
   * transformer optimizer writes for Llama); the DJL interpreter runs it too.
   */
  public String rmsNorm(String nodeName, String x, Tensor gamma, float epsilon) {
    return op(
        "SimplifiedLayerNormalization",
        nodeName,
        List.of(x, initializer(gamma)),
        Attribute.of("axis", -1L),
        Attribute.of("epsilon", epsilon));
  }

  /**
   * RMSNorm decomposed as the PyTorch exporter writes Llama's: {@code Pow(x, 2) -> ReduceMean ->
   * Add ε -> Sqrt -> Div(1, ·) -> Mul x -> Mul gamma}, nodes named {@code /<prefix>/Pow}, ...
   */
  public String rmsNormDecomposed(String prefix, String x, Tensor gamma, float epsilon) {
    String p = scope(prefix);
    String sq = op("Pow", p + "/Pow", List.of(x, scalar(p + "/Constant", 2f)));
    String mean = reduceMean(p + "/ReduceMean", sq, -1);
    String var = op("Add", p + "/Add", List.of(mean, scalar(p + "/Constant", epsilon)));
    String rms = op("Sqrt", p + "/Sqrt", List.of(var));
    String inv = op("Div", p + "/Div", List.of(scalar(p + "/Constant", 1f), rms));
    String n = op("Mul", p + "/Mul", List.of(x, inv));
    return op("Mul", p + "/Mul_1", List.of(initializer(gamma), n));
  }

  /**
   * {@code ReduceMean} over one axis, keepdims: axes as an attribute before opset 18, else input.
   */
  public String reduceMean(String nodeName, String x, long axis) {
    return opset() >= 18
        ? op("ReduceMean", nodeName, List.of(x, longs(nodeName + "/axes", axis)))
        : op("ReduceMean", nodeName, List.of(x), Attribute.ofInts("axes", axis));
  }

  /**
   * GELU (erf form) decomposed as exporters write it: {@code x * 0.5 * (1 + erf(x / √2))}, nodes
   * {@code /<prefix>/Div}, {@code Erf}, {@code Add}, {@code Mul}, {@code Mul_1}.
   */
  public String gelu(String prefix, String x) {
    String p = scope(prefix);
    String d = op("Div", p + "/Div", List.of(x, scalar(p + "/Constant", (float) Math.sqrt(2))));
    String e = op("Erf", p + "/Erf", List.of(d));
    String a = op("Add", p + "/Add", List.of(e, scalar(p + "/Constant", 1f)));
    String m = op("Mul", p + "/Mul", List.of(x, a));
    return op("Mul", p + "/Mul_1", List.of(m, scalar(p + "/Constant", 0.5f)));
  }

  /** GELU as one node: {@code Gelu} from opset 20, else {@code com.microsoft::Gelu}. */
  public String geluFused(String nodeName, String x) {
    return opset() >= 20
        ? op("Gelu", nodeName, List.of(x))
        : node(MS_DOMAIN, "Gelu", nodeName, List.of(x), 1).getFirst();
  }

  /** SiLU (swish) as exporters write it: {@code x * Sigmoid(x)}, {@code /<prefix>/Sigmoid, Mul}. */
  public String silu(String prefix, String x) {
    String p = scope(prefix);
    String s = op("Sigmoid", p + "/Sigmoid", List.of(x));
    return op("Mul", p + "/Mul", List.of(x, s));
  }

  /** {@code Softmax} along {@code axis}. */
  public String softmax(String nodeName, String x, long axis) {
    return op("Softmax", nodeName, List.of(x), Attribute.of("axis", axis));
  }

  /** {@code Reshape} to a constant shape (0 copies the input's dimension, -1 is inferred). */
  public String reshape(String nodeName, String x, long... shape) {
    return op("Reshape", nodeName, List.of(x, longs(nodeName + "/shape", shape)));
  }

  /** {@code Transpose} with {@code perm}. */
  public String transpose(String nodeName, String x, long... perm) {
    return op("Transpose", nodeName, List.of(x), Attribute.ofInts("perm", perm));
  }

  /**
   * Attention heads as MiniLM's export lays them out: {@code [b, t, heads*headDim] -> Reshape [b,
   * t, heads, headDim] -> Transpose (0, 2, 1, 3) -> [b, heads, t, headDim]}; with {@code
   * keysTransposed} the Transpose is {@code (0, 2, 3, 1)}, giving the key side {@code [b, heads,
   * headDim, t]} ready for {@code Q Kᵀ}.
   */
  public String splitHeads(
      String prefix, String x, int heads, int headDim, boolean keysTransposed) {
    String p = scope(prefix);
    String r = reshape(p + "/Reshape", x, 0, 0, heads, headDim);
    return keysTransposed
        ? transpose(p + "/Transpose", r, 0, 2, 3, 1)
        : transpose(p + "/Transpose", r, 0, 2, 1, 3);
  }

  /**
   * The inverse of {@link #splitHeads}: {@code [b, heads, t, headDim] -> [b, t, heads*headDim]}.
   */
  public String mergeHeads(String prefix, String x, int heads, int headDim) {
    String p = scope(prefix);
    String t = transpose(p + "/Transpose", x, 0, 2, 1, 3);
    return reshape(p + "/Reshape", t, 0, 0, (long) heads * headDim);
  }

  // --- build -------------------------------------------------------------------------------

  /**
   * The model, checked.
   *
   * @throws IllegalStateException naming the first {@link GraphCheck} problem (and how many more)
   *     when the graph is malformed (an input nothing defines, an output nothing computes, ...)
   */
  public ModelGraph build() {
    if (built) {
      throw new IllegalStateException("build() was already called on this GraphBuilder");
    }
    built = true;
    List<GraphCheck.Problem> problems = GraphCheck.problems(model);
    if (!problems.isEmpty()) {
      throw new IllegalStateException(
          "graph '" + graph.name() + "' is malformed: " + GraphCheck.summary(problems));
    }
    return model;
  }

  // --- internals ---------------------------------------------------------------------------

  private Node add(
      String domain,
      String opType,
      String name,
      List<String> inputs,
      List<String> outputs,
      Attribute... attrs) {
    if (built) {
      throw new IllegalStateException("the GraphBuilder was already built");
    }
    Node n = new Node(name, opType, domain, inputs, outputs);
    for (Attribute a : attrs) {
      n.put(a);
    }
    if (!n.domain().isEmpty()) {
      model.opsetImports().putIfAbsent(n.domain(), 1L);
    }
    editor.append(n);
    return n;
  }

  /** Adds an initializer whose name {@link GraphEditor#freshName} just reserved. */
  private String fresh(Tensor t) {
    graph.putInitializer(t);
    return t.name();
  }

  private String nodeName(String given, String opType) {
    String name = given == null ? editor.freshName("/" + opType) : given;
    if (!nodeNames.add(name)) {
      throw new IllegalArgumentException("node name '" + name + "' is already used");
    }
    return name;
  }

  private void claimValue(String name) {
    if (!editor.freshName(name).equals(name)) {
      throw new IllegalArgumentException("value name '" + name + "' is already used");
    }
  }

  private static String scope(String prefix) {
    int from = 0;
    int to = prefix.length();
    while (from < to && prefix.charAt(from) == '/') {
      from++;
    }
    while (to > from && prefix.charAt(to - 1) == '/') {
      to--;
    }
    return "/" + prefix.substring(from, to);
  }

  private static List<ValueInfo.Dim> dims(Object... dims) {
    List<ValueInfo.Dim> out = new ArrayList<>();
    for (Object d : dims) {
      if (d instanceof Number n) {
        out.add(ValueInfo.Dim.of(n.longValue()));
      } else if (d instanceof String s) {
        out.add(ValueInfo.Dim.of(s));
      } else {
        throw new IllegalArgumentException(
            "a dimension is a number or a symbolic name, found "
                + d
                + " in "
                + Arrays.asList(dims));
      }
    }
    return out;
  }
}
