package dev.compress.api.layers;

import dev.compress.api.canonical.LayerNormPattern;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.GraphEditor;
import dev.compress.api.graph.GraphIndex;
import dev.compress.api.graph.Node;
import dev.compress.api.layers.LinearLayer.Kind;
import dev.compress.api.layers.LinearLayer.WeightLayout;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Per-input-channel scaling of the linear layers that read one value {@code x}, the transform
 * SmoothQuant and AWQ share: {@code y = (x / s) (diag(s) W)} leaves every layer's output unchanged
 * while moving range from activations to weights (SmoothQuant) or protecting salient channels
 * (AWQ).
 *
 * <ol>
 *   <li>{@code 1/s} is folded into the producer of {@code x}: the 1-D scale (and bias) constants of
 *       a normalization ({@link Fold.Constants}), or the output rows and bias of a linear layer
 *       ({@link Fold.Rows}).
 *   <li>{@code s} is folded into the consumers: input column {@code j} of each layer's weight is
 *       multiplied by {@code s[j]}.
 *   <li>Every other reader of {@code x} (a residual Add, a layer that is not scaled) is given
 *       {@code Mul(x, s)} instead, inserted right after the producer, so it still sees the original
 *       value.
 * </ol>
 *
 * <p>Rewritten constants follow {@link Style#rewrite}: {@link Rewrite#COPY} always writes a new
 * constant named {@code freshName(old + suffix)} (the original is removed once nothing reads it);
 * {@link Rewrite#IN_PLACE} overwrites an initializer that only the rewritten node reads and copies
 * otherwise (copy-on-share), so a weight that another layer also reads is never changed under it.
 */
public final class ChannelScaling {
  private ChannelScaling() {}

  /** Where {@code 1/s} goes. */
  public sealed interface Fold {
    /**
     * Divides 1-D constants {@code [K]} read by nodes (a normalization's scale and bias; for a
     * decomposed layer norm, its gamma Mul and beta Add).
     *
     * @param inputs each constant as a node and the index of the input that reads it
     */
    record Constants(List<Input> inputs) implements Fold {
      public Constants {
        inputs = List.copyOf(inputs);
      }
    }

    /** Divides output row {@code o} of a linear layer's weight (and its bias) by {@code s[o]}. */
    record Rows(LinearLayer layer) implements Fold {}
  }

  /** Input {@code index} of {@code node}. */
  public record Input(Node node, int index) {}

  /**
   * The 1-D constants of a normalization that {@code 1/s} folds into.
   *
   * @param scale where its scale (gamma) enters
   * @param bias where its bias (beta) enters, when it has one
   */
  public record NormConstants(Input scale, Optional<Input> bias) {
    /** Both as a {@link Fold}, scale first. */
    public Fold.Constants fold() {
      List<Input> l = new ArrayList<>(List.of(scale));
      bias.ifPresent(l::add);
      return new Fold.Constants(l);
    }
  }

  /**
   * Where the scale and bias of {@code norm} enter: {@code LayerNormalization}, {@code
   * SimplifiedLayerNormalization} / {@code RMSNormalization} (scale only), ONNX Runtime's {@code
   * SkipLayerNormalization} (gamma 2, beta 3) and {@code SkipSimplifiedLayerNormalization} (gamma
   * 2), or the last node of a decomposed layer norm ({@link LayerNormPattern}); empty for anything
   * else. Whether the constants are f32 {@code [K]} is for the caller to check.
   */
  public static Optional<NormConstants> normConstants(Graph graph, Node norm) {
    switch (norm.opType()) {
      case "LayerNormalization":
        return Optional.of(constants(norm, 1, 2));
      case "SimplifiedLayerNormalization", "RMSNormalization":
        return Optional.of(constants(norm, 1, -1));
      case "SkipLayerNormalization":
        return Optional.of(constants(norm, 2, 3));
      case "SkipSimplifiedLayerNormalization":
        return Optional.of(constants(norm, 2, -1));
      default:
        break;
    }
    Optional<LayerNormPattern.Match> m = LayerNormPattern.matchEndingAt(graph, norm);
    if (m.isEmpty()) {
      return Optional.empty();
    }
    Input gamma = null;
    Input beta = null;
    for (Node n : m.get().nodes()) {
      for (int i = 0; i < n.inputs().size(); i++) {
        if (n.opType().equals("Mul") && n.input(i).equals(m.get().scale())) {
          gamma = new Input(n, i);
        }
        if (m.get().bias().isPresent()
            && n.opType().equals("Add")
            && n.input(i).equals(m.get().bias().get())) {
          beta = new Input(n, i);
        }
      }
    }
    return gamma == null
        ? Optional.empty()
        : Optional.of(new NormConstants(gamma, Optional.ofNullable(beta)));
  }

  private static NormConstants constants(Node norm, int scale, int bias) {
    boolean hasBias = bias >= 0 && !norm.input(bias).isEmpty();
    return new NormConstants(
        new Input(norm, scale), hasBias ? Optional.of(new Input(norm, bias)) : Optional.empty());
  }

  /** How rewritten constants are written. */
  public enum Rewrite {
    /** Always a new constant under a fresh suffixed name. */
    COPY,
    /** Overwrite an initializer read by the rewritten node alone; copy otherwise. */
    IN_PLACE
  }

  /**
   * How a pass names what the scaling writes: copies get {@code freshName(old + suffix)}; the
   * compensating {@code Mul(x, s)} reads {@code x + scaleSuffix}, writes {@code x +
   * mulOutputSuffix} and is named {@code x + mulSuffix}, or {@code <producer node name> +
   * mulSuffix} when {@code mulNamedAfterProducer}.
   */
  public record Style(
      String suffix,
      Rewrite rewrite,
      String scaleSuffix,
      String mulOutputSuffix,
      String mulSuffix,
      boolean mulNamedAfterProducer) {}

  /**
   * What {@link #apply} changed.
   *
   * @param compensation the inserted {@code Mul(x, s)}, when other nodes read {@code x}
   * @param replaced the constants that were rewritten (their originals, by name)
   */
  public record Result(Optional<Node> compensation, Set<String> replaced) {}

  /**
   * The readers of {@code x} that are not among {@code layers}' nodes: those that need the
   * compensating {@code Mul}. Distinct, in index order.
   */
  public static List<Node> otherReaders(GraphIndex index, String x, List<LinearLayer> layers) {
    Set<Node> mine = Collections.newSetFromMap(new IdentityHashMap<>());
    layers.forEach(l -> mine.add(l.node()));
    List<Node> out = new ArrayList<>();
    for (Node c : index.readers(x)) {
      if (!mine.contains(c)) {
        out.add(c);
      }
    }
    return out;
  }

  /**
   * Scales the channels of {@code x} by {@code s}: {@code 1/s} into {@code fold}, {@code s} into
   * the weights of {@code layers} (each reads {@code x} as its input and has a constant float
   * weight of {@code s.length} input features), and a compensating {@code Mul} for the other
   * readers. Originals that nothing reads afterwards are removed.
   */
  public static Result apply(
      GraphEditor ed, String x, Fold fold, List<LinearLayer> layers, float[] s, Style style) {
    Set<String> replaced = new LinkedHashSet<>();
    switch (fold) {
      case Fold.Constants c -> {
        for (Input in : c.inputs()) {
          replaced.add(in.node().input(in.index()));
          divide(ed, in.node(), in.index(), s, style);
        }
      }
      case Fold.Rows r -> {
        LinearLayer p = r.layer();
        replaced.add(p.weight());
        int out = (int) p.outFeatures();
        int in = (int) p.inFeatures();
        float[] w = ed.index().constant(p.weight()).orElseThrow().toFloatArray();
        for (int o = 0; o < out; o++) {
          for (int i = 0; i < in; i++) {
            w[storedIndex(p.layout(), out, in, o, i)] /= s[o];
          }
        }
        write(ed, p.node(), 1, w, style);
        if (p.bias().isPresent()) {
          Node holder =
              p.kind() == Kind.GEMM
                  ? p.node()
                  : ed.graph().node(p.biasNode().orElseThrow()).orElseThrow();
          int idx = holder.inputs().indexOf(p.bias().get());
          replaced.add(p.bias().get());
          divide(ed, holder, idx, s, style);
        }
      }
    }
    List<Node> others = otherReaders(ed.index(), x, layers);
    for (LinearLayer l : layers) {
      replaced.add(l.weight());
      int out = (int) l.outFeatures();
      int in = (int) l.inFeatures();
      float[] w = ed.index().constant(l.weight()).orElseThrow().toFloatArray();
      for (int o = 0; o < out; o++) {
        for (int j = 0; j < in; j++) {
          w[storedIndex(l.layout(), out, in, o, j)] *= s[j];
        }
      }
      write(ed, l.node(), 1, w, style);
    }
    Optional<Node> mul = Optional.empty();
    if (!others.isEmpty()) {
      Node producer = ed.index().producer(x).orElseThrow();
      String scale = ed.freshName(x + style.scaleSuffix());
      // In the activation's type: the layers compute in their weights' type.
      DataType own = ed.index().constant(layers.get(0).weight()).orElseThrow().dtype();
      ed.putInitializer(Tensor.ofFloats(scale, own, new long[] {s.length}, s));
      String restored = ed.freshName(x + style.mulOutputSuffix());
      String base = style.mulNamedAfterProducer() ? LinearLayers.nameOf(producer) : x;
      Node m =
          Node.of(
              ed.freshName(base + style.mulSuffix()), "Mul", List.of(x, scale), List.of(restored));
      ed.insertAfter(producer, m);
      Set<Node> rewired = Collections.newSetFromMap(new IdentityHashMap<>());
      rewired.addAll(others);
      ed.rewire(x, restored, rewired::contains);
      mul = Optional.of(m);
    }
    ed.removeUnread(replaced);
    return new Result(mul, replaced);
  }

  /** Replaces the 1-D float constant at input {@code index} of {@code node} by its values / s. */
  private static void divide(GraphEditor ed, Node node, int index, float[] s, Style style) {
    String name = node.input(index);
    float[] v = ed.index().constant(name).orElseThrow().toFloatArray();
    if (v.length != s.length) {
      throw new IllegalStateException(
          name + " has " + v.length + " values for " + s.length + " channels");
    }
    for (int j = 0; j < v.length; j++) {
      v[j] /= s[j];
    }
    write(ed, node, index, v, style);
  }

  /**
   * Writes {@code values} (the constant's shape) as what input {@code index} of {@code node} reads.
   */
  private static void write(GraphEditor ed, Node node, int index, float[] values, Style style) {
    String name = node.input(index);
    Tensor t = ed.index().constant(name).orElseThrow();
    boolean inPlace =
        style.rewrite() == Rewrite.IN_PLACE
            && ed.graph().initializers().containsKey(name)
            && ed.index().readers(name).size() == 1
            && !ed.index().isObservable(name);
    String target = inPlace ? name : ed.freshName(name + style.suffix());
    ed.putInitializer(Tensor.ofFloats(target, t.dtype(), t.shape(), values)); // in its own type
    if (!inPlace) {
      ed.setInput(node, index, target);
    }
  }

  private static int storedIndex(WeightLayout layout, int out, int in, int o, int i) {
    return layout == WeightLayout.OUT_IN ? o * in + i : i * out + o;
  }
}
