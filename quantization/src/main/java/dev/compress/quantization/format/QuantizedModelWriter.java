package dev.compress.quantization.format;

import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.GraphEditor;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.OpsetUpgrade;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.layers.LinearLayer.Kind;
import dev.compress.api.layers.LinearLayer.WeightLayout;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.QuantParams;
import dev.compress.api.tensor.Tensor;
import dev.compress.quantization.grid.QuantizedMatrix;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Writes quantized weights into a model as real integer tensors that ONNX Runtime executes, never
 * as float copies. Two formats:
 *
 * <ul>
 *   <li><b>8-bit per channel: {@code DequantizeLinear}.</b> The codes are stored in the weight's
 *       own layout and shape ({@code [in, out]} for a MatMul), as INT8 {@code q - 128} for a
 *       symmetric grid (no zero point: ONNX's default 0) or as UINT8 {@code q} with a UINT8 zero
 *       point {@code [out]} for an asymmetric one; an f32 scale {@code [out]}; a {@code
 *       DequantizeLinear(axis)} node whose output replaces the weight input of the consuming node,
 *       with {@code axis} the storage axis of the output channels (1 for {@code [in, out]}, 0 for
 *       {@code [out, in]} and Conv). Per-axis {@code DequantizeLinear} needs opset 13 or later; a
 *       model below 13 is raised to it ({@link OpsetUpgrade}) before the first one is written. The
 *       integer tensor carries {@link QuantParams} in the IR.
 *   <li><b>4-bit: {@code com.microsoft::MatMulNBits}</b> (layout in {@link MatMulNBitsLayout}). A
 *       MatMul node is turned into {@code MatMulNBits(A, B, scales[, zero_points])} in place,
 *       keeping its name, with attributes {@code K}, {@code N}, {@code bits}, {@code block_size}; a
 *       Gemm ({@code alpha = 1}, {@code beta = 1} when it has a C) too, followed by an {@code Add}
 *       of its C. The model imports {@code com.microsoft} version 1.
 * </ul>
 *
 * <p>Use: check every layer with {@link #dequantizeLinearProblem} / {@link #matMulNBitsProblem}
 * first, then write each, then {@link #finish()}, which removes original weights nothing reads any
 * more. A weight shared by several written layers is stored once.
 */
public final class QuantizedModelWriter {
  /** The ONNX Runtime contrib operator domain. */
  public static final String MS_DOMAIN = "com.microsoft";

  private final ModelGraph model;
  private final Graph graph;
  private final GraphEditor editor;
  private final Set<String> replaced = new LinkedHashSet<>();
  private final Map<String, Node> dequantized = new HashMap<>(); // weight -> its DQ node
  private final Map<String, Node> casts = new HashMap<>(); // half weight -> Cast after its DQL
  private final Map<String, Node> widenNodes = new HashMap<>(); // half value -> Cast to f32
  private final Map<String, List<String>> nbits = new HashMap<>(); // weight+format -> inputs
  private final Map<String, List<String>> dynamic = new HashMap<>(); // value -> DQL outputs
  private final Map<String, Node> dynamicNodes = new HashMap<>(); // value -> its DQL node
  private final Map<String, List<String>> gathered = new HashMap<>(); // table -> codes, scales
  private OpsetUpgrade.Result upgrade;

  /**
   * The float type of the weight {@code name} (FLOAT, FLOAT16 or BFLOAT16): the type its consumers
   * compute in, which what replaces it must produce.
   */
  private DataType floatType(String name) {
    DataType t = graph.constant(name).map(Tensor::dtype).orElse(DataType.FLOAT);
    return t == DataType.FLOAT16 || t == DataType.BFLOAT16 ? t : DataType.FLOAT;
  }

  /** The first opset with per-axis {@code DequantizeLinear}. */
  private static final long PER_AXIS_OPSET = 13;

  /** A writer for {@code model}, which it changes in place. */
  public QuantizedModelWriter(ModelGraph model) {
    this.model = model;
    this.graph = model.graph();
    this.editor = GraphEditor.of(graph);
  }

  /**
   * Why weights of {@code model} cannot be written with per-channel {@code DequantizeLinear}, for a
   * pass that offers no other format. Per-axis {@code DequantizeLinear} needs opset 13; a model
   * below that is raised by {@link OpsetUpgrade} when the first such weight is written, so this
   * names only what prevents that upgrade.
   */
  public static Optional<String> dequantizeLinearProblem(ModelGraph model) {
    return dequantizeLinearProblem(model, List.of(), null);
  }

  /**
   * Why weights of {@code model} cannot be written with per-channel {@code DequantizeLinear}. The
   * hint offers {@code nBitsSetting} (the calling pass's setting that writes {@code MatMulNBits}
   * instead, which needs no opset, e.g. {@code "bits=4"}) only for the layers MatMulNBits can hold:
   * a Conv cannot become one, so with Conv layers among {@code layers} the hint says so and names
   * them, instead of leading to a second error.
   *
   * @param layers the layers the pass would write
   * @param nBitsSetting the setting to suggest, or null when the pass has none
   */
  public static Optional<String> dequantizeLinearProblem(
      ModelGraph model, Collection<LinearLayer> layers, String nBitsSetting) {
    long opset = model.opset("").orElse(1);
    if (opset >= PER_AXIS_OPSET) {
      return Optional.empty();
    }
    List<String> blockers = OpsetUpgrade.problems(model, PER_AXIS_OPSET);
    if (blockers.isEmpty()) {
      return Optional.empty(); // raised to 13 when the first weight is written
    }
    String problem =
        "per-channel DequantizeLinear (axis) needs opset >= 13; the model imports opset "
            + opset
            + " and cannot be raised: "
            + String.join("; ", blockers)
            + ". HINT: re-export the model at opset >= 13";
    if (nBitsSetting == null) {
      return Optional.of(problem);
    }
    List<String> convs =
        layers.stream().filter(l -> l.kind() == Kind.CONV).map(LinearLayer::name).toList();
    if (convs.isEmpty()) {
      return Optional.of(problem + ", or use " + nBitsSetting + " (MatMulNBits, any opset)");
    }
    return Optional.of(
        problem
            + "; "
            + nBitsSetting
            + " (MatMulNBits, any opset) cannot hold the "
            + convs.size()
            + " Conv layer"
            + (convs.size() == 1 ? "" : "s")
            + " selected ("
            + String.join(", ", convs.size() > 3 ? convs.subList(0, 3) : convs)
            + (convs.size() > 3 ? ", ..." : "")
            + "): leave them out with ignore to use "
            + nBitsSetting
            + " for the rest");
  }

  /** The opset upgrade this writer made (raising the model to opset 13), if it made one. */
  public Optional<OpsetUpgrade.Result> opsetUpgrade() {
    return Optional.ofNullable(upgrade);
  }

  /** Raises the model to opset 13 before the first per-axis {@code DequantizeLinear}. */
  private void requirePerAxisOpset() {
    if (model.opset("").orElse(1) >= PER_AXIS_OPSET) {
      return;
    }
    upgrade = OpsetUpgrade.upgrade(model, PER_AXIS_OPSET);
    editor.rescan(); // the upgrade added constants and nodes
  }

  /**
   * Why {@code layer} cannot become a {@code MatMulNBits} node with blocks of {@code blockSize}, if
   * it cannot.
   */
  public static Optional<String> matMulNBitsProblem(LinearLayer layer, int blockSize) {
    if (blockSize > MatMulNBitsLayout.MAX_ORT_BLOCK_SIZE) {
      return Optional.of(
          "one MatMulNBits block over its "
              + layer.inFeatures()
              + " input features (per channel) needs block_size "
              + blockSize
              + ", but ONNX Runtime 1.22 computes blocks of at most "
              + MatMulNBitsLayout.MAX_ORT_BLOCK_SIZE
              + " correctly. HINT: use granularity PER_GROUP (groupSize 32, 64 or 128)");
    }
    if (!MatMulNBitsLayout.validBlockSize(blockSize)) {
      return Optional.of("block_size must be a power of two >= 16, found " + blockSize);
    }
    Node n = layer.node();
    return switch (layer.kind()) {
      case MATMUL -> Optional.empty();
      case CONV -> Optional.of("a Conv cannot be written as MatMulNBits; use bits=8 PER_CHANNEL");
      case GEMM -> {
        float alpha = n.floatAttr("alpha", 1f);
        float beta = n.floatAttr("beta", 1f);
        if (alpha != 1f) {
          yield Optional.of("Gemm with alpha=" + alpha + " cannot be written as MatMulNBits");
        }
        if (!n.input(2).isEmpty() && beta != 1f) {
          yield Optional.of("Gemm with beta=" + beta + " cannot be written as MatMulNBits");
        }
        yield Optional.empty();
      }
    };
  }

  /**
   * Stores {@code layer}'s weight as 8-bit codes behind a per-channel {@code DequantizeLinear}.
   *
   * @param q the weight in the {@code out x in} view, per-channel, 8 bits
   * @return bytes of the tensors added (0 when the weight was already written for another layer)
   */
  public long writeDequantizeLinear(LinearLayer layer, QuantizedMatrix q) {
    return writeDequantizeLinear(
        layer.node(), 1, layer.weight(), layer.weightShape(), layer.layout(), q);
  }

  /**
   * Stores a constant weight read by input {@code inputIndex} of {@code consumer} as 8-bit codes
   * behind a per-channel {@code DequantizeLinear}; also used for embedding tables (rows as
   * channels, {@link WeightLayout#OUT_IN}).
   *
   * @param shape the weight's stored shape
   * @param q the weight in the {@code out x in} view, per-channel, 8 bits
   * @return bytes of the tensors added (0 when the weight was already written)
   */
  public long writeDequantizeLinear(
      Node consumer,
      int inputIndex,
      String weight,
      long[] shape,
      WeightLayout layout,
      QuantizedMatrix q) {
    if (q.bits() != 8 || q.groups() != 1) {
      throw new IllegalArgumentException(
          "DequantizeLinear is written for 8-bit per-channel weights only");
    }
    Node done = dequantized.get(weight);
    if (done != null) {
      // Keep the order topological when this consumer comes before the first one.
      Node cast = casts.get(weight);
      List<Node> nodes = graph.nodes();
      int at = nodes.indexOf(consumer);
      if (at < nodes.indexOf(done)) {
        nodes.remove(done);
        nodes.add(at, done);
        if (cast != null) {
          nodes.remove(cast);
          nodes.add(at + 1, cast);
        }
      }
      editor.setInput(consumer, inputIndex, (cast == null ? done : cast).output(0));
      return 0;
    }
    requirePerAxisOpset();
    DataType own = floatType(weight);
    int out = q.rows();
    int in = q.cols();
    boolean sym = q.symmetric();
    byte[] codes = new byte[out * in];
    for (int o = 0; o < out; o++) {
      for (int i = 0; i < in; i++) {
        int c = q.code(o, i);
        codes[WeightMatrix.storedIndex(layout, out, in, o, i)] = (byte) (sym ? c - 128 : c);
      }
    }
    float[] scales = new float[out];
    byte[] zeros = new byte[out];
    for (int o = 0; o < out; o++) {
      scales[o] = q.scale(o, 0);
      zeros[o] = (byte) q.zero(o, 0);
    }
    int axis = WeightMatrix.outputAxis(layout);
    Tensor scale = Tensor.ofFloats(fresh(weight + "_scale"), new long[] {out}, scales);
    Tensor zp =
        sym
            ? null
            : Tensor.ofBytes(fresh(weight + "_zero_point"), DataType.UINT8, shape(out), zeros);
    Tensor qt =
        Tensor.of(
                fresh(weight + "_quantized"),
                sym ? DataType.INT8 : DataType.UINT8,
                shape,
                ByteBuffer.wrap(codes)) // not copied: codes is ours alone
            .withQuant(new QuantParams(scale, zp, axis, 0));
    String output = fresh(weight + "_dequantized");
    List<String> inputs = new ArrayList<>(List.of(qt.name(), scale.name()));
    if (zp != null) {
      inputs.add(zp.name());
    }
    Node dq =
        Node.of(fresh(weight + "_DequantizeLinear"), "DequantizeLinear", inputs, List.of(output));
    dq.put(Attribute.of("axis", (long) axis));
    addInitializer(qt);
    addInitializer(scale);
    if (zp != null) {
      addInitializer(zp);
    }
    editor.insertBefore(consumer, dq);
    if (own != DataType.FLOAT) {
      // f32 scales (any opset >= 13), then the weight's own type, which the consumer computes in.
      String cast = fresh(weight + "_dequantized_" + own.name().toLowerCase(Locale.ROOT));
      Node c =
          Node.of(fresh(weight + "_Cast"), "Cast", List.of(output), List.of(cast))
              .put(Attribute.of("to", (long) own.onnxCode()));
      editor.insertBefore(consumer, c);
      casts.put(weight, c);
      output = cast;
    }
    editor.setInput(consumer, inputIndex, output);
    dequantized.put(weight, dq);
    replaced.add(weight);
    return qt.byteSize() + scale.byteSize() + (zp == null ? 0 : zp.byteSize());
  }

  /**
   * Turns {@code layer} into a {@code MatMulNBits} node over the packed weight.
   *
   * @param q the weight in the {@code out x in} view, 4 bits
   * @param blockSize the block size: the group size, or for per-channel a block covering all input
   *     features ({@link MatMulNBitsLayout#perChannelBlockSize})
   * @return bytes of the tensors added (0 when the weight was already written for another layer)
   * @throws IllegalArgumentException when {@link #matMulNBitsProblem} reports a problem, or the
   *     weight is not 4-bit (ONNX Runtime 1.22's CPU kernel computes 8-bit MatMulNBits only with
   *     int8-quantized activations, {@code accuracy_level=4}, and only where MLAS has the kernel)
   */
  public long writeMatMulNBits(LinearLayer layer, QuantizedMatrix q, int blockSize) {
    return writeMatMulNBits(layer, q, blockSize, 0);
  }

  /**
   * {@link #writeMatMulNBits(LinearLayer, QuantizedMatrix, int)} with the node's {@code
   * accuracy_level} attribute (written when non-zero; {@link MatMulNBitsLayout#ACCURACY_INT8} asks
   * runtimes for int8 compute).
   */
  public long writeMatMulNBits(
      LinearLayer layer, QuantizedMatrix q, int blockSize, int accuracyLevel) {
    matMulNBitsProblem(layer, blockSize)
        .ifPresent(
            p -> {
              throw new IllegalArgumentException(layer.name() + ": " + p);
            });
    if (q.bits() != 4) {
      throw new IllegalArgumentException(
          "MatMulNBits is written for 4-bit weights only: ONNX Runtime 1.22 computes 8-bit blocks"
              + " only with int8-quantized activations (accuracy_level 4), on some CPUs");
    }
    String key = layer.weight() + "#" + q.bits() + "/" + blockSize;
    List<String> tensors = nbits.get(key);
    long added = 0;
    if (tensors == null) {
      MatMulNBitsLayout.Packed p = MatMulNBitsLayout.pack(q, blockSize);
      String base = layer.weight();
      Tensor b =
          Tensor.of(
              fresh(base + "_q" + q.bits()), DataType.UINT8, p.bShape(), ByteBuffer.wrap(p.b()));
      // Scales in the activation's type (MatMulNBits' T1): the weight's own float type.
      Tensor scales =
          Tensor.ofFloats(
              fresh(base + "_scales"),
              floatType(layer.weight()),
              shape(p.scales().length),
              p.scales());
      Tensor zp =
          p.zeroPoints() == null
              ? null
              : Tensor.ofBytes(
                  fresh(base + "_zero_points"),
                  DataType.UINT8,
                  shape(p.zeroPoints().length),
                  p.zeroPoints());
      addInitializer(b);
      addInitializer(scales);
      tensors = new ArrayList<>(List.of(b.name(), scales.name()));
      added = b.byteSize() + scales.byteSize();
      if (zp != null) {
        addInitializer(zp);
        tensors.add(zp.name());
        added += zp.byteSize();
      }
      nbits.put(key, tensors);
    }
    Node n = layer.node();
    String a = n.input(0);
    String c = layer.kind() == Kind.GEMM ? n.input(2) : "";
    String y = n.output(0);
    String mmOut = c.isEmpty() ? y : fresh(y + "_matmul");
    n.setDomain(MS_DOMAIN);
    n.setOpType("MatMulNBits");
    n.attributes().clear();
    n.put(Attribute.of("K", (long) q.cols()));
    n.put(Attribute.of("N", (long) q.rows()));
    n.put(Attribute.of("bits", (long) q.bits()));
    n.put(Attribute.of("block_size", (long) blockSize));
    if (accuracyLevel != 0) {
      n.put(Attribute.of("accuracy_level", (long) accuracyLevel));
    }
    n.inputs().clear();
    n.inputs().add(a);
    n.inputs().addAll(tensors);
    n.outputs().set(0, mmOut);
    if (!c.isEmpty()) {
      Node add = Node.of(fresh(layer.name() + "_bias_add"), "Add", List.of(mmOut, c), List.of(y));
      editor.insertAfter(n, add);
    }
    model.opsetImports().putIfAbsent(MS_DOMAIN, 1L);
    replaced.add(layer.weight());
    return added;
  }

  /**
   * Inserts static activation quantization on {@code value}: {@code QuantizeLinear(value, scale,
   * zero_point) -> DequantizeLinear(., scale, zero_point)}, per tensor (scalar f32 scale, scalar
   * UINT8 or INT8 zero point, which fixes the code type), and makes input 0 of each of {@code
   * consumers} read the dequantized value. One Q/DQ pair per value, shared by its consumers (ONNX
   * Runtime gives each consumer its own DQ copy before fusing).
   *
   * @param value the activation value name
   * @param scale the step
   * @param zeroPoint the code of 0
   * @param signed INT8 codes (else UINT8)
   * @param consumers nodes whose input 0 is {@code value}
   * @return bytes of the tensors added
   */
  public long writeActivationQdq(
      String value, float scale, int zeroPoint, boolean signed, List<Node> consumers) {
    return writeActivationQdq(value, scale, zeroPoint, signed, consumers, DataType.FLOAT);
  }

  /**
   * {@link #writeActivationQdq(String, float, int, boolean, List)} for an activation of the float
   * type {@code own}: a FLOAT16 or BFLOAT16 value is cast to f32 for the Q/DQ pair (scales are f32)
   * and the dequantized value cast back to {@code own}, which the consumers compute in.
   */
  public long writeActivationQdq(
      String value,
      float scale,
      int zeroPoint,
      boolean signed,
      List<Node> consumers,
      DataType own) {
    if (consumers.isEmpty()) {
      throw new IllegalArgumentException("no consumer of " + value + " to rewire");
    }
    String base = value;
    Tensor s = Tensor.ofFloats(fresh(base + "_scale"), new long[0], scale);
    Tensor zp =
        Tensor.ofBytes(
            fresh(base + "_zero_point"),
            signed ? DataType.INT8 : DataType.UINT8,
            new long[0],
            (byte) zeroPoint);
    addInitializer(s);
    addInitializer(zp);
    String q = fresh(base + "_quantized");
    String dq = fresh(base + "_dequantized");
    Node qn =
        Node.of(
            fresh(base + "_QuantizeLinear"),
            "QuantizeLinear",
            List.of(value, s.name(), zp.name()),
            List.of(q));
    Node dqn =
        Node.of(
            fresh(base + "_DequantizeLinear"),
            "DequantizeLinear",
            List.of(q, s.name(), zp.name()),
            List.of(dq));
    Node first = graph.nodes().get(firstIndex(consumers));
    String read = dq;
    if (own != DataType.FLOAT) {
      String wide = fresh(base + "_float");
      read = fresh(dq + "_" + own.name().toLowerCase(Locale.ROOT));
      editor.insertBefore(
          first,
          Node.of(fresh(base + "_Cast_float"), "Cast", List.of(value), List.of(wide))
              .put(Attribute.of("to", (long) DataType.FLOAT.onnxCode())));
      qn.inputs().set(0, wide); // not in the graph yet
    }
    editor.insertBefore(first, qn);
    editor.insertBefore(first, dqn);
    if (own != DataType.FLOAT) {
      editor.insertBefore(
          first,
          Node.of(fresh(base + "_Cast_back"), "Cast", List.of(dq), List.of(read))
              .put(Attribute.of("to", (long) own.onnxCode())));
    }
    for (Node c : consumers) {
      if (!c.input(0).equals(value)) {
        throw new IllegalArgumentException(c + " does not read " + value + " as input 0");
      }
      editor.setInput(c, 0, read);
    }
    return s.byteSize() + zp.byteSize();
  }

  /**
   * The shared dynamic activation quantizer of {@code value}: {@code DynamicQuantizeLinear(value)
   * -> (x_q UINT8, x_scale, x_zero_point)}, created on first use before {@code before}.
   *
   * @return its three output names
   */
  public List<String> dynamicQuantizer(String value, Node before) {
    List<String> done = dynamic.get(value);
    if (done != null) {
      Node n = dynamicNodes.get(value);
      List<Node> nodes = graph.nodes();
      int at = indexOfIdentity(nodes, before);
      if (at < indexOfIdentity(nodes, n)) {
        nodes.remove(n);
        nodes.add(at, n);
      }
      return done;
    }
    String base = value;
    List<String> outs =
        List.of(fresh(base + "_quantized"), fresh(base + "_scale"), fresh(base + "_zero_point"));
    Node n =
        Node.of(
            fresh(base + "_DynamicQuantizeLinear"), "DynamicQuantizeLinear", List.of(value), outs);
    editor.insertBefore(before, n);
    dynamic.put(value, outs);
    dynamicNodes.put(value, n);
    return outs;
  }

  /**
   * {@code Cast(value, to = FLOAT)}, created on first use before {@code before} (moved before an
   * earlier consumer, as {@link #dynamicQuantizer} is); its output name.
   */
  private String widened(String value, Node before) {
    Node n = widenNodes.get(value);
    List<Node> nodes = graph.nodes();
    if (n != null) {
      int at = indexOfIdentity(nodes, before);
      if (at < indexOfIdentity(nodes, n)) {
        nodes.remove(n);
        nodes.add(at, n);
      }
      return n.output(0);
    }
    n =
        Node.of(fresh(value + "_widen"), "Cast", List.of(value), List.of(fresh(value + "_f32")))
            .put(Attribute.of("to", (long) DataType.FLOAT.onnxCode()));
    nodes.add(indexOfIdentity(nodes, before), n);
    widenNodes.put(value, n);
    return n.output(0);
  }

  /**
   * Replaces a MatMul (or a Gemm with {@code alpha = beta = 1}, {@code transA = 0}) by ONNX
   * Runtime's dynamic-quantization pattern, which it fuses into {@code MatMulIntegerToFloat} /
   * {@code DynamicQuantizeMatMul}:
   *
   * <pre>
   *   DynamicQuantizeLinear(x) -> x_q (uint8), x_scale, x_zp      (shared by layers reading x)
   *   Mul(x_scale, w_scale[N]) -> s
   *   MatMulInteger(x_q, W_q int8 [K, N], x_zp) -> int32
   *   Cast(to = FLOAT) -> Mul(., s) -> the layer's output        (+ Add(., C) for a Gemm's C)
   * </pre>
   *
   * The weight has no zero point (symmetric int8); {@code w_scale} is per output column.
   *
   * @param layer the layer (MatMul or Gemm)
   * @param codes signed codes in the {@code out x in} view
   * @param scales per output channel
   * @return bytes of the tensors added
   */
  public long writeDynamicMatMul(LinearLayer layer, byte[] codes, float[] scales) {
    int out = (int) layer.outFeatures();
    int in = (int) layer.inFeatures();
    if (codes.length != (long) out * in || scales.length != out) {
      throw new IllegalArgumentException("codes/scales do not match " + layer);
    }
    Node node = layer.node();
    String w = layer.weight();
    byte[] kn = new byte[codes.length];
    for (int o = 0; o < out; o++) {
      for (int i = 0; i < in; i++) {
        kn[i * out + o] = codes[o * in + i];
      }
    }
    Tensor wq =
        Tensor.of(
            fresh(w + "_quantized"), DataType.INT8, new long[] {in, out}, ByteBuffer.wrap(kn));
    Tensor ws = Tensor.ofFloats(fresh(w + "_scale"), new long[] {out}, scales);
    wq = wq.withQuant(new QuantParams(ws, null, 1, 0));
    addInitializer(wq);
    addInitializer(ws);
    // A half-precision layer: DynamicQuantizeLinear reads f32, so the input is widened first and
    // the f32 result narrowed back to the layer's type.
    DataType own = floatType(w);
    List<String> xq =
        dynamicQuantizer(
            own == DataType.FLOAT ? node.input(0) : widened(node.input(0), node), node);
    String base = node.name().isEmpty() ? layer.output() : node.name();
    String sMul = fresh(base + "_scales_mul");
    String mmOut = fresh(base + "_int32");
    String cast = fresh(base + "_int32_cast");
    String y =
        layer.kind() == Kind.GEMM && !node.input(2).isEmpty()
            ? fresh(base + "_mul")
            : node.output(0);
    String narrowed = y;
    if (own != DataType.FLOAT) {
      y = fresh(base + "_f32");
    }
    List<Node> add = new ArrayList<>();
    add.add(Node.of(fresh(base + "_scales"), "Mul", List.of(xq.get(1), ws.name()), List.of(sMul)));
    add.add(
        Node.of(
            fresh(base + "_MatMulInteger"),
            "MatMulInteger",
            List.of(xq.get(0), wq.name(), xq.get(2)),
            List.of(mmOut)));
    add.add(
        Node.of(fresh(base + "_Cast"), "Cast", List.of(mmOut), List.of(cast))
            .put(Attribute.of("to", (long) DataType.FLOAT.onnxCode())));
    add.add(Node.of(fresh(base + "_output_scale"), "Mul", List.of(cast, sMul), List.of(y)));
    if (own != DataType.FLOAT) {
      add.add(
          Node.of(fresh(base + "_narrow"), "Cast", List.of(y), List.of(narrowed))
              .put(Attribute.of("to", (long) own.onnxCode())));
      y = narrowed;
    }
    if (!y.equals(node.output(0))) {
      add.add(
          Node.of(
              fresh(base + "_bias"), "Add", List.of(y, node.input(2)), List.of(node.output(0))));
    }
    List<Node> nodes = graph.nodes();
    int at = indexOfIdentity(nodes, node);
    nodes.remove(at);
    nodes.addAll(at, add);
    replaced.add(w);
    return wq.byteSize() + ws.byteSize();
  }

  /**
   * Stores an embedding table read by {@code gather} ({@code Gather(table, ids)}, axis 0) as int8
   * rows with one f32 scale per row, dequantizing only the gathered rows at run time (not the whole
   * table):
   *
   * <pre>
   *   Gather(table_q INT8 [V, D], ids) -> Cast(to = FLOAT) -> Mul(., Gather(scales f32 [V, 1], ids))
   * </pre>
   *
   * The Mul produces the Gather's original output.
   *
   * @param codes signed codes {@code [V, D]} row-major; held by the model, not copied (the caller
   *     must not change them afterwards)
   * @param scales one per row
   * @return bytes of the tensors added (0 when the table was already written for another Gather)
   */
  public long writeGatherDequantized(Node gather, byte[] codes, float[] scales) {
    String table = gather.input(0);
    List<String> done = gathered.get(table);
    long bytes = 0;
    if (done == null) {
      long rows = scales.length;
      long dim = codes.length / Math.max(1, scales.length);
      Tensor q =
          Tensor.of(
              fresh(table + "_quantized"),
              DataType.INT8,
              new long[] {rows, dim},
              ByteBuffer.wrap(codes)); // not copied (see @param codes)
      Tensor s = Tensor.ofFloats(fresh(table + "_row_scale"), new long[] {rows, 1}, scales);
      q = q.withQuant(new QuantParams(s, null, 0, 0));
      addInitializer(q);
      addInitializer(s);
      done = List.of(q.name(), s.name());
      gathered.put(table, done);
      bytes = q.byteSize() + s.byteSize();
    }
    String base = gather.name().isEmpty() ? gather.output(0) : gather.name();
    String rowsQ = fresh(base + "_quantized_rows");
    String rowsF = fresh(base + "_rows_cast");
    String rowScale = fresh(base + "_row_scales");
    Node gq =
        Node.of(
            fresh(base + "_quantized"),
            "Gather",
            List.of(done.get(0), gather.input(1)),
            List.of(rowsQ));
    gq.put(Attribute.of("axis", 0L));
    Node gs =
        Node.of(
            fresh(base + "_scales"),
            "Gather",
            List.of(done.get(1), gather.input(1)),
            List.of(rowScale));
    gs.put(Attribute.of("axis", 0L));
    Node cast =
        Node.of(fresh(base + "_cast"), "Cast", List.of(rowsQ), List.of(rowsF))
            .put(Attribute.of("to", (long) DataType.FLOAT.onnxCode()));
    Node mul =
        Node.of(
            fresh(base + "_dequantize"),
            "Mul",
            List.of(rowsF, rowScale),
            List.of(gather.output(0)));
    List<Node> nodes = graph.nodes();
    int at = indexOfIdentity(nodes, gather);
    nodes.remove(at);
    nodes.addAll(at, List.of(gq, gs, cast, mul));
    replaced.add(table);
    return bytes;
  }

  /**
   * Stores an embedding table read by {@code gather} ({@code Gather(table, ids)}, axis 0) as 4-bit
   * codes in blocks along each row, read by ONNX Runtime's {@code
   * com.microsoft::GatherBlockQuantized} (one kernel gathers the rows and dequantizes them):
   *
   * <pre>
   *   GatherBlockQuantized(table_q UINT8 [V, D/2], ids, scales f32 [V, D/blockSize])
   *       bits = 4, block_size = blockSize, gather_axis = 0, quantize_axis = 1
   * </pre>
   *
   * Each byte holds two codes, the lower column in the low nibble (MatMulNBits' convention); with
   * no zero-point input the kernel subtracts 8, so a value is {@code (nibble - 8) * scale}.
   *
   * @param packed {@code [V, D/2]} row-major, held by the model (not copied)
   * @param scales {@code [V, D/blockSize]} row-major
   * @param blockSize a power of two {@code >= 16} dividing {@code D}
   * @return bytes of the tensors added (0 when the table was already written for another Gather)
   */
  public long writeGatherBlockQuantized4(
      Node gather, byte[] packed, float[] scales, long rows, long dim, int blockSize) {
    String table = gather.input(0);
    List<String> done = gathered.get(table);
    long bytes = 0;
    if (done == null) {
      Tensor q =
          Tensor.of(
              fresh(table + "_q4"),
              DataType.UINT8,
              new long[] {rows, dim / 2},
              ByteBuffer.wrap(packed)); // not copied (see @param packed)
      Tensor s =
          Tensor.ofFloats(
              fresh(table + "_block_scale"), new long[] {rows, dim / blockSize}, scales);
      addInitializer(q);
      addInitializer(s);
      done = List.of(q.name(), s.name());
      gathered.put(table, done);
      bytes = q.byteSize() + s.byteSize();
    }
    String base = gather.name().isEmpty() ? gather.output(0) : gather.name();
    Node g =
        Node.of(
            fresh(base + "_block_quantized"),
            "GatherBlockQuantized",
            List.of(done.get(0), gather.input(1), done.get(1)),
            List.of(gather.output(0)));
    g.setDomain(MS_DOMAIN);
    g.put(Attribute.of("block_size", (long) blockSize));
    g.put(Attribute.of("gather_axis", 0L));
    g.put(Attribute.of("quantize_axis", 1L));
    List<Node> nodes = graph.nodes();
    int at = indexOfIdentity(nodes, gather);
    nodes.set(at, g);
    model.opsetImports().putIfAbsent(MS_DOMAIN, 1L);
    replaced.add(table);
    return bytes;
  }

  private int firstIndex(List<Node> consumers) {
    int at = Integer.MAX_VALUE;
    for (Node c : consumers) {
      at = Math.min(at, indexOfIdentity(graph.nodes(), c));
    }
    return at;
  }

  private static int indexOfIdentity(List<Node> nodes, Node n) {
    for (int i = 0; i < nodes.size(); i++) {
      if (nodes.get(i) == n) {
        return i;
      }
    }
    throw new IllegalArgumentException("node not in the graph: " + n);
  }

  /**
   * Removes the original weights that nothing reads any more (initializers, their graph-input
   * entries in older models, and {@code Constant} nodes).
   */
  public void finish() {
    editor.rescan(); // the writer also moves and rewires nodes in the node list directly
    editor.removeUnread(replaced);
    replaced.clear();
  }

  private void addInitializer(Tensor t) {
    graph.putInitializer(t);
    if (model.irVersion() < 4) {
      // IR 3 and older require every initializer to be a graph input as well.
      List<ValueInfo.Dim> dims = new ArrayList<>();
      for (long d : t.shape()) {
        dims.add(ValueInfo.Dim.of(d));
      }
      graph.inputs().add(ValueInfo.tensor(t.name(), t.dtype(), dims));
    }
  }

  private static long[] shape(long n) {
    return new long[] {n};
  }

  /** {@code base}, or {@code base_N} when that name is taken; reserves the name. */
  private String fresh(String base) {
    return editor.freshName(base);
  }
}
