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
 * Taylor score): a copy of the model gets a mask {@code m} (all ones, one row per example of a
 * batch) multiplying every sink's input channels, the masks are the only trainable parameters of
 * the training module's {@link TrainableModel}, and per calibration example the gradient {@code g_u
 * = dL/dm_u} is the sum of the mask gradients over the unit's channels and every sink of its group
 * (the same mask multiplies the unit's every path). The loss is summed over the examples of a
 * batch, so one backward gives each example's gradient in its mask row; a smaller batch is padded
 * with copies of its first example, which weigh nothing. {@code fisher = sum_examples g_u^2};
 * {@code taylor = |sum_examples g_u|}, the first-order change of the loss when the unit is removed
 * ({@code m_u: 1 -> 0}).
 *
 * <p>The loss: with a {@code teacher}, the distill pass's loss against its first output (soft
 * targets on logits, the pooled-embedding MSE on hidden states), summed over the examples; with
 * {@code labels} in the calibration batches, the cross-entropy of the first graph output (Kwon et
 * al.'s task loss). Without labels the model's own predictive distribution is used (the "true"
 * Fisher): the output {@code f} is taken as the mean of a unit Gaussian, a target is drawn {@code y
 * = f + eps} (on real tokens only when the output is {@code [batch, tokens, ...]} and the batch has
 * an attention mask), and {@code L = ||y - f||^2 / 2}, whose gradient is {@code -eps . df}. (A
 * distillation loss against the unpruned model itself would be zero, with zero gradient, at {@code
 * m = 1}.) A unit whose outgoing weights are all zero gets exactly 0.
 */
final class GradientScores {
  /** The batch key of class labels (the distill pass's). */
  static final String LABELS = "labels";

  private GradientScores() {}

  /** One sink's mask {@code [B, ..., C]}: the initializer and, per channel, its unit. */
  private record Mask(String name, int group, int[] unitOf) {}

  /**
   * Per group (in order), the unit scores.
   *
   * @param fisher true: {@code sum g^2}; false: {@code |sum g|}
   */
  static List<double[]> of(
      ModelGraph model, List<DependencyGroup> groups, CalibrationSet cal, boolean fisher, long seed)
      throws CompressionException {
    return of(model, groups, cal, fisher, seed, null);
  }

  /**
   * As {@link #of(ModelGraph, List, CalibrationSet, boolean, long)}, with the loss against {@code
   * teacher}'s first output when it is given.
   */
  static List<double[]> of(
      ModelGraph model,
      List<DependencyGroup> groups,
      CalibrationSet cal,
      boolean fisher,
      long seed,
      ModelGraph teacher)
      throws CompressionException {
    TrainableFactory factory = TrainableFactory.installedDefault();
    int rows = 0;
    List<String> inputs;
    Map<String, Integer> rank = new LinkedHashMap<>();
    try (TrainableModel probe = factory.create(model, ParameterSelection.none(), Device.CPU);
        NDManager nd = probe.newManager()) {
      inputs = probe.inputNames();
      for (Map<String, Tensor> b : cal.batches()) {
        rows = Math.max(rows, (int) input(b, inputs.get(0)).dim(0));
      }
      java.util.Set<String> values = new java.util.LinkedHashSet<>();
      groups.forEach(g -> g.sinks().forEach(s -> values.add(s.layer().input())));
      Map<String, NDArray> in = new LinkedHashMap<>();
      for (String i : inputs) {
        in.put(i, TensorNd.toNd(row(input(cal.batches().get(0), i), 0), nd));
      }
      Map<String, NDArray> got = probe.forward(nd, in, values);
      values.forEach(v -> rank.put(v, got.get(v).getShape().dimension()));
    }
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
        int r = rank.get(s.layer().input());
        masks.add(insertMask(ed, nodes.get(s.layer().node()), s, g, gi, rows, r));
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
            factory.create(copy, ParameterSelection.initializers(names), Device.CPU);
        TrainableModel tt =
            teacher == null
                ? null
                : factory.create(teacher, ParameterSelection.none(), Device.CPU)) {
      Map<String, Parameter> byName = new LinkedHashMap<>();
      tm.parameters().forEach(p -> byName.put(p.name(), p));
      String out = tm.outputNames().get(0);
      for (Map<String, Tensor> batch : cal.batches()) {
        boolean labelled = batch.containsKey(LABELS);
        int n = (int) input(batch, inputs.get(0)).dim(0);
        tm.zeroGradients();
        try (NDManager nd = tm.newManager()) {
          Map<String, NDArray> in = new LinkedHashMap<>();
          for (String i : tm.inputNames()) {
            in.put(i, TensorNd.toNd(pad(input(batch, i), rows), nd));
          }
          float[] real = new float[rows];
          Arrays.fill(real, 0, n, 1f);
          try (GradientRecording rec = tm.recordGradients()) {
            NDArray y = tm.forward(nd, in).get(out);
            NDArray loss;
            if (tt != null) {
              Map<String, NDArray> tin = new LinkedHashMap<>();
              for (String i : tt.inputNames()) {
                tin.put(i, TensorNd.toNd(pad(input(batch, i), rows), nd));
              }
              NDArray t = tt.forward(nd, tin).get(tt.outputNames().get(0)).stopGradient();
              loss = distill(nd, y, t, in.get("attention_mask")).mul((float) rows);
            } else if (labelled) {
              // per-example cross-entropy, summed over the real rows (padding rows weigh 0)
              NDArray labels = TensorNd.toNd(pad(batch.get(LABELS), rows), nd);
              int last = y.getShape().dimension() - 1;
              NDArray nll =
                  y.logSoftmax(last)
                      .gather(
                          labels
                              .toType(ai.djl.ndarray.types.DataType.INT64, false)
                              .expandDims(last),
                          last)
                      .neg();
              long perRow = nll.size() / rows;
              loss = nll.reshape(rows, perRow).mean(new int[] {1}).mul(nd.create(real)).sum();
            } else {
              float[] eps = new float[(int) y.size()];
              int perRow = eps.length / rows;
              Tensor mask = batch.get("attention_mask");
              for (int b = 0; b < n; b++) {
                boolean[] tok = realTokens(y, mask, b);
                int per = perRow / tok.length;
                for (int k = 0; k < perRow; k++) {
                  eps[b * perRow + k] = tok[k / per] ? (float) gaussian(rnd) : 0f;
                }
              }
              // d/df of ||f + eps - f||^2 / 2 with the target held fixed: -eps
              loss = y.mul(nd.create(eps, y.getShape())).sum().neg();
            }
            rec.backward(loss);
          }
          double[][][] g = new double[n][groups.size()][];
          for (int b = 0; b < n; b++) {
            for (int gi = 0; gi < groups.size(); gi++) {
              g[b][gi] = new double[sum[gi].length];
            }
          }
          for (Mask m : masks) {
            float[] grad = byName.get(m.name()).gradient(nd).toFloatArray();
            int c = m.unitOf().length;
            for (int b = 0; b < n; b++) {
              for (int k = 0; k < c; k++) {
                g[b][m.group()][m.unitOf()[k]] += grad[b * c + k];
              }
            }
          }
          for (int b = 0; b < n; b++) {
            for (int gi = 0; gi < groups.size(); gi++) {
              for (int u = 0; u < sum[gi].length; u++) {
                double v = g[b][gi][u];
                sum[gi][u] += fisher ? v * v : v;
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
   * The distill pass's loss for one output kind, averaged over the batch: soft targets (T = 2) on
   * logits {@code [batch, classes]}, the MSE of the mean-pooled embeddings on hidden states {@code
   * [batch, tokens, dim]} (over the attention mask when the model reads one).
   */
  private static NDArray distill(NDManager nd, NDArray y, NDArray t, NDArray mask)
      throws ConfigException {
    if (!y.getShape().equals(t.getShape())) {
      throw new ConfigException(
          "teacher: its first output is "
              + t.getShape()
              + ", the model's is "
              + y.getShape()
              + "; they must have the same shape");
    }
    int rank = y.getShape().dimension();
    if (rank == 3) {
      NDArray m =
          mask != null
              ? mask
              : nd.ones(new ai.djl.ndarray.types.Shape(y.getShape().get(0), y.getShape().get(1)));
      return dev.compress.training.distill.DistillationLosses.pooledMse(y, t, m);
    }
    return dev.compress.training.distill.DistillationLosses.softTargets(y, t, null, 2f, 0f);
  }

  private static Tensor input(Map<String, Tensor> batch, String name) throws ConfigException {
    Tensor t = batch.get(name);
    if (t == null) {
      throw new ConfigException(
          "calibration batches lack the model input '"
              + name
              + "' (they hold "
              + batch.keySet()
              + ")");
    }
    return t;
  }

  /**
   * Puts {@code Mul(input, mask)} before {@code sink}, one mask row per example (so one backward
   * gives every example's gradient): {@code [B, 1..., C]} for a MatMul/Gemm input of rank {@code
   * r}, {@code [B, C, 1...]} for a Conv's.
   */
  private static Mask insertMask(
      GraphEditor ed, Node sink, ChannelTrace.Sink s, DependencyGroup g, int gi, int rows, int r) {
    LinearLayer l = s.layer();
    int channels = (int) (g.units() * s.unitSize());
    long[] shape = new long[r];
    Arrays.fill(shape, 1);
    shape[0] = rows;
    shape[l.kind() == LinearLayer.Kind.CONV ? 1 : r - 1] = channels;
    float[] ones = new float[rows * channels];
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

  /** {@code t} with {@code rows} rows along axis 0, the missing ones copies of row 0. */
  private static Tensor pad(Tensor t, int rows) {
    int n = (int) t.dim(0);
    if (n == rows) {
      return t;
    }
    long[] shape = t.shape();
    int per = (int) (t.elementCount() / n);
    shape[0] = rows;
    if (t.dtype() == dev.compress.api.tensor.DataType.FLOAT) {
      float[] v = Arrays.copyOf(t.toFloatArray(), rows * per);
      for (int b = n; b < rows; b++) {
        System.arraycopy(v, 0, v, b * per, per);
      }
      return Tensor.ofFloats(t.name(), shape, v);
    }
    long[] v = Arrays.copyOf(t.toLongArray(), rows * per);
    for (int b = n; b < rows; b++) {
      System.arraycopy(v, 0, v, b * per, per);
    }
    return t.dtype() == dev.compress.api.tensor.DataType.INT32
        ? Tensor.ofInts(t.name(), shape, Arrays.stream(v).mapToInt(x -> (int) x).toArray())
        : Tensor.ofLongs(t.name(), shape, v);
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
