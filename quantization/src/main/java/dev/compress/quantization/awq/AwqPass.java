package dev.compress.quantization.awq;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.UnsupportedModelException;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.canonical.Canonicalizer;
import dev.compress.api.exec.Executor;
import dev.compress.api.exec.ForwardResult;
import dev.compress.api.graph.FloatPrecision;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.GraphEditor;
import dev.compress.api.graph.GraphIndex;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.OpsetCheck;
import dev.compress.api.graph.OpsetUpgrade;
import dev.compress.api.layers.ChannelScaling;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.layers.LinearLayer.Kind;
import dev.compress.api.layers.LinearLayers;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.pipeline.PassValidation;
import dev.compress.api.tensor.Tensor;
import dev.compress.calibration.activation.ActivationCapture;
import dev.compress.calibration.activation.ActivationStats;
import dev.compress.calibration.activation.TokenRows;
import dev.compress.quantization.format.MatMulNBitsLayout;
import dev.compress.quantization.format.QuantizedModelWriter;
import dev.compress.quantization.format.WeightMatrix;
import dev.compress.quantization.grid.QuantizedMatrix;
import dev.compress.quantization.rtn.ClipMethod;
import dev.compress.quantization.rtn.QuantizedLayers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Activation-aware weight quantization (Lin et al. 2023, "AWQ: Activation-aware Weight Quantization
 * for LLM Compression and Acceleration", MLSys 2024; reference {@code llm-awq}).
 *
 * <p>Steps, for the selected linear layers grouped by the input they share (q/k/v, the first FFN
 * layer, ...):
 *
 * <ol>
 *   <li>The model is {@link Canonicalizer canonicalized} (fused {@code LayerNormalization}; a model
 *       importing an opset older than 17, where ONNX defines that operator, is raised to 17 with
 *       {@link OpsetUpgrade}: report metric {@code opset_raised_to}), and each group's input {@code
 *       X} is captured on the calibration data with the DJL executor ({@link Executor#forward(Map,
 *       Set)} on the context's engine); padded tokens ({@code attention_mask = 0}) are left out of
 *       every statistic.
 *   <li>{@code s_x = mean |x|} per input channel. When the group's input can be rescaled without
 *       changing the function (below), for each {@code alpha} of the grid: {@code s =
 *       max(s_x^alpha, 1e-4)} ({@link AwqConfig#duoScaling}: divided by {@code s_w^(1-alpha) +
 *       1e-4}), {@code s /= sqrt(max(s) min(s))}, every layer of the group gets {@code W' = Q(W s)
 *       / s}, and the module is run on the captured {@code X}: for a group after a norm, the
 *       sub-graph from {@code X} to the input of the next {@code LayerNormalization} (the residual
 *       sum closing the attention block or the MLP, whose difference to the float module equals
 *       that of the block output); for a group after a linear layer, the group's layers alone. The
 *       alpha with the smallest output MSE (over real tokens) against the float module wins.
 *   <li>The scale is applied: {@code W <- W s} for the group and {@code 1/s} folded into the
 *       producer of {@code X} ({@link ChannelScaling}): the scale and bias of a {@code
 *       LayerNormalization}, RMSNorm ({@code SimplifiedLayerNormalization}, {@code
 *       RMSNormalization}) or ONNX Runtime's {@code Skip(Simplified)LayerNormalization}, or a
 *       preceding linear layer's output rows and bias. Other linear layers reading {@code X} get
 *       {@code W s} too (float); any other consumer (the residual branch of a post-norm model such
 *       as BERT) reads {@code X s} through an inserted {@code Mul} ({@link AwqConfig#residualMul}).
 *       A group with no foldable producer is not scaled (layer metric {@code awq_alpha = -1}, and
 *       an info note with the reason).
 *   <li>Clip search ({@link AwqMath#clipThresholds}) per output channel and group on {@link
 *       AwqConfig#clipTokens} tokens of the (scaled) input, skipping {@link AwqConfig#clipIgnore};
 *       then round-to-nearest on the GPTQ min-max grid and {@link QuantizedModelWriter} ({@code
 *       MatMulNBits} at 4 bits).
 * </ol>
 *
 * <p>All scales are searched on the original weights and applied afterwards, as in the reference.
 * With {@code alphaGrid = 1} and {@code clip = none} the result equals round-to-nearest exactly.
 * The executor must run the whole float model: run {@code awq} before passes that write quantized
 * operators.
 */
public final class AwqPass implements Pass<AwqConfig>, PassValidation {
  /** Bytes of captured activations held at once (groups are captured in chunks). */
  static final long CAPTURE_BUDGET = 256L << 20;

  private final AwqConfig config;

  /** A pass for a validated config. */
  public AwqPass(AwqConfig config) {
    this.config = config;
  }

  @Override
  public AwqConfig config() {
    return config;
  }

  /** The layers sharing one input. */
  private static final class Group {
    final String input;
    final List<LinearLayer> layers = new ArrayList<>();
    double[] sx;
    float[] sample; // (tokens, in) sampled real tokens of X, unscaled
    int sampleTokens;
    float[] scale; // null: not scaled
    double alpha = -1;
    double lossRatio = Double.NaN;
    String why = "";

    Group(String input) {
      this.input = input;
    }

    int in() {
      return (int) layers.get(0).inFeatures();
    }
  }

  @Override
  public List<String> validate(ModelGraph model, List<LinearLayer> selected) {
    List<String> problems = new ArrayList<>();
    for (LinearLayer l : selected) {
      check(model.graph(), l, problems);
    }
    if (config.bits() == 8 && !selected.isEmpty()) {
      QuantizedModelWriter.dequantizeLinearProblem(model, selected, "bits=4")
          .ifPresent(problems::add);
    }
    FloatPrecision.bfloat16Problem(
            "awq captures activations and scores its scales",
            model.graph(),
            selected.stream().map(LinearLayer::weight).toList())
        .ifPresent(problems::add);
    return problems;
  }

  @Override
  public List<String> compresses(List<LinearLayer> selected) {
    return selected.stream().map(LinearLayer::name).toList();
  }

  /** Already-quantized layers it selects are skipped, as {@code rtn-quantization} does. */
  @Override
  public boolean skipsCompressedLayers() {
    return true;
  }

  private void check(Graph graph, LinearLayer layer, List<String> problems) {
    String where = "layer '" + layer.name() + "': ";
    if (layer.kind() == Kind.CONV) {
      problems.add(where + "awq quantizes MatMul and Gemm layers, found a Conv");
      return;
    }
    Optional<Tensor> w = graph.constant(layer.weight());
    if (w.isEmpty() || !WeightMatrix.FLOAT_TYPES.contains(w.get().dtype())) {
      problems.add(
          where + "weight " + layer.weight() + " must be a FLOAT or FLOAT16 (f32, f16) constant");
    } else if (!graph.initializers().containsKey(layer.weight())) {
      problems.add(
          where + "weight " + layer.weight() + " must be an initializer, found a Constant");
    }
    if (config.groupSize() != 0 && layer.inFeatures() % config.groupSize() != 0) {
      problems.add(
          where
              + "groupSize "
              + config.groupSize()
              + " does not divide its "
              + layer.inFeatures()
              + " input features");
    }
    if (config.bits() == 4) {
      QuantizedModelWriter.matMulNBitsProblem(layer, blockSize((int) layer.inFeatures()))
          .ifPresent(p -> problems.add(where + p));
    }
  }

  private int blockSize(int in) {
    return config.groupSize() == 0 ? MatMulNBitsLayout.perChannelBlockSize(in) : config.groupSize();
  }

  @Override
  public PassReport apply(ModelGraph model, PassContext context) throws CompressionException {
    long start = System.nanoTime();
    CalibrationSet calibration =
        context
            .calibration()
            .orElseThrow(
                () ->
                    new ConfigException(
                        "awq needs calibration data; add a calibration block (calibration:"
                            + " {source: builtin:calibration-text})"));
    Graph graph = model.graph();
    // Validate on the model as given, before anything changes.
    QuantizedLayers.Picked picked = QuantizedLayers.select(config.selection(), graph);
    List<String> problems = validate(model, picked.layers());
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    if (calibration.batches().isEmpty()) {
      throw new ConfigException("calibration: awq needs at least one calibration batch");
    }
    String type = AwqProvider.TYPE;
    int total = picked.layers().size();
    context.progress().start(type, total);
    long opsetBefore = model.opset("").orElse(1);
    Map<String, Group> groups = searchAndFold(model, calibration, picked.layers(), context);
    long searched = System.nanoTime();
    int done = 0;
    // 4: clip, quantize, write.
    Map<String, Double> metrics = new LinkedHashMap<>();
    long opsetAfter = model.opset("").orElse(1);
    if (opsetAfter != opsetBefore) {
      metrics.put("opset_raised_to", (double) opsetAfter);
    }
    PassReport.LayerMetrics layerMetrics = new PassReport.LayerMetrics();
    List<QuantizedMatrix> quantized = new ArrayList<>();
    List<LinearLayer> layers = new ArrayList<>();
    long bytesBefore = 0;
    double sqnrSum = 0;
    int scaled = 0;
    double lossRatioSum = 0;
    for (Group g : groups.values()) {
      if (g.scale != null) {
        scaled++;
        lossRatioSum += g.lossRatio;
      }
      for (LinearLayer l : g.layers) {
        int out = (int) l.outFeatures();
        int in = (int) l.inFeatures();
        int group = config.effectiveGroupSize(in);
        Tensor wt = graph.constant(l.weight()).orElseThrow();
        float[] w = WeightMatrix.outByIn(wt, l.layout(), out, in);
        float[] target = w;
        boolean clip =
            config.clip() == ClipMethod.MSE
                && config.clipIgnore().stream().noneMatch(s -> LayerSelection.matches(s, l.name()));
        if (clip) {
          float[] x = g.sample;
          if (g.scale != null) {
            x = x.clone();
            for (int i = 0; i < x.length; i++) {
              x[i] /= g.scale[i % in];
            }
          }
          float[] t =
              AwqMath.clipThresholds(
                  w, out, in, x, g.sampleTokens, config.bits(), group, config.symmetric());
          target = AwqMath.applyClip(w, out, in, group, t);
        }
        QuantizedMatrix q;
        try {
          q = QuantizedMatrix.quantize(target, out, in, config.bits(), group, config.symmetric());
        } catch (IllegalArgumentException e) {
          throw new ConfigException(
              "layer '" + l.name() + "': weight " + l.weight() + ": " + e.getMessage());
        }
        double sqnr = Math.min(300, q.sqnrDb(w));
        layerMetrics.put(l.name(), "sqnr_db", sqnr);
        layerMetrics.put(l.name(), "awq_alpha", g.alpha);
        sqnrSum += sqnr;
        bytesBefore += wt.byteSize();
        quantized.add(q);
        layers.add(l);
        context.progress().step(type, ++done, total, l.name());
      }
    }
    long clipped = System.nanoTime();
    QuantizedModelWriter writer = new QuantizedModelWriter(model);
    long bytesAfter = 0;
    List<String> touched = new ArrayList<>();
    for (int i = 0; i < layers.size(); i++) {
      LinearLayer l = layers.get(i);
      QuantizedMatrix q = quantized.set(i, null);
      bytesAfter +=
          config.bits() == 8
              ? writer.writeDequantizeLinear(l, q)
              : writer.writeMatMulNBits(
                  l, q, blockSize((int) l.inFeatures()), config.accuracyLevel());
      touched.add(l.name());
    }
    writer.finish();
    context.progress().finish(type);
    if (!layers.isEmpty()) {
      metrics.put("sqnr_db_mean", sqnrSum / layers.size());
      metrics.put("seconds_scale_search", (searched - start) / 1e9);
      metrics.put("seconds_clip_search", (clipped - searched) / 1e9);
      metrics.put("groups_scaled", (double) scaled);
      metrics.put("groups_unscaled", (double) (groups.size() - scaled));
      if (scaled > 0) {
        metrics.put("module_loss_ratio_mean", lossRatioSum / scaled);
      }
      metrics.put("weight_bytes_ratio", bytesBefore == 0 ? 1.0 : (double) bytesAfter / bytesBefore);
    }
    List<PassReport.Skip> skipped = new ArrayList<>(picked.skipped());
    List<PassReport.Note> notes = new ArrayList<>();
    for (Group g : groups.values()) {
      if (!g.why.isEmpty()) {
        notes.add(PassReport.Note.info(g.layers.get(0).name(), "input not scaled: " + g.why));
      }
    }
    return new PassReport(
        type,
        touched,
        skipped,
        bytesBefore,
        bytesAfter,
        metrics,
        layerMetrics.asMap(),
        notes,
        Duration.ofNanos(System.nanoTime() - start));
  }

  /**
   * Steps 1-3: canonicalizes, captures, searches every group's scale and folds it; the model stays
   * float and computes the same function (up to rounding).
   */
  Map<String, Group> searchAndFold(
      ModelGraph model, CalibrationSet calibration, List<LinearLayer> selected, PassContext context)
      throws CompressionException {
    Canonicalizer.canonicalize(model);
    raiseOpsetForFusedOperators(model);
    Graph graph = model.graph();
    Set<String> names = new HashSet<>();
    selected.forEach(l -> names.add(l.name()));
    List<LinearLayer> all = LinearLayers.of(graph);
    Map<String, Group> groups = new LinkedHashMap<>();
    for (LinearLayer l : all) {
      if (names.contains(l.name())) {
        groups.computeIfAbsent(l.input(), Group::new).layers.add(l);
      }
    }
    String type = AwqProvider.TYPE;

    // 1-2: capture and search, chunk by chunk; nothing in the graph changes yet. In f32: a half
    // model is widened for the executor runs (its scales are then folded in its own type).
    ModelGraph calib = FloatPrecision.widened(model);
    CalibrationSet wide = FloatPrecision.widened(calibration);
    try (Executor full = executor(context, calib)) {
      List<Group> order = new ArrayList<>(groups.values());
      long tokens = 0;
      for (Map<String, Tensor> b : wide.batches()) {
        tokens += tokenCount(b);
      }
      int from = 0;
      while (from < order.size()) {
        int to = from;
        long bytes = 0;
        do {
          bytes += tokens * order.get(to).in() * 4L;
          to++;
        } while (to < order.size() && bytes + tokens * order.get(to).in() * 4L < CAPTURE_BUDGET);
        List<Group> chunk = order.subList(from, to);
        Map<String, List<Tensor>> xs = new LinkedHashMap<>();
        Set<String> capture = new java.util.LinkedHashSet<>();
        for (Group g : chunk) {
          capture.add(g.layers.get(0).name());
          xs.put(g.input, new ArrayList<>());
        }
        for (Map<String, Tensor> b : wide.batches()) {
          ForwardResult r = full.forward(ActivationCapture.feeds(full, b), capture);
          for (Group g : chunk) {
            xs.get(g.input).add(r.activation(g.layers.get(0).name()));
          }
        }
        for (Group g : chunk) {
          search(calib, g, xs.remove(g.input), wide.batches(), all, context);
        }
        from = to;
      }
    }

    // 3: apply the scales.
    for (Group g : groups.values()) {
      if (g.scale != null) {
        applyScale(model, g, all);
      }
    }

    return groups;
  }

  /**
   * The fused {@code LayerNormalization} is an ONNX operator from opset 17: a model importing an
   * older opset is raised to it ({@link OpsetUpgrade}, the same function), so what is written
   * conforms to the opset it declares. (The other fused form, {@code com.microsoft::Gelu}, is valid
   * at any opset.)
   */
  private static void raiseOpsetForFusedOperators(ModelGraph model)
      throws UnsupportedModelException {
    long has = model.opset("").orElse(1);
    long need = OpsetCheck.minimumDefaultOpset(model);
    if (need <= has) {
      return;
    }
    List<String> blockers = OpsetUpgrade.problems(model, need);
    if (!blockers.isEmpty()) {
      throw new UnsupportedModelException(
          "awq folds its scales into fused LayerNormalization nodes, an ONNX operator from opset "
              + need
              + "; the model imports opset "
              + has
              + " and cannot be raised: "
              + String.join("; ", blockers)
              + ". HINT: re-export the model at opset >= "
              + need);
    }
    OpsetUpgrade.upgrade(model, need);
  }

  /**
   * What steps 1-3 decided (test hook).
   *
   * @param alphas best alpha by input ({@code -1}: not scaled)
   * @param unscaled groups with no foldable producer, by first layer name, with the reason
   */
  record Searched(Map<String, Double> alphas, Map<String, String> unscaled) {}

  /** Test hook: steps 1-3 on every layer {@link AwqConfig#selection} picks; best alpha by input. */
  Map<String, Double> searchAndFold(ModelGraph model, CalibrationSet calibration)
      throws CompressionException {
    return searched(model, calibration).alphas();
  }

  /** Test hook: steps 1-3 on every layer {@link AwqConfig#selection} picks. */
  Searched searched(ModelGraph model, CalibrationSet calibration) throws CompressionException {
    List<LinearLayer> selected = QuantizedLayers.select(config.selection(), model.graph()).layers();
    Map<String, Double> alphas = new LinkedHashMap<>();
    Map<String, String> unscaled = new LinkedHashMap<>();
    searchAndFold(model, calibration, selected, PassContext.of(0))
        .forEach(
            (k, g) -> {
              alphas.put(k, g.scale == null ? -1 : g.alpha);
              if (!g.why.isEmpty()) {
                unscaled.put(g.layers.get(0).name(), g.why);
              }
            });
    return new Searched(alphas, unscaled);
  }

  private static Executor executor(PassContext context, ModelGraph model)
      throws CompressionException {
    try {
      return context.executor(model);
    } catch (UnsupportedModelException e) {
      throw new UnsupportedModelException(
          "awq runs the float model on the DJL executor, which cannot run it: "
              + e.getMessage()
              + " (HINT: run awq before passes that write quantized operators)");
    }
  }

  private static long tokenCount(Map<String, Tensor> batch) {
    Tensor mask = batch.get("attention_mask");
    if (mask != null) {
      return mask.elementCount();
    }
    return batch.values().stream().mapToLong(Tensor::elementCount).max().orElse(1);
  }

  /** Statistics, clip samples and (where the group can be scaled) the alpha search. */
  private void search(
      ModelGraph model,
      Group g,
      List<Tensor> xs,
      List<Map<String, Tensor>> batches,
      List<LinearLayer> all,
      PassContext context)
      throws CompressionException {
    int in = g.in();
    ActivationStats stats = new ActivationStats(in);
    for (int b = 0; b < xs.size(); b++) {
      stats.add(TokenRows.of(xs.get(b), batches.get(b).get("attention_mask")));
    }
    long count = stats.tokens();
    g.sx = stats.meanAbs();
    // Every (count / clipTokens)-th real token, as the reference's input_feat[:, 0::step].
    long step = Math.max(1, count / config.clipTokens());
    int take = (int) ((count + step - 1) / step);
    g.sample = new float[take * in];
    g.sampleTokens = take;
    long seen = 0;
    int k = 0;
    for (int b = 0; b < xs.size(); b++) {
      Tensor x = xs.get(b);
      float[] v = x.toFloatArray();
      boolean[] valid = TokenRows.realRowsOrAll(x, batches.get(b).get("attention_mask"));
      for (int r = 0; r < valid.length; r++) {
        if (valid[r]) {
          if (seen % step == 0 && k < take) {
            System.arraycopy(v, r * in, g.sample, k * in, in);
            k++;
          }
          seen++;
        }
      }
    }

    Optional<String> why = foldProblem(model.graph(), g, all);
    if (why.isPresent()) {
      g.why = why.get();
      return;
    }
    if (config.alphaGrid() == 1 && !config.duoScaling()) {
      return; // alpha = 0 only: s = 1, nothing to search or apply
    }
    scoreAlphas(model, g, xs, batches, context);
  }

  /** Runs the module for every alpha and keeps the best scale. */
  private void scoreAlphas(
      ModelGraph model,
      Group g,
      List<Tensor> xs,
      List<Map<String, Tensor>> batches,
      PassContext context)
      throws CompressionException {
    Graph graph = model.graph();
    int in = g.in();
    List<String> weights = g.layers.stream().map(LinearLayer::weight).toList();
    List<String> layerOutputs = g.layers.stream().map(LinearLayer::output).toList();
    int rank = xs.get(0).rank();
    ModelGraph module = null;
    Node producer = GraphIndex.of(graph).producer(g.input).orElse(null);
    if (producer != null && producer.opType().equals("LayerNormalization")) {
      Optional<String> y = ModuleExtractor.nextNormInput(graph, layerOutputs);
      if (y.isPresent()) {
        Optional<ModelGraph> m =
            ModuleExtractor.extract(model, g.input, rank, List.of(y.get()), weights);
        // On the f32 copy of a half model the layers' nodes are copies: found by name there.
        boolean copy = graph.nodes().stream().noneMatch(n -> n == g.layers.get(0).node());
        if (m.isPresent()
            && g.layers.stream()
                .allMatch(
                    l ->
                        copy
                            ? m.get().graph().node(l.node().name()).isPresent()
                            : ModuleExtractor.contains(m.get(), l.node()))) {
          module = m.get();
        }
      }
    }
    if (module == null) {
      module =
          ModuleExtractor.extract(model, g.input, rank, layerOutputs, weights)
              .orElseThrow(() -> new IllegalStateException("layers not extractable: " + g.input));
    }
    float[][] w = new float[g.layers.size()][];
    for (int i = 0; i < w.length; i++) {
      LinearLayer l = g.layers.get(i);
      w[i] =
          WeightMatrix.outByIn(
              graph.constant(l.weight()).orElseThrow(),
              l.layout(),
              (int) l.outFeatures(),
              (int) l.inFeatures());
    }
    double[] sw =
        config.duoScaling() ? AwqMath.weightMean(w, in, config.effectiveGroupSize(in)) : null;
    try (Executor ex = executor(context, module)) {
      List<List<float[]>> reference = new ArrayList<>();
      for (int b = 0; b < xs.size(); b++) {
        reference.add(run(ex, xs.get(b), batches.get(b), g, Map.of(), module));
      }
      double best = Double.POSITIVE_INFINITY;
      double atZero = Double.NaN;
      for (int i = 0; i < config.alphaGrid(); i++) {
        double alpha = config.alpha(i);
        float[] s = AwqMath.scales(g.sx, sw, alpha);
        Map<String, Tensor> shadow = new HashMap<>();
        for (int li = 0; li < w.length; li++) {
          LinearLayer l = g.layers.get(li);
          int out = (int) l.outFeatures();
          float[] fq =
              AwqMath.fakeQuantize(
                  w[li],
                  out,
                  in,
                  s,
                  config.bits(),
                  config.effectiveGroupSize(in),
                  config.symmetric());
          shadow.put(l.weight(), stored(l, fq));
        }
        double loss = 0;
        long n = 0;
        for (int b = 0; b < xs.size(); b++) {
          List<float[]> out = run(ex, xs.get(b), batches.get(b), g, shadow, module);
          double[] ln = mse(out, reference.get(b), xs.get(b), batches.get(b));
          loss += ln[0];
          n += (long) ln[1];
        }
        loss /= Math.max(1, n);
        if (i == 0) {
          atZero = loss;
        }
        if (Double.isFinite(loss) && loss < best) {
          best = loss;
          g.alpha = alpha;
          g.scale = s;
        }
      }
      g.lossRatio = atZero > 0 ? best / atZero : 1;
    }
    if (g.scale != null) {
      boolean identity = true;
      for (float v : g.scale) {
        identity &= v == 1f;
      }
      if (identity) {
        g.scale = null;
      }
    }
  }

  private static List<float[]> run(
      Executor ex,
      Tensor x,
      Map<String, Tensor> batch,
      Group g,
      Map<String, Tensor> shadow,
      ModelGraph module)
      throws CompressionException {
    Map<String, Tensor> in = new LinkedHashMap<>();
    for (String n : ex.inputNames()) {
      in.put(n, n.equals(g.input) ? x : batch.get(n));
    }
    in.putAll(shadow);
    Map<String, Tensor> out = ex.forward(in);
    List<float[]> r = new ArrayList<>();
    for (Tensor t : out.values()) {
      r.add(t.toFloatArray());
    }
    return r;
  }

  /** Sum of squared differences over real tokens, and the number of values summed. */
  private static double[] mse(
      List<float[]> out, List<float[]> ref, Tensor x, Map<String, Tensor> batch) {
    boolean[] valid = TokenRows.realRowsOrAll(x, batch.get("attention_mask"));
    double sum = 0;
    long n = 0;
    for (int o = 0; o < out.size(); o++) {
      float[] a = out.get(o);
      float[] b = ref.get(o);
      int width = a.length % valid.length == 0 ? a.length / valid.length : -1;
      for (int i = 0; i < a.length; i++) {
        if (width > 0 && !valid[i / width]) {
          continue;
        }
        double d = (double) a[i] - b[i];
        sum += d * d;
        n++;
      }
    }
    return new double[] {sum, n};
  }

  /** A weight tensor in {@code l}'s storage layout from its {@code (out, in)} view. */
  private static Tensor stored(LinearLayer l, float[] outByIn) {
    int out = (int) l.outFeatures();
    int in = (int) l.inFeatures();
    float[] v = new float[outByIn.length];
    for (int o = 0; o < out; o++) {
      for (int i = 0; i < in; i++) {
        v[WeightMatrix.storedIndex(l.layout(), out, in, o, i)] = outByIn[o * in + i];
      }
    }
    return Tensor.ofFloats(l.weight(), l.weightShape(), v);
  }

  // ---- folding ----

  /** Why the group's input cannot be rescaled, if it cannot. */
  private Optional<String> foldProblem(Graph graph, Group g, List<LinearLayer> all) {
    if (foldTarget(graph, g.input, all).isEmpty()) {
      Optional<Node> p = GraphIndex.of(graph).producer(g.input);
      return Optional.of(
          "no foldable producer of its input ("
              + p.map(n -> n.qualifiedOpType() + " '" + LinearLayers.nameOf(n) + "'")
                  .orElse("a graph input")
              + ")");
    }
    if (graph.outputs().stream().anyMatch(v -> v.name().equals(g.input))) {
      return Optional.of("its input is a graph output");
    }
    if (!config.residualMul() && !otherConsumers(graph, g, all).isEmpty()) {
      return Optional.of("its input also feeds other nodes and residualMul is false");
    }
    return Optional.empty();
  }

  /** Normalizations over the last axis whose scale (and bias) can absorb {@code 1/s}. */
  private static final Set<String> FOLDABLE_NORMS =
      Set.of(
          "LayerNormalization",
          "SimplifiedLayerNormalization",
          "RMSNormalization",
          "com.microsoft::SkipLayerNormalization",
          "com.microsoft::SkipSimplifiedLayerNormalization");

  private static boolean isFloat(Graph graph, ChannelScaling.Input in) {
    return graph
        .constant(in.node().input(in.index()))
        .map(t -> WeightMatrix.FLOAT_TYPES.contains(t.dtype()))
        .orElse(false);
  }

  /**
   * A normalization node ({@link #FOLDABLE_NORMS}), or a linear layer, whose output rows can absorb
   * {@code 1/s}.
   */
  private static Optional<Object> foldTarget(Graph graph, String x, List<LinearLayer> all) {
    Optional<Node> p = GraphIndex.of(graph).producer(x);
    if (p.isEmpty()) {
      return Optional.empty();
    }
    Node n = p.get();
    // The norm's other outputs (mean, inverse std, SkipLayerNorm's residual sum) do not depend on
    // its scale and bias, so they may be read.
    Optional<ChannelScaling.NormConstants> norm =
        FOLDABLE_NORMS.contains(n.qualifiedOpType())
            ? ChannelScaling.normConstants(graph, n)
            : Optional.empty();
    if (norm.isPresent()
        && n.output(0).equals(x)
        && n.intAttr("axis", -1) == -1
        && isFloat(graph, norm.get().scale())
        && norm.get().bias().map(b -> isFloat(graph, b)).orElse(true)) {
      return Optional.of(n);
    }
    for (LinearLayer l : all) {
      boolean direct = l.output().equals(x);
      boolean viaBias =
          l.biasNode().isPresent()
              && graph.node(l.biasNode().get()).map(b -> b.output(0).equals(x)).orElse(false);
      if ((direct || viaBias)
          && l.kind() != Kind.CONV
          && graph.initializers().containsKey(l.weight())
          && GraphIndex.of(graph).readers(l.weight()).size() == 1
          && (direct && l.kind() == Kind.MATMUL
              ? true
              : l.bias().map(b -> graph.initializers().containsKey(b)).orElse(true))) {
        return Optional.of(l);
      }
    }
    return Optional.empty();
  }

  /** Consumers of the group's input that are neither its layers nor other scalable linears. */
  private static List<Node> otherConsumers(Graph graph, Group g, List<LinearLayer> all) {
    List<Node> out = new ArrayList<>();
    for (Node c : GraphIndex.of(graph).readers(g.input)) {
      if (g.layers.stream().anyMatch(l -> l.node() == c)) {
        continue;
      }
      Optional<LinearLayer> lin = scalableLinear(graph, c, g.input, all);
      if (lin.isEmpty()) {
        out.add(c);
      }
    }
    return out;
  }

  private static Optional<LinearLayer> scalableLinear(
      Graph graph, Node c, String x, List<LinearLayer> all) {
    return all.stream()
        .filter(l -> l.node() == c && l.input().equals(x) && l.kind() != Kind.CONV)
        .filter(l -> graph.initializers().containsKey(l.weight()))
        .filter(l -> GraphIndex.of(graph).readers(l.weight()).size() == 1)
        .findFirst();
  }

  /** How this pass names what channel scaling writes (the names its outputs always had). */
  private static final ChannelScaling.Style STYLE =
      new ChannelScaling.Style(
          "_awq",
          ChannelScaling.Rewrite.IN_PLACE,
          "_awq_scale",
          "_awq_unscaled",
          "_awq_Mul",
          false);

  /** Applies {@code W s} to the readers of the group's input and {@code 1/s} to its producer. */
  private static void applyScale(ModelGraph model, Group g, List<LinearLayer> all) {
    Graph graph = model.graph();
    GraphEditor ed = GraphEditor.of(graph);
    List<LinearLayer> readers = new ArrayList<>(g.layers);
    for (Node c : ed.index().readers(g.input)) {
      if (g.layers.stream().noneMatch(l -> l.node() == c)) {
        scalableLinear(graph, c, g.input, all).ifPresent(readers::add);
      }
    }
    ChannelScaling.Fold fold =
        switch (foldTarget(graph, g.input, all).orElseThrow()) {
          case Node norm -> ChannelScaling.normConstants(graph, norm).orElseThrow().fold();
          case LinearLayer p -> new ChannelScaling.Fold.Rows(p);
          default -> throw new IllegalStateException("no fold target for " + g.input);
        };
    ChannelScaling.apply(ed, g.input, fold, readers, g.scale, STYLE);
  }
}
