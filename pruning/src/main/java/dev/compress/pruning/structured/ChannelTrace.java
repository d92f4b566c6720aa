package dev.compress.pruning.structured;

import dev.compress.api.graph.GraphIndex;
import dev.compress.api.graph.Node;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.tensor.Tensor;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The forward closure of one root's output channels: every value the channels flow into (with
 * {@link ChannelAxis where they sit}), the linear layers that read them (their input rows go with
 * the units), the constants sliced with them (biases), the reshape shape entries that carry the
 * unit count (head counts), and the operands the rules tie to the same channels. {@link
 * DependencyGroups} joins the traces that meet into groups (Fang et al. 2023, "DepGraph: Towards
 * Any Structural Pruning": per-op rules, group = closure).
 *
 * <p>The rules, per operator of the default domain (the value traced is input {@code i}):
 *
 * <ul>
 *   <li>element-wise unary ops and activations, {@code Cast}, {@code Identity}: pass through;
 *   <li>{@code Add}/{@code Sub}/{@code Mul}/{@code Div}/{@code Pow}/{@code Max}/{@code Min}/{@code
 *       Where}: pass through; a constant operand that is a scalar or broadcasts along the axis is
 *       left alone, one whose axis has the full width is sliced (a bias); a computed operand that
 *       does not provably broadcast (size-1 axis) is tied: another root must carry the same units;
 *   <li>{@code MatMul}/{@code Gemm} with a constant weight: the units are its input rows (a sink);
 *       {@code MatMul} of two computed values: a batch axis passes through and ties the other
 *       operand, a row/column axis passes through, a contracted axis ties the other operand;
 *   <li>{@code Concat}/{@code Split} along another axis: pass through (Concat ties its other
 *       inputs); along the unit axis: refused (no index mapping yet);
 *   <li>{@code Transpose}: the axis moves with the permutation; {@code Reshape}: the units follow
 *       when the reshape splits or merges the trailing axes, the shape entry that holds the unit
 *       count is recorded for editing (a split into heads forces units of a head's width);
 *   <li>{@code Softmax} over another axis: pass through; {@code Shape}/{@code Size}: computed at
 *       run time from the pruned value, nothing to change;
 *   <li>{@code Conv} roots: the output channels (axis 1) with the bias; a grouped root is refused
 *       (a depthwise one follows its input's group); {@code BatchNormalization}: its scale, bias,
 *       mean and variance are sliced; {@code Clip} and pooling ({@code MaxPool}, {@code
 *       AveragePool}, {@code LpPool}, the global ones) pass the channels through; {@code Flatten}
 *       at axis 1: a channel becomes its {@code H * W} consecutive features (sized by the reading
 *       linear layer); a {@code Conv} reader with group 1 is a sink (weight axis 1), a depthwise
 *       one passes the channels on with its filters and group count, other groups are refused;
 *   <li>{@code LayerNormalization}, {@code Reduce*} over the axis (the decomposed layer norm), the
 *       fused norms of {@code com.microsoft}, {@code Softmax} over the axis: refused, the units are
 *       coupled through the statistics (a hidden-size cut);
 *   <li>anything else: the trace cannot follow (the message names the node and op).
 * </ul>
 */
final class ChannelTrace {
  private static final Set<String> UNARY =
      Set.of(
          "Relu",
          "Gelu",
          "Erf",
          "Tanh",
          "Sigmoid",
          "Sqrt",
          "Exp",
          "Log",
          "Neg",
          "Abs",
          "Cast",
          "Identity",
          "Softsign",
          "Softplus",
          "Elu",
          "LeakyRelu",
          "HardSigmoid",
          "HardSwish",
          "Selu",
          "Celu",
          "Mish",
          "Reciprocal",
          "Floor",
          "Ceil",
          "Round",
          "Sin",
          "Cos",
          "Sign",
          "ThresholdedRelu",
          "Dropout");
  private static final Set<String> BINARY =
      Set.of("Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "PRelu", "Where");
  private static final Set<String> NORMS =
      Set.of(
          "LayerNormalization",
          "SkipLayerNormalization",
          "SimplifiedLayerNormalization",
          "SkipSimplifiedLayerNormalization",
          "RMSNormalization",
          "GroupNormalization",
          "InstanceNormalization",
          "LpNormalization",
          "MeanVarianceNormalization");
  private static final Set<String> REDUCE =
      Set.of(
          "ReduceMean",
          "ReduceSum",
          "ReduceMax",
          "ReduceMin",
          "ReduceProd",
          "ReduceL1",
          "ReduceL2",
          "ReduceSumSquare",
          "ReduceLogSum",
          "ReduceLogSumExp");

  private static final Set<String> POOLS =
      Set.of(
          "MaxPool", "AveragePool", "LpPool", "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool");

  /**
   * A linear layer whose input rows are the units.
   *
   * @param unitSize input channels (rows of the {@code out x in} view; a Conv's weight axis 1) per
   *     unit: after a {@code Flatten} of a feature map, a channel's {@code H * W} features
   * @param perChannel weight elements per input channel (the out features, times a Conv's kernel)
   */
  record Sink(LinearLayer layer, long unitSize, long perChannel) {}

  /**
   * Input {@code input} of {@code node}, a constant, sliced along {@code axis} with the units.
   *
   * @param perUnit elements one unit holds in it
   */
  record ConstSlice(Node node, int input, String value, int axis, long unitSize, long perUnit) {}

  /**
   * A depthwise Conv the units pass through ({@code group} = input channels, one filter of {@code
   * multiplier} output channels per input channel): its weight rows and bias go with the units, its
   * {@code group} becomes the kept channel count.
   *
   * @param unitSize its output channels per unit ({@code multiplier} times the input's)
   * @param inUnitSize its input channels per unit
   * @param perChannel weight elements per output channel (the kernel size)
   */
  record Through(LinearLayer layer, long unitSize, long inUnitSize, long perChannel) {}

  /**
   * Entry {@code index} of the constant {@code value} (a Reshape's shape, or a constant piece of
   * the Concat that builds it) holds {@code units * unitSize}: it becomes {@code kept * unitSize}.
   */
  record ShapeEdit(Node reader, String value, int index, long unitSize) {}

  /** {@code value} must carry the same units on {@code axis} (another root's trace). */
  record Tie(Node node, String value, ChannelAxis axis) {}

  final LinearLayer root;
  final long units;
  final long unitSize;
  final Map<String, ChannelAxis> values = new LinkedHashMap<>();
  final List<Sink> sinks = new ArrayList<>();
  final List<ConstSlice> consts = new ArrayList<>();
  final List<ShapeEdit> shapes = new ArrayList<>();
  final List<Tie> ties = new ArrayList<>();
  final List<Through> through = new ArrayList<>();

  private final GraphIndex ix;
  private final Map<Node, LinearLayer> linear;
  private final long opset;
  private final Deque<String> work = new ArrayDeque<>();

  private ChannelTrace(
      GraphIndex ix, Map<Node, LinearLayer> linear, long opset, LinearLayer root, long unitSize) {
    this.ix = ix;
    this.linear = linear;
    this.opset = opset;
    this.root = root;
    this.unitSize = unitSize;
    this.units = root.outFeatures() / unitSize;
  }

  /**
   * The trace of {@code root}'s output channels, restarted with coarser units as reshapes demand.
   *
   * @param linear every linear layer of the graph by node (identity map)
   * @throws TraceRefusal when the rules refuse the cut or cannot follow it
   */
  static ChannelTrace of(
      GraphIndex ix, IdentityHashMap<Node, LinearLayer> linear, long opset, LinearLayer root)
      throws TraceRefusal {
    long unit = 1;
    for (int attempt = 0; attempt < 8; attempt++) {
      if (root.outFeatures() % unit != 0) {
        break;
      }
      ChannelTrace t = new ChannelTrace(ix, linear, opset, root, unit);
      try {
        t.run();
        return t;
      } catch (TraceRefusal r) {
        if (r.kind != TraceRefusal.Kind.REGROUP) {
          throw r;
        }
        unit *= r.factor;
      }
    }
    throw new TraceRefusal(
        TraceRefusal.Kind.UNFOLLOWABLE,
        "layer '" + root.name() + "': no unit size divides its " + root.outFeatures() + " outputs");
  }

  private void run() throws TraceRefusal {
    String start = root.output();
    ChannelAxis first = ChannelAxis.last(unitSize);
    if (root.kind() == LinearLayer.Kind.CONV) {
      if (root.groups() > 1) {
        boolean depthwise = root.weightShape()[1] == 1;
        throw new TraceRefusal(
            depthwise ? TraceRefusal.Kind.FOLLOWS : TraceRefusal.Kind.UNFOLLOWABLE,
            depthwise
                ? "layer '"
                    + root.name()
                    + "': a depthwise Conv's channels are its input's (pruned with the group of"
                    + " the layer producing them)"
                : "layer '"
                    + root.name()
                    + "': cannot remove output channels of node '"
                    + root.node().name()
                    + "' (Conv) with group "
                    + root.groups()
                    + ": the groups would become unequal (only depthwise group Convs are followed)");
      }
      first = featureMap(root.weightShape().length, unitSize);
    }
    if (root.kind() != LinearLayer.Kind.MATMUL && root.bias().isPresent()) {
      consts.add(new ConstSlice(root.node(), 2, root.bias().get(), -1, unitSize, unitSize));
    }
    mark(start, first, root.node());
    while (!work.isEmpty()) {
      String v = work.removeFirst();
      ChannelAxis a = values.get(v);
      if (ix.isGraphOutput(v)) {
        throw new TraceRefusal(
            TraceRefusal.Kind.OUTPUT,
            "layer '" + root.name() + "': its channels reach the graph output '" + v + "'");
      }
      if (ix.isObservable(v)) {
        throw new TraceRefusal(
            TraceRefusal.Kind.UNFOLLOWABLE,
            "layer '" + root.name() + "': value '" + v + "' is read by a subgraph");
      }
      for (Node n : ix.readers(v)) {
        for (int i = 0; i < n.inputs().size(); i++) {
          if (n.input(i).equals(v)) {
            forward(n, i, a);
          }
        }
      }
    }
  }

  private void mark(String value, ChannelAxis a, Node at) throws TraceRefusal {
    ChannelAxis old = values.get(value);
    if (old != null) {
      if (!old.compatible(a)) {
        throw unfollowable(at, "value '" + value + "' reached as " + old + " and as " + a);
      }
      return;
    }
    values.put(value, a);
    work.addLast(value);
  }

  private TraceRefusal unfollowable(Node n, String why) {
    return new TraceRefusal(
        TraceRefusal.Kind.UNFOLLOWABLE,
        "layer '"
            + root.name()
            + "': cannot follow its channels through node '"
            + n.name()
            + "' ("
            + n.qualifiedOpType()
            + "): "
            + why);
  }

  private TraceRefusal coupled(Node n, String why) {
    return new TraceRefusal(
        TraceRefusal.Kind.COUPLED,
        "layer '"
            + root.name()
            + "': hidden-size cut refused at node '"
            + n.name()
            + "' ("
            + n.qualifiedOpType()
            + "): "
            + why);
  }

  private void forward(Node n, int i, ChannelAxis a) throws TraceRefusal {
    String op = n.opType();
    boolean std = n.domain().isEmpty() || n.domain().equals("ai.onnx");
    if (!std) {
      if (NORMS.contains(op)) {
        throw coupled(n, "the norm's statistics couple every channel of the hidden width");
      }
      throw unfollowable(n, "no dependency rule for this operator");
    }
    if (UNARY.contains(op)) {
      if (op.equals("Dropout") && i != 0) {
        throw unfollowable(n, "the channels feed a Dropout parameter");
      }
      mark(n.output(0), a, n);
    } else if (BINARY.contains(op)) {
      binary(n, i, a);
    } else if (op.equals("Clip")) {
      if (i != 0) {
        throw unfollowable(n, "the channels feed a Clip bound");
      }
      mark(n.output(0), a, n);
    } else if (op.equals("BatchNormalization")) {
      batchNorm(n, i, a);
    } else if (POOLS.contains(op)) {
      pool(n, i, a);
    } else if (op.equals("Flatten")) {
      flatten(n, a);
    } else if (op.equals("Conv")) {
      conv(n, i, a);
    } else if (op.equals("Shape") || op.equals("Size")) {
      // computed from the pruned value at run time
    } else if (NORMS.contains(op)) {
      long axis = n.intAttr("axis", op.equals("LayerNormalization") ? -1 : 1);
      if (op.equals("LayerNormalization") && axis < 0 && a.axis() < axis) {
        mark(n.output(0), a, n); // normalized axes are all after the channel axis
      } else {
        throw coupled(n, "the norm's statistics couple every channel of the hidden width");
      }
    } else if (REDUCE.contains(op)) {
      reduce(n, a);
    } else if (op.equals("Softmax") || op.equals("LogSoftmax") || op.equals("Hardmax")) {
      long axis = n.intAttr("axis", opset >= 13 ? -1 : 1);
      int neg = negative(axis, a, n);
      if (neg == a.axis() || (opset < 13 && neg <= a.axis())) {
        throw coupled(n, "it normalizes over the pruned axis");
      }
      mark(n.output(0), a, n);
    } else if (op.equals("MatMul") || op.equals("Gemm")) {
      matmul(n, i, a);
    } else if (op.equals("Concat") || op.equals("Split")) {
      concatOrSplit(n, i, a);
    } else if (op.equals("Transpose")) {
      transpose(n, a);
    } else if (op.equals("Reshape")) {
      if (i != 0) {
        throw unfollowable(n, "the channels feed a shape input");
      }
      ReshapeRule.apply(this, ix, n, a);
    } else {
      throw unfollowable(n, "no dependency rule for this operator");
    }
  }

  /** A non-negative axis attribute as a negative one, using the known rank. */
  private int negative(long axis, ChannelAxis a, Node n) throws TraceRefusal {
    if (axis < 0) {
      return (int) axis;
    }
    if (a.rank() <= 0) {
      throw unfollowable(n, "axis " + axis + " on a value of unknown rank");
    }
    return (int) (axis - a.rank());
  }

  private void reduce(Node n, ChannelAxis a) throws TraceRefusal {
    long[] axes = n.intsAttr("axes", null);
    if (axes == null && n.inputs().size() > 1 && !n.input(1).isEmpty()) {
      Optional<Tensor> t = ix.constant(n.input(1));
      if (t.isEmpty()) {
        throw unfollowable(n, "reduction axes are computed");
      }
      axes = t.get().toLongArray();
    }
    if (axes == null || axes.length == 0) {
      throw coupled(n, "it reduces over every axis, the channels included");
    }
    for (long ax : axes) {
      if (negative(ax, a, n) == a.axis()) {
        throw coupled(n, "a layer norm's statistics couple every channel of the hidden width");
      }
    }
    if (n.intAttr("keepdims", 1) != 1) {
      throw unfollowable(n, "a reduction that drops axes");
    }
    mark(n.output(0), a, n);
  }

  private void binary(Node n, int i, ChannelAxis a) throws TraceRefusal {
    if (n.opType().equals("Where") && i == 0) {
      throw unfollowable(n, "the channels feed a Where condition");
    }
    for (int j = 0; j < n.inputs().size(); j++) {
      String o = n.input(j);
      if (j == i || o.isEmpty() || o.equals(n.input(i)) || (n.opType().equals("Where") && j == 0)) {
        continue;
      }
      Optional<Tensor> c = ix.constant(o);
      if (c.isPresent()) {
        Tensor t = c.get();
        int at = t.rank() + a.axis();
        long width = units * a.unitSize();
        if (t.elementCount() == 1 || at < 0 || t.dim(at) == 1) {
          continue;
        }
        if (a.unitSize() > 0 && t.dim(at) == width) {
          long perUnit = t.elementCount() / t.dim(at) * a.unitSize();
          consts.add(new ConstSlice(n, j, o, a.axis(), a.unitSize(), perUnit));
          continue;
        }
        throw unfollowable(n, "constant '" + o + "' has " + t.dim(at) + " along the pruned axis");
      }
      if (!Broadcast.isOne(ix, o, a.axis())) {
        ties.add(new Tie(n, o, a));
      }
    }
    mark(n.output(0), a, n);
  }

  private void matmul(Node n, int i, ChannelAxis a) throws TraceRefusal {
    boolean gemm = n.opType().equals("Gemm");
    int other = i == 0 ? 1 : 0;
    if (i > 1) {
      throw unfollowable(n, "the channels feed a Gemm bias");
    }
    Optional<Tensor> w = ix.constant(n.input(other));
    if (w.isPresent()) {
      LinearLayer l = linear.get(n);
      boolean transA = gemm && n.intAttr("transA", 0) != 0;
      if (i != 0 || l == null || transA) {
        throw unfollowable(n, "the channels are the constant side's contracted axis");
      }
      if (a.axis() != -1) {
        throw unfollowable(n, "the channels are on axis " + a.axis() + ", not the input features");
      }
      long us = a.unitSize();
      if (us < 0) { // a flattened feature map of unknown size: H * W from the reader
        if (l.inFeatures() % units != 0) {
          throw unfollowable(
              n, "it reads " + l.inFeatures() + " features, not a multiple of " + units + " units");
        }
        us = l.inFeatures() / units;
      }
      if (l.inFeatures() != units * us) {
        throw unfollowable(n, "it reads " + l.inFeatures() + " features, not " + units * us);
      }
      sinks.add(new Sink(l, us, l.outFeatures()));
      return;
    }
    if (gemm) {
      throw unfollowable(n, "Gemm of two computed values");
    }
    long[] after = a.after();
    if (i == 0) {
      if (a.axis() == -1) { // contracted with the other operand's rows
        ties.add(new Tie(n, n.input(1), new ChannelAxis(-2, a.unitSize(), new long[] {-1}, 0)));
        return;
      }
      if (a.axis() == -2) {
        mark(n.output(0), new ChannelAxis(-2, a.unitSize(), new long[] {-1}, a.rank()), n);
        return;
      }
      after[after.length - 1] = -1;
    } else {
      if (a.axis() == -1) {
        mark(n.output(0), a, n);
        return;
      }
      if (a.axis() == -2) {
        ties.add(new Tie(n, n.input(0), ChannelAxis.last(a.unitSize())));
        return;
      }
      after[after.length - 2] = -1;
    }
    if (!Broadcast.isOne(ix, n.input(other), a.axis())) {
      ties.add(new Tie(n, n.input(other), a));
    }
    mark(n.output(0), new ChannelAxis(a.axis(), a.unitSize(), after, a.rank()), n);
  }

  /**
   * Concat/Split along another axis: the units pass through to every output (Concat ties its other
   * inputs to the same units). Along the unit axis they would need an index map into the joined or
   * cut axis, which the rules do not do yet: refused, naming the node.
   */
  private void concatOrSplit(Node n, int i, ChannelAxis a) throws TraceRefusal {
    boolean split = n.opType().equals("Split");
    if (split && i != 0) {
      throw unfollowable(n, "the channels feed the split sizes");
    }
    long axis = n.intAttr("axis", split ? 0 : Long.MIN_VALUE);
    if (axis == Long.MIN_VALUE) {
      throw unfollowable(n, "a Concat without axis");
    }
    if (negative(axis, a, n) == a.axis()) {
      throw unfollowable(
          n,
          (split ? "a Split" : "a Concat")
              + " along the pruned axis (index mapping not supported)");
    }
    if (split) {
      for (String o : n.outputs()) {
        if (!o.isEmpty()) {
          mark(o, a, n);
        }
      }
      return;
    }
    for (int j = 0; j < n.inputs().size(); j++) {
      String o = n.input(j);
      if (j != i && !o.isEmpty() && !o.equals(n.input(i))) {
        ties.add(new Tie(n, o, a));
      }
    }
    mark(n.output(0), a, n);
  }

  /** A Conv output (or any N, C, spatial... value): channels on axis 1, spatial sizes unknown. */
  private static ChannelAxis featureMap(int rank, long unitSize) {
    long[] after = new long[rank - 2];
    java.util.Arrays.fill(after, -1);
    return new ChannelAxis(1 - rank, unitSize, after, rank);
  }

  /** True when the units sit on axis 1 (the channels) of a value of known rank. */
  private static boolean onChannels(ChannelAxis a) {
    return a.rank() >= 3 && a.axis() == 1 - a.rank();
  }

  private void requireChannels(Node n, ChannelAxis a) throws TraceRefusal {
    if (!onChannels(a)) {
      throw unfollowable(n, "the units are not on the channel axis (axis 1) of an N, C, ... value");
    }
  }

  /**
   * BatchNormalization (inference form): scale, bias, mean and variance are sliced with the units.
   */
  private void batchNorm(Node n, int i, ChannelAxis a) throws TraceRefusal {
    if (i != 0) {
      throw unfollowable(n, "the channels feed a BatchNormalization parameter");
    }
    requireChannels(n, a);
    for (int k = 1; k < n.outputs().size(); k++) {
      if (!n.output(k).isEmpty()) {
        throw unfollowable(n, "training-mode outputs (running mean and variance)");
      }
    }
    long width = units * a.unitSize();
    for (int j = 1; j <= 4 && j < n.inputs().size(); j++) {
      String o = n.input(j);
      Optional<Tensor> c = ix.constant(o);
      if (c.isEmpty() || c.get().rank() != 1 || c.get().dim(0) != width) {
        throw unfollowable(
            n, "its parameter '" + o + "' is not a constant of the " + width + " channels");
      }
      consts.add(new ConstSlice(n, j, o, -1, a.unitSize(), a.unitSize()));
    }
    mark(n.output(0), a, n);
  }

  /** Pooling works per channel: the channels pass through (a global pool makes the map 1 x 1). */
  private void pool(Node n, int i, ChannelAxis a) throws TraceRefusal {
    requireChannels(n, a);
    if (n.outputs().size() > 1 && !n.output(1).isEmpty()) {
      throw unfollowable(n, "its Indices output is read");
    }
    ChannelAxis out = featureMap(a.rank(), a.unitSize());
    if (n.opType().startsWith("Global")) {
      long[] ones = new long[a.rank() - 2];
      java.util.Arrays.fill(ones, 1);
      out = new ChannelAxis(a.axis(), a.unitSize(), ones, a.rank());
    }
    mark(n.output(0), out, n);
  }

  /**
   * Flatten at axis 1 of an N, C, spatial... value: unit {@code u}'s channels become {@code
   * unitSize * H * W} consecutive features of the last axis; when the spatial sizes are unknown the
   * reading linear layer decides them ({@code in / units}).
   */
  private void flatten(Node n, ChannelAxis a) throws TraceRefusal {
    requireChannels(n, a);
    long axis = n.intAttr("axis", 1);
    if (axis != 1) {
      throw unfollowable(n, "a Flatten at axis " + axis + " (only axis 1 keeps channels whole)");
    }
    long p = a.afterProduct();
    mark(n.output(0), ChannelAxis.last(p < 0 ? -1 : a.unitSize() * p), n);
  }

  /**
   * A Conv reading the channels: with group 1 its weight's input channels (axis 1) are the units (a
   * sink); a depthwise Conv ({@code group} = channels, weight axis 1 of size 1) passes them on with
   * its filters; other group counts are refused.
   */
  private void conv(Node n, int i, ChannelAxis a) throws TraceRefusal {
    LinearLayer l = linear.get(n);
    if (i != 0 || l == null) {
      throw unfollowable(n, "the channels feed a Conv weight or bias");
    }
    requireChannels(n, a);
    long[] w = l.weightShape();
    long kernel = 1;
    for (int k = 2; k < w.length; k++) {
      kernel *= w[k];
    }
    long channels = units * a.unitSize();
    if (l.groups() == 1) {
      if (w[1] != channels) {
        throw unfollowable(n, "it reads " + w[1] + " channels, not " + channels);
      }
      sinks.add(new Sink(l, a.unitSize(), w[0] * kernel));
      return;
    }
    if (l.groups() != channels || w[1] != 1) {
      throw unfollowable(
          n,
          "group "
              + l.groups()
              + " over "
              + channels
              + " channels is neither 1 nor depthwise (group = channels)");
    }
    long mult = w[0] / channels;
    through.add(new Through(l, a.unitSize() * mult, a.unitSize(), kernel));
    if (l.bias().isPresent()) {
      consts.add(
          new ConstSlice(n, 2, l.bias().get(), -1, a.unitSize() * mult, a.unitSize() * mult));
    }
    mark(n.output(0), featureMap(a.rank(), a.unitSize() * mult), n);
  }

  private void transpose(Node n, ChannelAxis a) throws TraceRefusal {
    long[] perm = n.intsAttr("perm", null);
    if (perm == null) {
      throw unfollowable(n, "a Transpose without perm (rank unknown)");
    }
    int r = perm.length;
    int pos = r + a.axis();
    if (pos < 0 || (a.rank() > 0 && a.rank() != r)) {
      throw unfollowable(n, "rank " + r + " does not fit " + a);
    }
    long[] inAfter = a.after();
    int j = -1;
    for (int k = 0; k < r; k++) {
      if (perm[k] == pos) {
        j = k;
      }
    }
    long[] after = new long[r - j - 1];
    for (int k = j + 1; k < r; k++) {
      int src = (int) perm[k];
      after[k - j - 1] = src > pos && src - pos - 1 < inAfter.length ? inAfter[src - pos - 1] : -1;
    }
    mark(n.output(0), new ChannelAxis(j - r, a.unitSize(), after, r), n);
  }

  /** Records a shape edit and the Reshape's output axis ({@link ReshapeRule}). */
  void reshaped(Node n, ShapeEdit edit, ChannelAxis out) throws TraceRefusal {
    if (edit != null) {
      shapes.add(edit);
    }
    mark(n.output(0), out, n);
  }

  TraceRefusal unfollowableAt(Node n, String why) {
    return unfollowable(n, why);
  }
}
