package dev.compress.quantization.smoothquant;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.graph.FloatPrecision;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.GraphEditor;
import dev.compress.api.graph.GraphIndex;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.layers.ChannelScaling;
import dev.compress.api.layers.ChannelScaling.NormConstants;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.layers.LinearLayer.Kind;
import dev.compress.api.layers.LinearLayers;
import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.pipeline.PassValidation;
import dev.compress.api.tensor.Tensor;
import dev.compress.quantization.format.WeightMatrix;
import dev.compress.quantization.observer.ActivationGranularity;
import dev.compress.quantization.observer.MinMaxObserver;
import dev.compress.quantization.observer.Observer;
import dev.compress.quantization.observer.Range;
import dev.compress.quantization.ptq.ActivationCalibrator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * SmoothQuant (Xiao et al. 2023, "SmoothQuant: Accurate and Efficient Post-Training Quantization
 * for Large Language Models"): activation outliers live in a few input channels, so per-tensor
 * 8-bit activation quantization wastes its range on them; a per-channel scale {@code s} moves the
 * difficulty into the weights, which quantize per output channel:
 *
 * <pre>
 *   s_j = max|X_j|^alpha / max|W_j|^(1 - alpha)
 *   Y = (X diag(s)^-1) (diag(s) W)
 * </pre>
 *
 * with {@code max|X_j|} over calibration tokens (padding masked) and {@code max|W_j|} over every
 * output channel of every linear layer that reads the same input (q, k and v together). {@code X /
 * s} is folded into the normalization producing X (gamma and beta divided by s) and {@code s} into
 * the weight columns (input features) of each consumer, so nothing is added to the graph in a
 * pre-LN model. A channel with no activation or no weight keeps {@code s = 1}.
 *
 * <p>Mappings: automatic, every normalization (a {@code LayerNormalization}-family node, or a
 * decomposed layer norm before canonicalization) whose output feeds linear layers directly, or
 * manual ({@code mappings}). In a post-LN model (BERT) the norm output is also the residual: then
 * {@code Mul(X / s, s)} is inserted for the other consumers ({@code compensate}, default) so the
 * function is unchanged, at the cost of one elementwise product per norm.
 *
 * <p>Everything is checked before the model changes (norm parameters of shape {@code [K]}, f32
 * MatMul/Gemm weights, calibration data); scales come from one calibration pass over the float
 * model on the DJL executor.
 */
public final class SmoothQuantPass implements Pass<SmoothQuantConfig>, PassValidation {
  /** Smallest scale used, so no channel is blown up by a near-zero activation. */
  public static final float MIN_SCALE = 1e-5f;

  private final SmoothQuantConfig config;

  /** A pass for a validated config. */
  public SmoothQuantPass(SmoothQuantConfig config) {
    this.config = config;
  }

  @Override
  public SmoothQuantConfig config() {
    return config;
  }

  /** How this pass names what channel scaling writes (the names its outputs always had). */
  private static final ChannelScaling.Style STYLE =
      new ChannelScaling.Style(
          "_smoothed",
          ChannelScaling.Rewrite.COPY,
          "_smoothquant_scale",
          "_unsmoothed",
          "_smoothquant_restore",
          true);

  /** One norm and the linear layers reading its output. */
  record Group(Node norm, String output, List<LinearLayer> layers, NormConstants params) {}

  /**
   * The groups to scale, the groups skipped (with the reason) and every problem, before anything
   * changes; {@link #validate} and {@link #apply} share it.
   */
  private record Planned(List<Group> kept, List<PassReport.Skip> skips, List<String> problems) {}

  /**
   * The checks {@link #apply} makes before calibration: the norm/layer groups found (or mapped),
   * their gamma/beta and weights, and no bf16 weight. {@code selected} is what the runner's
   * selection picks; the pass groups by norm over the same selection.
   */
  @Override
  public List<String> validate(ModelGraph model, List<LinearLayer> selected) {
    try {
      return plan(model.graph()).problems();
    } catch (ConfigException e) {
      return e.problems();
    }
  }

  private Planned plan(Graph graph) throws ConfigException {
    List<LinearLayer> all = LinearLayers.of(graph);
    List<String> problems = new ArrayList<>();
    List<PassReport.Skip> skips = new ArrayList<>();
    List<Group> groups =
        config.mappings().isEmpty()
            ? automatic(graph, all, problems)
            : manual(graph, all, problems);
    GraphIndex consumers = GraphIndex.of(graph);
    Set<String> outputs = new HashSet<>();
    graph.outputs().forEach(v -> outputs.add(v.name()));
    List<Group> kept = new ArrayList<>();
    for (Group g : groups) {
      int before = problems.size();
      String where = "norm '" + LinearLayers.nameOf(g.norm()) + "': ";
      if (outputs.contains(g.output())) {
        problems.add(where + "its output " + g.output() + " is a graph output");
      }
      checkParams(graph, g, where, problems);
      for (LinearLayer l : g.layers()) {
        Optional<Tensor> w = graph.constant(l.weight());
        if (l.kind() == Kind.CONV) {
          problems.add(where + "feeds Conv '" + l.name() + "', which is not supported");
        } else if (w.isEmpty() || !WeightMatrix.FLOAT_TYPES.contains(w.get().dtype())) {
          problems.add(where + "layer '" + l.name() + "' has no constant f32, f16 or bf16 weight");
        } else if (l.nameSynthesized() && l == g.layers().get(0)) {
          problems.add(where + "layer '" + l.name() + "' has no node name to capture by");
        }
      }
      if (problems.size() > before) {
        continue;
      }
      List<Node> others = ChannelScaling.otherReaders(consumers, g.output(), g.layers());
      if (!config.compensate() && !others.isEmpty()) {
        skips.add(
            new PassReport.Skip(
                LinearLayers.nameOf(g.norm()),
                "its output also feeds "
                    + others.stream().map(LinearLayers::nameOf).toList()
                    + " and compensate is false"));
        continue;
      }
      kept.add(g);
    }
    FloatPrecision.bfloat16Problem(
            SmoothQuantProvider.TYPE + " calibrates activation maxima",
            graph,
            groups.stream().flatMap(g -> g.layers().stream()).map(LinearLayer::weight).toList())
        .ifPresent(problems::add);
    return new Planned(kept, skips, problems);
  }

  @Override
  public PassReport apply(ModelGraph model, PassContext context) throws CompressionException {
    long start = System.nanoTime();
    Graph graph = model.graph();
    Planned planned = plan(graph);
    List<Group> kept = planned.kept();
    List<PassReport.Skip> skips = planned.skips();
    List<String> problems = planned.problems();
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    if (!kept.isEmpty() && context.calibration().isEmpty()) {
      throw new ConfigException(
          SmoothQuantProvider.TYPE
              + " scales by calibrated activation maxima and needs calibration data: add a"
              + " calibration block to the pipeline");
    }
    Map<String, String> capture = new LinkedHashMap<>();
    for (Group g : kept) {
      capture.put(g.output(), g.layers().get(0).name());
    }
    Map<String, Observer> observed =
        kept.isEmpty()
            ? Map.of()
            : ActivationCalibrator.observe(
                context,
                model,
                context.calibration().orElseThrow(),
                capture,
                () -> new MinMaxObserver(ActivationGranularity.PER_CHANNEL, 0),
                SmoothQuantProvider.TYPE);

    // Compute every scale before changing anything.
    List<float[]> scales = new ArrayList<>();
    Map<String, Double> metrics = new LinkedHashMap<>();
    PassReport.LayerMetrics layerMetrics = new PassReport.LayerMetrics();
    for (Group g : kept) {
      List<Range> ranges = observed.get(g.output()).ranges();
      int k = ranges.size();
      float[] wmax = new float[k];
      for (LinearLayer l : g.layers()) {
        if (l.inFeatures() != k) {
          throw new ConfigException(
              "layer '" + l.name() + "' has " + l.inFeatures() + " input features, its input " + k);
        }
        float[] m = weight(graph, l);
        int out = (int) l.outFeatures();
        for (int o = 0; o < out; o++) {
          for (int j = 0; j < k; j++) {
            wmax[j] = Math.max(wmax[j], Math.abs(m[o * k + j]));
          }
        }
      }
      float[] s = new float[k];
      double xBefore = 0;
      double xAfter = 0;
      for (int j = 0; j < k; j++) {
        double x = ranges.get(j).absMax();
        double sj =
            x > 0 && wmax[j] > 0
                ? Math.pow(x, config.alpha()) / Math.pow(wmax[j], 1 - config.alpha())
                : 1;
        s[j] = (float) Math.max(MIN_SCALE, sj);
        if (!Float.isFinite(s[j])) {
          s[j] = 1;
        }
        xBefore = Math.max(xBefore, x);
        xAfter = Math.max(xAfter, x / s[j]);
      }
      scales.add(s);
      String name = LinearLayers.nameOf(g.norm());
      layerMetrics.put(name, "input_absmax_before", xBefore);
      layerMetrics.put(name, "input_absmax_after", xAfter);
    }

    GraphEditor ed = GraphEditor.of(graph);
    List<String> touched = new ArrayList<>();
    long bytes = 0;
    int compensated = 0;
    for (int i = 0; i < kept.size(); i++) {
      Group g = kept.get(i);
      float[] s = scales.get(i);
      for (LinearLayer l : g.layers()) {
        bytes += graph.constant(l.weight()).orElseThrow().byteSize();
        touched.add(l.name());
      }
      ChannelScaling.Result r =
          ChannelScaling.apply(ed, g.output(), g.params().fold(), g.layers(), s, STYLE);
      if (r.compensation().isPresent()) {
        compensated++;
      }
    }
    // Any Constant node nothing reads, as this pass always removed.
    Set<String> constants = new LinkedHashSet<>();
    for (Node n : graph.nodes()) {
      if (n.opType().equals("Constant") && n.domain().isEmpty()) {
        constants.add(n.output(0));
      }
    }
    ed.removeUnread(constants);
    metrics.put("norms_smoothed", (double) kept.size());
    metrics.put("restoring_muls", (double) compensated);
    return new PassReport(
        SmoothQuantProvider.TYPE,
        touched,
        skips,
        bytes,
        bytes,
        metrics,
        layerMetrics.asMap(),
        List.of(),
        Duration.ofNanos(System.nanoTime() - start));
  }

  private static float[] weight(Graph graph, LinearLayer l) {
    return WeightMatrix.outByIn(
        graph.constant(l.weight()).orElseThrow(),
        l.layout(),
        (int) l.outFeatures(),
        (int) l.inFeatures());
  }

  private void checkParams(Graph graph, Group g, String where, List<String> problems) {
    NormConstants p = g.params();
    if (p == null) {
      problems.add(where + "its gamma/beta could not be found");
      return;
    }
    long k = g.layers().get(0).inFeatures();
    for (Object[] e : new Object[][] {{p.scale(), "gamma"}, {p.bias().orElse(null), "beta"}}) {
      ChannelScaling.Input in = (ChannelScaling.Input) e[0];
      if (in == null) {
        continue;
      }
      Optional<Tensor> t = graph.constant(in.node().input(in.index()));
      if (t.isEmpty()
          || !WeightMatrix.FLOAT_TYPES.contains(t.get().dtype())
          || t.get().rank() != 1
          || t.get().dim(0) != k) {
        problems.add(
            where
                + e[1]
                + " must be a constant float ["
                + k
                + "], found "
                + t.map(x -> x.dtype() + " " + x.shapeString()).orElse("no constant"));
      }
    }
  }

  private List<Group> automatic(Graph graph, List<LinearLayer> all, List<String> problems)
      throws ConfigException {
    Set<String> selected = new HashSet<>();
    config.selection().select(all).forEach(l -> selected.add(l.name()));
    Map<String, List<LinearLayer>> byInput = new LinkedHashMap<>();
    for (LinearLayer l : all) {
      if (l.norm().isPresent()) {
        byInput.computeIfAbsent(l.input(), x -> new ArrayList<>()).add(l);
      }
    }
    List<Group> out = new ArrayList<>();
    for (Map.Entry<String, List<LinearLayer>> e : byInput.entrySet()) {
      if (e.getValue().stream().noneMatch(l -> selected.contains(l.name()))) {
        continue;
      }
      String normName = e.getValue().get(0).norm().orElseThrow().node();
      Node norm = nodeNamed(graph, normName);
      out.add(
          new Group(
              norm,
              e.getKey(),
              e.getValue(),
              ChannelScaling.normConstants(graph, norm).orElse(null)));
    }
    return out;
  }

  private List<Group> manual(Graph graph, List<LinearLayer> all, List<String> problems) {
    List<Group> out = new ArrayList<>();
    for (Map.Entry<String, List<String>> e : config.mappings().entrySet()) {
      String key = "mappings." + e.getKey();
      Node norm = nodeNamed(graph, e.getKey());
      if (norm == null) {
        problems.add(key + ": no node of that name");
        continue;
      }
      String output = norm.output(0);
      List<LinearLayer> layers = new ArrayList<>();
      for (String name : e.getValue()) {
        Optional<LinearLayer> l = LinearLayers.find(all, name);
        if (l.isEmpty()) {
          problems.add(key + ": '" + name + "' is not a linear layer");
        } else if (!l.get().input().equals(output)) {
          problems.add(key + ": layer '" + name + "' does not read the norm's output " + output);
        } else {
          layers.add(l.get());
        }
      }
      for (LinearLayer l : all) {
        if (l.input().equals(output) && !e.getValue().contains(l.name())) {
          problems.add(
              key
                  + ": layer '"
                  + l.name()
                  + "' also reads the norm's output; list it too (its weight must be scaled)");
        }
      }
      NormConstants p = ChannelScaling.normConstants(graph, norm).orElse(null);
      if (p == null) {
        problems.add(
            key + ": node " + norm.qualifiedOpType() + " is not a supported normalization");
        continue;
      }
      if (!layers.isEmpty()) {
        out.add(new Group(norm, output, layers, p));
      }
    }
    return out;
  }

  private static Node nodeNamed(Graph graph, String name) {
    for (Node n : graph.nodes()) {
      if (LinearLayers.nameOf(n).equals(name)) {
        return n;
      }
    }
    return null;
  }
}
