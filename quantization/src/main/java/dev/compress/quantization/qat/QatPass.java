package dev.compress.quantization.qat;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.GraphEditor;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.layers.LinearLayer.Kind;
import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.pipeline.PassValidation;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.quantization.format.MatMulNBitsLayout;
import dev.compress.quantization.format.QuantizedModelWriter;
import dev.compress.quantization.format.WeightMatrix;
import dev.compress.quantization.grid.Granularity;
import dev.compress.quantization.grid.QuantizedMatrix;
import dev.compress.quantization.grid.RowSource;
import dev.compress.quantization.observer.ActivationGranularity;
import dev.compress.quantization.observer.ActivationQuantParams;
import dev.compress.quantization.observer.Observer;
import dev.compress.quantization.observer.Observers;
import dev.compress.quantization.ptq.ActivationCalibrator;
import dev.compress.quantization.rtn.ClipMethod;
import dev.compress.quantization.rtn.ClipSearch;
import dev.compress.quantization.rtn.QuantizedLayers;
import dev.compress.training.ParameterSelection;
import dev.compress.training.distill.TeacherStudent;
import dev.compress.training.quant.FakeQuantizeOp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Quantization-aware training (QAT): the selected layers are trained through fake quantization
 * against the float teacher, then stored in the same integer formats as the post-training passes.
 * Straight-through estimator (Bengio et al. 2013; Jacob et al. 2018) with learned step sizes (LSQ,
 * Esser et al. 2020, "Learned Step Size Quantization").
 *
 * <ol>
 *   <li>Grid: each weight's RTN grid ({@code rtn-quantization}'s min-max grid, or with {@code clip:
 *       mse} its searched range), or LSQ's {@code 2 mean|w| / sqrt(Q_P)}; with {@code activations}
 *       each layer input's per-tensor int8 range from {@code observer} on the calibration samples
 *       (as {@code ptq-static}).
 *   <li>Training graph: a copy of the model where each selected weight {@code W} is read through
 *       {@code FakeQuantize(W, s0 * m, zero_point)} ({@link FakeQuantizeOp}, a node only the
 *       project's trainable interpreter runs: clipped straight-through gradient for {@code W},
 *       LSQ's for the scale with {@code g = 1/sqrt(N Q_P)}, N the values per scale), and with
 *       {@code activations} each layer input through one per tensor. Trained: the float weights and
 *       biases of the selected layers, and with {@code stepSize: lsq} every step size, as its ratio
 *       {@code m} (from 1) to the initial {@code s0}: AdamW moves each parameter by about {@code
 *       lr} per update whatever its magnitude, so a step size of 1e-3 trained directly at lr 1e-3
 *       turns negative within a few updates, where the ratio changes it by about {@code lr}
 *       relatively. LSQ's gradient (with {@code g}) reaches {@code m} as {@code s0 dL/ds}. Zero
 *       points stay.
 *   <li>Training: {@link TeacherStudent} with the {@code distill} loss terms, against the
 *       pipeline's input model (or {@code teacher}).
 *   <li>Export (the training graph is dropped, nothing of it is written): each trained weight's
 *       codes {@code round(clamp(W/s + z, 0, maxq))} with the trained scales, exactly the forward's
 *       grid, written as {@code MatMulNBits} (4 bits) or per-channel {@code DequantizeLinear} (8
 *       bits); activations as {@code QuantizeLinear -> DequantizeLinear} with the trained scale.
 *       Trained biases are written as floats.
 * </ol>
 *
 * <p>Everything is checked before training: every layer (f32 initializer weight, MatMul or Gemm
 * with {@code alpha = beta = 1}, group size dividing the input features, MatMulNBits' block rules,
 * a node name when activations are calibrated), the opset, the calibration data, the loss terms.
 * With AdamW (the trainer's optimizer) LSQ's gradient scale changes little: Adam normalizes each
 * parameter's step by its own gradient's running magnitude, so {@code g} cancels but for the
 * epsilon; it is kept for SGD-like behaviour and as the paper states it.
 */
public final class QatPass implements Pass<QatConfig>, PassValidation {
  private final QatConfig config;

  /** A pass for a validated config. */
  public QatPass(QatConfig config) {
    this.config = config;
  }

  @Override
  public QatConfig config() {
    return config;
  }

  /** Whether weights are stored behind DequantizeLinear (8 bits per channel). */
  private boolean dequantizeLinear() {
    return config.bits() == 8;
  }

  private int blockSize(int in) {
    return config.granularity() == Granularity.PER_CHANNEL
        ? MatMulNBitsLayout.perChannelBlockSize(in)
        : config.groupSize();
  }

  @Override
  public List<String> validate(ModelGraph model, List<LinearLayer> selected) {
    List<String> problems = new ArrayList<>();
    if (selected.isEmpty()) {
      problems.add(
          "targets/ignore: no linear layer selected (the model has "
              + dev.compress.api.layers.LinearLayers.of(model.graph()).size()
              + " linear layers); qat needs at least one");
    }
    Map<String, String> weightOwner = new HashMap<>();
    for (LinearLayer l : selected) {
      check(model, l, problems);
      String other = weightOwner.putIfAbsent(l.weight(), l.name());
      if (other != null) {
        problems.add(
            "layer '"
                + l.name()
                + "': its weight "
                + l.weight()
                + " is shared with layer '"
                + other
                + "'; qat trains one copy per layer. HINT: add one of them to ignore");
      }
    }
    if (dequantizeLinear() && !selected.isEmpty()) {
      QuantizedModelWriter.dequantizeLinearProblem(model)
          .ifPresent(p -> problems.add("model: " + p));
    }
    return problems;
  }

  private void check(ModelGraph model, LinearLayer layer, List<String> problems) {
    String where = "layer '" + layer.name() + "': ";
    Optional<Tensor> w = model.graph().constant(layer.weight());
    if (w.isEmpty() || layer.weightFromConstantNode()) {
      problems.add(where + "weight " + layer.weight() + " is not an initializer");
    } else if (w.get().dtype() != DataType.FLOAT) {
      problems.add(
          where
              + "weight "
              + layer.weight()
              + " is "
              + w.get().dtype()
              + "; qat trains FLOAT weights only. HINT: widen the model to float32 first");
    }
    if (layer.kind() == Kind.CONV) {
      problems.add(where + "a Conv weight is not supported by qat (MatMul and Gemm only)");
      return;
    }
    if (layer.kind() == Kind.GEMM) {
      Node n = layer.node();
      if (n.floatAttr("alpha", 1f) != 1f
          || (!n.input(2).isEmpty() && n.floatAttr("beta", 1f) != 1f)) {
        problems.add(where + "a Gemm with alpha or beta other than 1 is not supported");
      }
    }
    if (config.granularity() == Granularity.PER_GROUP
        && layer.inFeatures() % config.groupSize() != 0) {
      problems.add(
          where
              + "groupSize "
              + config.groupSize()
              + " does not divide its "
              + layer.inFeatures()
              + " input features");
    } else if (!dequantizeLinear()) {
      QuantizedModelWriter.matMulNBitsProblem(layer, blockSize((int) layer.inFeatures()))
          .ifPresent(p -> problems.add(where + p));
    }
    if (config.activations() && layer.nameSynthesized()) {
      problems.add(
          where + "the node has no name, and activation calibration captures by node name");
    }
  }

  @Override
  public List<String> compresses(List<LinearLayer> selected) {
    return selected.stream().map(LinearLayer::name).toList();
  }

  @Override
  public boolean skipsCompressedLayers() {
    return true;
  }

  /**
   * The training graph and what the export needs of it.
   *
   * @param student the model copy with FakeQuantize nodes
   * @param grids the initial weight grids, in layer order
   * @param scaleNames the student's step-size ratio initializer of each grid, then of each
   *     activation
   * @param byInput the selected layers by the activation they read (with {@code activations})
   * @param activations the initial activation grid of each such value
   * @param trained the initializers training changes
   * @param bytesBefore bytes of the selected weights
   * @param skipped layers already quantized by an earlier pass
   */
  record Prepared(
      ModelGraph student,
      List<QatGrid> grids,
      List<String> scaleNames,
      Map<String, List<LinearLayer>> byInput,
      Map<String, ActivationQuantParams> activations,
      List<String> trained,
      long bytesBefore,
      List<PassReport.Skip> skipped) {}

  @Override
  public PassReport apply(ModelGraph model, PassContext context) throws CompressionException {
    long start = System.nanoTime();
    Prepared p = prepare(model, context);
    ModelGraph teacher = TeacherStudent.teacher(config.teacher(), context);
    TeacherStudent.Outcome o =
        TeacherStudent.train(
            QatProvider.TYPE,
            p.student(),
            teacher,
            ParameterSelection.initializers(p.trained()),
            config.losses(),
            config.settings(),
            context);
    PassReport.LayerMetrics layerMetrics = new PassReport.LayerMetrics();
    Map<String, Double> metrics = new LinkedHashMap<>(o.metrics());
    long bytesAfter = export(model, p, layerMetrics, metrics);
    return new PassReport(
        QatProvider.TYPE,
        p.grids().stream().map(g -> g.layer().name()).toList(),
        p.skipped(),
        p.bytesBefore(),
        bytesAfter,
        metrics,
        layerMetrics.asMap(),
        List.of(),
        Duration.ofNanos(System.nanoTime() - start));
  }

  /**
   * Checks everything, fits the initial grids (and activation ranges) and builds the training
   * graph; {@code model} is not changed.
   */
  Prepared prepare(ModelGraph model, PassContext context) throws CompressionException {
    Graph graph = model.graph();
    QuantizedLayers.Picked picked = QuantizedLayers.select(config.selection(), graph);
    List<LinearLayer> layers = picked.layers();
    List<String> problems = new ArrayList<>(validate(model, layers));
    if (context.calibration().isEmpty()) {
      problems.add(
          QatProvider.TYPE
              + " trains on the calibration samples: add a calibration block (calibration:"
              + " {kind: text, source: FILE})");
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    CalibrationSet calibration = context.calibration().orElseThrow();

    // 1. The initial grids (a bad weight fails before any training).
    List<QatGrid> grids = new ArrayList<>();
    long bytesBefore = 0;
    for (LinearLayer l : layers) {
      Tensor w = graph.constant(l.weight()).orElseThrow();
      bytesBefore += w.byteSize();
      try {
        grids.add(initialGrid(l, w));
      } catch (IllegalArgumentException e) {
        problems.add("layer '" + l.name() + "': weight " + l.weight() + ": " + e.getMessage());
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    Map<String, List<LinearLayer>> byInput = new LinkedHashMap<>();
    Map<String, ActivationQuantParams> act = new LinkedHashMap<>();
    if (config.activations()) {
      layers.forEach(
          l -> byInput.computeIfAbsent(l.node().input(0), k -> new ArrayList<>()).add(l));
      Map<String, String> capture = new LinkedHashMap<>();
      byInput.forEach((v, ls) -> capture.put(v, ls.get(0).name()));
      Map<String, Observer> observed =
          ActivationCalibrator.observe(
              context,
              model,
              calibration,
              capture,
              () ->
                  Observers.create(
                      config.observer(),
                      ActivationGranularity.PER_TENSOR,
                      QatConfig.PERCENTILE,
                      QatConfig.AVERAGING,
                      config.activationSymmetric()),
              QatProvider.TYPE);
      observed.forEach(
          (v, o) -> act.put(v, ActivationQuantParams.of(o.range(), config.activationSymmetric())));
    }

    // 2. The training graph: a copy with FakeQuantize nodes; the model itself is untouched.
    ModelGraph student = model.copy();
    GraphEditor editor = GraphEditor.of(student.graph());
    student.opsetImports().put(FakeQuantizeOp.DOMAIN, 1L);
    List<String> trained = new ArrayList<>();
    List<String> scaleNames = new ArrayList<>();
    for (QatGrid g : grids) {
      LinearLayer l = g.layer();
      Node consumer = nodeNamed(student.graph(), l.node());
      String s0 = editor.freshName(l.weight() + "_qat_scale_init");
      String m = editor.freshName(l.weight() + "_qat_scale_ratio");
      String s = editor.freshName(l.weight() + "_qat_scale");
      String z = editor.freshName(l.weight() + "_qat_zero_point");
      editor.putInitializer(g.scaleTensor(s0));
      editor.putInitializer(ones(m, g.blockedShape()));
      editor.putInitializer(g.zeroTensor(z));
      editor.insertBefore(
          consumer, Node.of(editor.freshName(s + "_Mul"), "Mul", List.of(s0, m), List.of(s)));
      String out = editor.freshName(l.weight() + "_fake_quantized");
      int qp = g.symmetric() ? g.maxq() - g.zeros()[0] : g.maxq();
      Node fq =
          fakeQuantize(
              editor.freshName(l.weight() + "_FakeQuantize"),
              List.of(l.weight(), s, z),
              out,
              g.axis(),
              g.group(),
              0,
              g.maxq(),
              FakeQuantizeOp.lsqGradScale(g.group(), qp));
      editor.insertBefore(consumer, fq);
      editor.setInput(consumer, consumer.inputs().indexOf(l.weight()), out);
      trained.add(l.weight());
      l.bias().filter(b -> student.graph().initializers().containsKey(b)).ifPresent(trained::add);
      scaleNames.add(m);
    }
    for (Map.Entry<String, List<LinearLayer>> e : byInput.entrySet()) {
      ActivationQuantParams p = act.get(e.getKey());
      String s0 = editor.freshName(e.getKey() + "_qat_scale_init");
      String m = editor.freshName(e.getKey() + "_qat_scale_ratio");
      String s = editor.freshName(e.getKey() + "_qat_scale");
      String z = editor.freshName(e.getKey() + "_qat_zero_point");
      editor.putInitializer(Tensor.ofFloats(s0, new long[0], p.scale()));
      editor.putInitializer(ones(m, new long[0]));
      editor.putInitializer(Tensor.ofFloats(z, new long[0], (float) p.zeroPoint()));
      String out = editor.freshName(e.getKey() + "_fake_quantized");
      int qmin = ActivationQuantParams.qmin(p.symmetric());
      int qmax = ActivationQuantParams.qmax(p.symmetric());
      Node fq =
          fakeQuantize(
              editor.freshName(e.getKey() + "_FakeQuantize"),
              List.of(e.getKey(), s, z),
              out,
              0,
              0,
              qmin,
              qmax,
              FakeQuantizeOp.lsqGradScale(
                  e.getValue().get(0).inFeatures(), p.symmetric() ? qmax : qmax - qmin));
      List<Node> consumers = new ArrayList<>();
      for (LinearLayer l : e.getValue()) {
        consumers.add(nodeNamed(student.graph(), l.node()));
      }
      Node at = first(student.graph(), consumers);
      editor.insertBefore(
          at, Node.of(editor.freshName(s + "_Mul"), "Mul", List.of(s0, m), List.of(s)));
      editor.insertBefore(at, fq);
      for (Node c : consumers) {
        editor.setInput(c, 0, out);
      }
      scaleNames.add(m);
    }
    if (config.stepSize() == StepSize.LSQ) {
      trained.addAll(scaleNames);
    }
    return new Prepared(
        student, grids, scaleNames, byInput, act, trained, bytesBefore, picked.skipped());
  }

  /**
   * Writes the (trained) weights of {@code p.student()} on its (trained) grids into {@code model}
   * in the module's integer formats; nothing of the training graph is written.
   *
   * @return bytes of the tensors added
   * @throws CompressionException when a trained scale is not positive or a weight not finite
   *     ({@code model} is then unchanged)
   */
  long export(
      ModelGraph model,
      Prepared p,
      PassReport.LayerMetrics layerMetrics,
      Map<String, Double> metrics)
      throws CompressionException {
    Graph graph = model.graph();
    Map<String, Tensor> after = p.student().graph().initializers();
    List<String> problems = new ArrayList<>();
    List<QuantizedMatrix> quantized = new ArrayList<>();
    double sqnrSum = 0;
    List<QatGrid> grids = p.grids();
    for (int i = 0; i < grids.size(); i++) {
      QatGrid g = grids.get(i);
      LinearLayer l = g.layer();
      QatGrid t = g.withRatios(after.get(p.scaleNames().get(i)));
      try {
        QuantizedMatrix q = t.quantize(after.get(l.weight()));
        quantized.add(q);
        Tensor original = graph.constant(l.weight()).orElseThrow();
        double sqnr =
            Math.min(300, q.sqnrDb(WeightMatrix.rows(original, l.layout(), g.out(), g.in())));
        layerMetrics.put(l.name(), "sqnr_db", sqnr);
        layerMetrics.put(l.name(), "scale_ratio_mean", meanRatio(t.scales(), g.scales()));
        sqnrSum += sqnr;
      } catch (IllegalArgumentException e) {
        problems.add("layer '" + l.name() + "': " + e.getMessage());
      }
    }
    Map<String, ActivationQuantParams> trainedAct = new LinkedHashMap<>();
    int a = grids.size();
    for (Map.Entry<String, ActivationQuantParams> e : p.activations().entrySet()) {
      ActivationQuantParams init = e.getValue();
      float s = init.scale() * after.get(p.scaleNames().get(a++)).toFloatArray()[0];
      try {
        trainedAct.put(
            e.getKey(), new ActivationQuantParams(s, init.zeroPoint(), init.symmetric()));
      } catch (IllegalArgumentException ex) {
        problems.add("activation '" + e.getKey() + "': " + ex.getMessage() + " after training");
      }
    }
    if (!problems.isEmpty()) {
      throw new CompressionException(
          QatProvider.TYPE
              + ": "
              + String.join("; ", problems)
              + "; nothing was written. HINT: lower lr (found "
              + config.lr()
              + ") or use stepSize: fixed");
    }
    QuantizedModelWriter writer = new QuantizedModelWriter(model);
    long bytesAfter = 0;
    for (Map.Entry<String, List<LinearLayer>> e : p.byInput().entrySet()) {
      ActivationQuantParams q = trainedAct.get(e.getKey());
      List<Node> consumers = e.getValue().stream().map(LinearLayer::node).toList();
      bytesAfter +=
          writer.writeActivationQdq(e.getKey(), q.scale(), q.zeroPoint(), q.symmetric(), consumers);
      for (LinearLayer l : e.getValue()) {
        layerMetrics.put(l.name(), "input_scale", (double) q.scale());
      }
    }
    for (int i = 0; i < grids.size(); i++) {
      LinearLayer l = grids.get(i).layer();
      l.bias()
          .filter(b -> after.containsKey(b) && graph.initializers().containsKey(b))
          .ifPresent(b -> graph.putInitializer(after.get(b)));
      QuantizedMatrix q = quantized.get(i);
      bytesAfter +=
          dequantizeLinear()
              ? writer.writeDequantizeLinear(l, q)
              : writer.writeMatMulNBits(l, q, blockSize(q.cols()));
    }
    writer.finish();
    if (!grids.isEmpty()) {
      metrics.put("sqnr_db_mean", sqnrSum / grids.size());
      metrics.put(
          "weight_bytes_ratio", p.bytesBefore() == 0 ? 1.0 : (double) bytesAfter / p.bytesBefore());
    }
    if (!p.byInput().isEmpty()) {
      metrics.put("activation_tensors", (double) p.byInput().size());
    }
    return bytesAfter;
  }

  /** The grid training starts from. */
  private QatGrid initialGrid(LinearLayer l, Tensor w) {
    int out = (int) l.outFeatures();
    int in = (int) l.inFeatures();
    int group = config.effectiveGroupSize(in);
    RowSource rows = WeightMatrix.rows(w, l.layout(), out, in);
    QuantizedMatrix q =
        config.clip() == ClipMethod.MSE
            ? ClipSearch.quantize(rows, out, in, config.bits(), group, config.symmetric())
            : QuantizedMatrix.quantize(rows, out, in, config.bits(), group, config.symmetric());
    int groups = in / group;
    float[] scales = new float[out * groups];
    int[] zeros = new int[out * groups];
    for (int o = 0; o < out; o++) {
      for (int g = 0; g < groups; g++) {
        scales[o * groups + g] = q.scale(o, g);
        zeros[o * groups + g] = q.zero(o, g);
      }
    }
    if (config.scaleInit() == ScaleInit.LSQ) {
      float[] m = WeightMatrix.outByIn(w, l.layout(), out, in);
      double qp = (1 << (config.bits() - 1)) - 1;
      for (int o = 0; o < out; o++) {
        for (int g = 0; g < groups; g++) {
          scales[o * groups + g] = FakeQuantizeOp.lsqInitScale(m, o * in + g * group, group, qp);
        }
      }
    }
    return new QatGrid(l, config.bits(), group, config.symmetric(), scales, zeros);
  }

  private static Tensor ones(String name, long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    float[] v = new float[(int) n];
    java.util.Arrays.fill(v, 1f);
    return Tensor.ofFloats(name, shape, v);
  }

  private static Node fakeQuantize(
      String name,
      List<String> inputs,
      String output,
      long axis,
      long block,
      long qmin,
      long qmax,
      double gradScale) {
    Node n = Node.of(name, FakeQuantizeOp.OP_TYPE, inputs, List.of(output));
    n.setDomain(FakeQuantizeOp.DOMAIN);
    n.put(Attribute.of("axis", axis));
    n.put(Attribute.of("block_size", block));
    n.put(Attribute.of("qmin", qmin));
    n.put(Attribute.of("qmax", qmax));
    n.put(Attribute.of("grad_scale", (float) gradScale));
    return n;
  }

  /** The copy's node standing where {@code original} stands in the model (same name). */
  private static Node nodeNamed(Graph copy, Node original) {
    for (Node n : copy.nodes()) {
      if (n.name().equals(original.name()) && n.outputs().equals(original.outputs())) {
        return n;
      }
    }
    throw new IllegalStateException("node " + original.name() + " is not in the training copy");
  }

  private static Node first(Graph g, List<Node> nodes) {
    int best = Integer.MAX_VALUE;
    for (Node n : nodes) {
      for (int i = 0; i < g.nodes().size(); i++) {
        if (g.nodes().get(i) == n) {
          best = Math.min(best, i);
        }
      }
    }
    return g.nodes().get(best);
  }

  private static double meanRatio(float[] a, float[] b) {
    double sum = 0;
    for (int i = 0; i < a.length; i++) {
      sum += a[i] / b[i];
    }
    return sum / a.length;
  }
}
