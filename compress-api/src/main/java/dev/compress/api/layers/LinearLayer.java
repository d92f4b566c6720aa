package dev.compress.api.layers;

import dev.compress.api.graph.Node;
import java.util.List;
import java.util.Optional;

/**
 * One linear layer of a graph: a MatMul, Gemm or Conv node whose weight is a constant, with the
 * context passes need (bias, input, what produces the input, which layers share it, which
 * normalization precedes it).
 *
 * <p><b>Feature convention.</b> {@link #outFeatures} and {@link #inFeatures} always follow
 * PyTorch's {@code out x in} view of the weight, whatever its storage layout: a MatMul weight is
 * stored {@code [in, out]} ({@link WeightLayout#IN_OUT}), a Gemm weight {@code [out, in]} when
 * {@code transB=1} ({@link WeightLayout#OUT_IN}) or {@code [in, out]} otherwise, a Conv weight
 * {@code [out, in/groups, k1, k2, ...]} ({@link WeightLayout#OUT_IN}). For a Conv, {@code
 * inFeatures} is the column count of that 2-D view, {@code in/groups * k1 * k2 * ...} (PyTorch's
 * {@code weight.flatten(1)}), which is what a per-output-channel or per-column algorithm iterates
 * over; {@link #groups} gives the group count.
 *
 * @param name the layer name: the node's name, or a synthesized {@code OpType@output} name when the
 *     node has none (see {@link #nameSynthesized})
 * @param nameSynthesized true when the node had no name and {@link #name} was synthesized
 * @param kind the operator
 * @param node the graph node (mutable; owned by the graph)
 * @param weight the value name of the weight: an initializer, or the output of a Constant node
 * @param weightFromConstantNode true when the weight is held in a Constant node, not an initializer
 * @param weightShape the weight's shape as stored (use {@link #weightShape()}, which copies)
 * @param layout how the weight is stored
 * @param inFeatures input features in the {@code out x in} view (see above)
 * @param outFeatures output features in the {@code out x in} view
 * @param groups the Conv {@code group} attribute; 1 for MatMul and Gemm
 * @param bias the bias value name: Gemm's C, Conv's B, or for a MatMul the constant 1-D operand of
 *     the Add that alone consumes its output
 * @param biasNode for a MatMul, the name of that Add node (synthesized like {@link #name} when it
 *     has none); absent otherwise
 * @param input the activation input value name
 * @param inputProducer the name of the node producing {@link #input}, absent for a graph input
 * @param output the node's own output value name (before a MatMul's bias Add)
 * @param sharedInput names of the other linear layers that read the same input (e.g. q, k, v)
 * @param norm the normalization that directly produces {@link #input}, if any
 */
public record LinearLayer(
    String name,
    boolean nameSynthesized,
    Kind kind,
    Node node,
    String weight,
    boolean weightFromConstantNode,
    long[] weightShape,
    WeightLayout layout,
    long inFeatures,
    long outFeatures,
    long groups,
    Optional<String> bias,
    Optional<String> biasNode,
    String input,
    Optional<String> inputProducer,
    String output,
    List<String> sharedInput,
    Optional<Normalization> norm) {

  /** The operators a linear layer can be. */
  public enum Kind {
    /** ONNX MatMul with a constant second operand {@code [in, out]}. */
    MATMUL,
    /** ONNX Gemm with a constant B. */
    GEMM,
    /** ONNX Conv with a constant weight. */
    CONV
  }

  /**
   * The form of a linear operator's weight. {@link LinearLayers#of} lists the {@link #FLOAT} ones
   * as {@link LinearLayer}s (what a compression pass can still change); {@link
   * LinearLayers#compressed} lists the others, which an earlier pass wrote.
   */
  public enum WeightForm {
    /** A constant float weight read directly. */
    FLOAT,
    /** A constant integer or float8 weight behind a {@code DequantizeLinear} (weight-only). */
    DEQUANTIZE_LINEAR,
    /** ONNX Runtime's {@code MatMulNBits}: packed 2..8-bit blocks with scales. */
    MATMUL_NBITS,
    /**
     * Weight and activation both quantized: a {@code DequantizeLinear} weight read together with a
     * {@code DequantizeLinear} activation (static QDQ), or an integer operator ({@code
     * MatMulInteger}, {@code QLinearMatMul}, ...).
     */
    W8A8
  }

  /**
   * A linear operator whose weight an earlier pass compressed.
   *
   * @param name the node name (synthesized like {@link LinearLayer#name} when it has none)
   * @param node the node
   * @param form its weight form, never {@link WeightForm#FLOAT}
   */
  public record Compressed(String name, Node node, WeightForm form) {}

  /** How a weight is laid out in storage. */
  public enum WeightLayout {
    /** {@code [in, out]}: MatMul, Gemm with {@code transB=0}. */
    IN_OUT,
    /** {@code [out, in]}: Gemm with {@code transB=1}; Conv's {@code [out, in/groups, k...]}. */
    OUT_IN
  }

  /**
   * A normalization feeding a linear layer directly.
   *
   * @param node the node name: the normalization node, or for a decomposed layer norm the node
   *     producing its output (its beta Add, or gamma Mul when it has no beta)
   * @param opType that node's qualified operator type
   * @param decomposed true for a layer norm still decomposed into primitive operators (before
   *     {@link dev.compress.api.canonical.Canonicalizer canonicalization}); false for a single
   *     normalization node
   */
  public record Normalization(String node, String opType, boolean decomposed) {}

  /** Copies the arrays and lists. */
  public LinearLayer {
    weightShape = weightShape.clone();
    sharedInput = List.copyOf(sharedInput);
  }

  /** A copy of the weight's stored shape. */
  @Override
  public long[] weightShape() {
    return weightShape.clone();
  }

  /** Number of weight elements. */
  public long weightElements() {
    long n = 1;
    for (long d : weightShape) {
      n *= d;
    }
    return n;
  }

  /** Equality by value, comparing the weight shape element-wise and the node by identity. */
  @Override
  public boolean equals(Object o) {
    return o instanceof LinearLayer l
        && name.equals(l.name)
        && nameSynthesized == l.nameSynthesized
        && kind == l.kind
        && node == l.node
        && weight.equals(l.weight)
        && weightFromConstantNode == l.weightFromConstantNode
        && java.util.Arrays.equals(weightShape, l.weightShape)
        && layout == l.layout
        && inFeatures == l.inFeatures
        && outFeatures == l.outFeatures
        && groups == l.groups
        && bias.equals(l.bias)
        && biasNode.equals(l.biasNode)
        && input.equals(l.input)
        && inputProducer.equals(l.inputProducer)
        && output.equals(l.output)
        && sharedInput.equals(l.sharedInput)
        && norm.equals(l.norm);
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hash(
        name, kind, weight, java.util.Arrays.hashCode(weightShape), input);
  }

  @Override
  public String toString() {
    return kind
        + " '"
        + name
        + "' "
        + weight
        + java.util.Arrays.toString(weightShape)
        + " "
        + layout
        + " out="
        + outFeatures
        + " in="
        + inFeatures
        + bias.map(b -> " bias=" + b).orElse("")
        + norm.map(n -> " norm=" + n.node()).orElse("");
  }
}
