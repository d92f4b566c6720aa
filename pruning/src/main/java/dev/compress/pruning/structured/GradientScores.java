package dev.compress.pruning.structured;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.exec.Device;
import dev.compress.api.graph.GraphEditor;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.tensor.Tensor;
import dev.compress.training.GradientRecording;
import dev.compress.training.Parameter;
import dev.compress.training.ParameterSelection;
import dev.compress.training.TensorNd;
import dev.compress.training.TrainableFactory;
import dev.compress.training.TrainableModel;
import dev.compress.training.loss.Losses;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Gradient-based unit importance through unit masks (Kwon et al. 2022, "A Fast Post-Training
 * Pruning Framework for Transformers", section 4.1; Molchanov et al. 2019 for the first-order
 * Taylor score): a copy of the model gets a mask {@code m} (all ones) multiplying every sink's
 * input channels, the masks are the only trainable parameters of the training module's {@link
 * TrainableModel}, and per calibration example the gradient {@code g_u = dL/dm_u} is the sum of the
 * mask gradients over the unit's channels and every sink of its group (the same mask multiplies the
 * unit's every path). {@code fisher = sum_examples g_u^2}; {@code taylor = |sum_examples g_u|}, the
 * first-order change of the loss when the unit is removed ({@code m_u: 1 -> 0}).
 *
 * <p>The loss: with {@code labels} in the calibration batches, the cross-entropy of the first graph
 * output (Kwon et al.'s task loss). Without labels the model's own predictive distribution is used
 * (the "true" Fisher): the output {@code f} is taken as the mean of a unit Gaussian, a target is
 * drawn {@code y = f + eps} (on real tokens only when the output is {@code [batch, tokens, ...]}
 * and the batch has an attention mask), and {@code L = ||y - f||^2 / 2}, whose gradient is {@code
 * -eps . df}. (A distillation loss against the unpruned model itself would be zero, with zero
 * gradient, at {@code m = 1}.) A unit whose outgoing weights are all zero gets exactly 0.
 */
final class GradientScores {
  /** The batch key of class labels (the distill pass's). */
  static final String LABELS = "labels";

  private GradientScores() {}

  /** One sink's mask: the initializer and, per mask entry, the unit it belongs to. */
  private record Mask(String name, int group, int[] unitOf) {}

  /**
   * Per group (in order), the unit scores.
   *
   * @param fisher true: {@code sum g^2}; false: {@code |sum g|}
   */
  static List<double[]> of(
      ModelGraph model, List<DependencyGroup> groups, CalibrationSet cal, boolean fisher, long seed)
      throws CompressionException {
    ModelGraph copy = model.copy();
    GraphEditor ed = GraphEditor.of(copy.graph());
    IdentityHashMap<Node, Node> nodes = new IdentityHashMap<>();
    for (int k = 0; k < model.graph().nodes().size(); k++) {
      nodes.put(model.graph().nodes().get(k), copy.graph().nodes().get(k));
    }
    List<Mask> masks = new ArrayList<>();
    for (int gi = 0; gi < groups.size(); gi++) {
      DependencyGroup g = groups.get(gi);
      for (ChannelTrace.Sink s : g.sinks()) {
        masks.add(insertMask(ed, nodes.get(s.layer().node()), s, g, gi));
      }
    }
    ed.rescan();
    List<String> names = masks.stream().map(Mask::name).toList();
    double[][] sum = new double[groups.size()][];
    for (int gi = 0; gi < groups.size(); gi++) {
      sum[gi] = new double[(int) groups.get(gi).units()];
    }
    SplittableRandom rnd = new SplittableRandom(seed);
    try (TrainableModel tm =
        TrainableFactory.installedDefault()
            .create(copy, ParameterSelection.initializers(names), Device.CPU)) {
      Map<String, Parameter> byName = new LinkedHashMap<>();
      tm.parameters().forEach(p -> byName.put(p.name(), p));
      String out = tm.outputNames().get(0);
      for (Map<String, Tensor> batch : cal.batches()) {
        boolean labelled = batch.containsKey(LABELS);
        int n = (int) batch.get(tm.inputNames().get(0)).dim(0);
        for (int e = 0; e < n; e++) {
          tm.zeroGradients();
          try (NDManager nd = tm.newManager()) {
            Map<String, NDArray> in = new LinkedHashMap<>();
            for (String i : tm.inputNames()) {
              Tensor t = batch.get(i);
              if (t == null) {
                throw new ConfigException(
                    "calibration batches lack the model input '"
                        + i
                        + "' (they hold "
                        + batch.keySet()
                        + ")");
              }
              in.put(i, TensorNd.toNd(row(t, e), nd));
            }
            try (GradientRecording rec = tm.recordGradients()) {
              NDArray y = tm.forward(nd, in).get(out);
              NDArray loss;
              if (labelled) {
                loss = Losses.crossEntropy(y, TensorNd.toNd(row(batch.get(LABELS), e), nd));
              } else {
                float[] eps = new float[(int) y.size()];
                boolean[] real = realTokens(y, batch.get("attention_mask"), e);
                int per = eps.length / real.length;
                for (int k = 0; k < eps.length; k++) {
                  eps[k] = real[k / per] ? (float) gaussian(rnd) : 0f;
                }
                // d/df of ||f + eps - f||^2 / 2 with the target held fixed: -eps
                loss = y.mul(nd.create(eps, y.getShape())).sum().neg();
              }
              rec.backward(loss);
            }
            double[][] g = new double[groups.size()][];
            for (int gi = 0; gi < groups.size(); gi++) {
              g[gi] = new double[sum[gi].length];
            }
            for (Mask m : masks) {
              float[] grad = byName.get(m.name()).gradient(nd).toFloatArray();
              for (int k = 0; k < grad.length; k++) {
                g[m.group()][m.unitOf()[k]] += grad[k];
              }
            }
            for (int gi = 0; gi < groups.size(); gi++) {
              for (int u = 0; u < sum[gi].length; u++) {
                sum[gi][u] += fisher ? g[gi][u] * g[gi][u] : g[gi][u];
              }
            }
          }
        }
      }
    }
    List<double[]> scores = new ArrayList<>();
    for (double[] s : sum) {
      scores.add(fisher ? s : Arrays.stream(s).map(Math::abs).toArray());
    }
    return scores;
  }

  /**
   * Puts {@code Mul(input, mask)} before {@code sink}: the mask is {@code [in]} on the last axis of
   * a MatMul/Gemm input, {@code [C, 1, ...]} on a Conv's channels.
   */
  private static Mask insertMask(
      GraphEditor ed, Node sink, ChannelTrace.Sink s, DependencyGroup g, int gi) {
    LinearLayer l = s.layer();
    int channels = (int) (g.units() * s.unitSize());
    long[] shape;
    if (l.kind() == LinearLayer.Kind.CONV) {
      shape = new long[l.weightShape().length - 1];
      Arrays.fill(shape, 1);
      shape[0] = channels;
    } else {
      shape = new long[] {channels};
    }
    float[] ones = new float[channels];
    Arrays.fill(ones, 1f);
    String name = ed.freshName("unit_mask/" + l.name());
    ed.putInitializer(Tensor.ofFloats(name, shape, ones));
    String masked = ed.freshName(l.name() + "/masked_input");
    Node mul =
        Node.of(
            ed.freshName(l.name() + "/UnitMask"),
            "Mul",
            List.of(sink.input(0), name),
            List.of(masked));
    ed.insertBefore(sink, mul);
    ed.setInput(sink, 0, masked);
    int[] unitOf = new int[channels];
    for (int k = 0; k < channels; k++) {
      unitOf[k] = (int) (k / s.unitSize());
    }
    return new Mask(name, gi, unitOf);
  }

  /** Row {@code e} of {@code t} along axis 0, keeping the axis. */
  private static Tensor row(Tensor t, int e) {
    long[] shape = t.shape();
    int per = (int) (t.elementCount() / shape[0]);
    shape[0] = 1;
    return switch (t.dtype()) {
      case INT64 ->
          Tensor.ofLongs(
              t.name(), shape, Arrays.copyOfRange(t.toLongArray(), e * per, (e + 1) * per));
      case INT32 ->
          Tensor.ofInts(
              t.name(),
              shape,
              Arrays.stream(Arrays.copyOfRange(t.toLongArray(), e * per, (e + 1) * per))
                  .mapToInt(x -> (int) x)
                  .toArray());
      default ->
          Tensor.ofFloats(
              t.name(), shape, Arrays.copyOfRange(t.toFloatArray(), e * per, (e + 1) * per));
    };
  }

  /**
   * Which positions of the output's second axis are real tokens: for an output {@code [1, T, ...]}
   * and an attention mask {@code [b, T]}, row {@code e} of the mask; otherwise one position, real.
   */
  private static boolean[] realTokens(NDArray y, Tensor mask, int e) {
    long[] s = y.getShape().getShape();
    if (mask == null || s.length < 3 || mask.rank() != 2 || mask.dim(1) != s[1]) {
      return new boolean[] {true};
    }
    long[] m = row(mask, e).toLongArray();
    boolean[] r = new boolean[m.length];
    for (int t = 0; t < m.length; t++) {
      r[t] = m[t] != 0;
    }
    return r;
  }

  private static double gaussian(SplittableRandom r) {
    double u = 1 - r.nextDouble();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.nextDouble());
  }
}
