package dev.compress.quantization.fp8;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.FloatPrecision;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.GraphEditor;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.OpsetUpgrade;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.layers.LinearLayer.WeightLayout;
import dev.compress.api.layers.LinearLayers;
import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.pipeline.PassValidation;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.QuantParams;
import dev.compress.api.tensor.Tensor;
import dev.compress.quantization.format.WeightMatrix;
import dev.compress.quantization.grid.RowSource;
import dev.compress.quantization.observer.ActivationGranularity;
import dev.compress.quantization.observer.MinMaxObserver;
import dev.compress.quantization.observer.Observer;
import dev.compress.quantization.ptq.ActivationCalibrator;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * FP8 quantization (Micikevicius et al. 2022, "FP8 Formats for Deep Learning"): weights, and
 * optionally activations, stored as {@link Fp8Format E4M3FN or E5M2} with scale {@code amax / max}
 * per tensor or per output channel, each value rounded to the nearest representable one.
 *
 * <p>Written as ONNX opset 19:
 *
 * <pre>
 *   W' = DequantizeLinear(W8 FLOAT8 (stored layout), s_w f32 (scalar, or [N] with axis))
 *   x' = Mul(Cast(Cast(Div(x, s_x), to = FLOAT8, saturate = 1), to = FLOAT), s_x)   (activations)
 *   y  = MatMul(x', W')  (or the layer's Gemm)
 * </pre>
 *
 * The activation round trip is exactly {@code QuantizeLinear}/{@code DequantizeLinear} with a
 * FLOAT8 zero point of 0, spelled with {@code Cast} because ONNX Runtime 1.22's QDQ fusion rewrites
 * an FP8 {@code Q -> DQ -> MatMul <- DQ} group into its integer {@code MatMulIntegerToFloat} and
 * then rejects the model ("Type 'tensor(float8e4m3fn)' ... is invalid"). ONNX Runtime 1.22 runs all
 * of this on the CPU (FLOAT8 {@code DequantizeLinear} and {@code Cast}), then the matmul in f32:
 * FP8 here saves weight bytes (1 per weight) and shows the FP8 accuracy, it is not faster on a CPU.
 * A model below opset 19 is raised to it by {@link OpsetUpgrade} when that is safe ({@code
 * upgradeOpset}); everything is checked before anything changes.
 */
public final class Fp8Pass implements Pass<Fp8Config>, PassValidation {
  /** The first opset whose {@code DequantizeLinear} takes FLOAT8. */
  static final long FLOAT8_OPSET = 19;

  private final Fp8Config config;

  /** A pass for a validated config. */
  public Fp8Pass(Fp8Config config) {
    this.config = config;
  }

  @Override
  public Fp8Config config() {
    return config;
  }

  /** Per-channel (or per-tensor, one element) scales and the codes of a weight, stored layout. */
  record Encoded(byte[] codes, float[] scales, double sqnrDb) {}

  /**
   * Encodes an {@code out x in} matrix read a block of rows at a time (twice: the scales first,
   * then the codes), with the codes placed in the weight's stored {@code layout}; {@code
   * perChannel} gives one scale per row.
   */
  static Encoded encode(
      RowSource m, int out, int in, WeightLayout layout, Fp8Format f, boolean perChannel) {
    int block = RowSource.blockRows(in);
    float[] buf = new float[Math.min(block, out) * in];
    float[] scales = new float[perChannel ? out : 1];
    for (int o0 = 0; o0 < out; o0 += block) {
      int n = Math.min(block, out - o0);
      m.read(o0, n, buf);
      for (int j = 0; j < n; j++) {
        int k = perChannel ? o0 + j : 0;
        for (int i = 0; i < in; i++) {
          scales[k] = Math.max(scales[k], Math.abs(buf[j * in + i]));
        }
      }
    }
    for (int k = 0; k < scales.length; k++) {
      float s = scales[k] / f.max();
      scales[k] = s > 0 && Float.isFinite(s) ? s : 1f;
    }
    byte[] codes = new byte[Math.multiplyExact(out, in)];
    double sig = 0;
    double err = 0;
    for (int o0 = 0; o0 < out; o0 += block) {
      int n = Math.min(block, out - o0);
      m.read(o0, n, buf);
      for (int j = 0; j < n; j++) {
        int o = o0 + j;
        float s = scales[perChannel ? o : 0];
        for (int i = 0; i < in; i++) {
          float v = buf[j * in + i];
          byte c = f.encode(v / s);
          codes[WeightMatrix.storedIndex(layout, out, in, o, i)] = c;
          double d = v - f.decode(c) * s;
          sig += (double) v * v;
          err += d * d;
        }
      }
    }
    return new Encoded(codes, scales, err == 0 ? 300 : Math.min(300, 10 * Math.log10(sig / err)));
  }

  /**
   * Every selected weight a float constant (a node name to capture by, with activations), the opset
   * (or its upgrade), and no bf16 weight when activation scales are calibrated.
   */
  @Override
  public List<String> validate(ModelGraph model, List<LinearLayer> selected) {
    List<String> problems = new ArrayList<>();
    for (LinearLayer l : selected) {
      Optional<Tensor> w = model.graph().constant(l.weight());
      if (w.isEmpty() || !WeightMatrix.FLOAT_TYPES.contains(w.get().dtype())) {
        problems.add(
            "layer '"
                + l.name()
                + "': weight "
                + l.weight()
                + " is not a constant f32, f16 or bf16");
      }
      if (config.activations() && l.nameSynthesized()) {
        problems.add("layer '" + l.name() + "': no node name to capture its input by");
      }
    }
    long opset = model.opset("").orElse(1);
    if (!selected.isEmpty() && opset < FLOAT8_OPSET) {
      if (!config.upgradeOpset()) {
        problems.add(
            "model: FLOAT8 DequantizeLinear needs opset >= 19, the model imports "
                + opset
                + ". HINT: set upgradeOpset: true");
      } else {
        OpsetUpgrade.problems(model, FLOAT8_OPSET).forEach(p -> problems.add("upgradeOpset: " + p));
      }
    }
    if (config.activations()) {
      FloatPrecision.bfloat16Problem(
              "activation scales are calibrated",
              model.graph(),
              selected.stream().map(LinearLayer::weight).toList())
          .map(p -> p.replace("HINT: ", "HINT: set activations: false, or "))
          .ifPresent(problems::add);
    }
    return problems;
  }

  @Override
  public List<String> compresses(List<LinearLayer> selected) {
    return selected.stream().map(LinearLayer::name).toList();
  }

  @Override
  public PassReport apply(ModelGraph model, PassContext context) throws CompressionException {
    long start = System.nanoTime();
    Graph graph = model.graph();
    Fp8Format f = config.format();
    List<LinearLayer> layers = config.selection().select(LinearLayers.of(graph));
    List<String> problems = new ArrayList<>(validate(model, layers));
    if (config.activations() && context.calibration().isEmpty() && !layers.isEmpty()) {
      problems.add(
          "activations: true needs calibration data for the activation scales: add a calibration"
              + " block");
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    Map<String, Double> metrics = new LinkedHashMap<>();
    PassReport.LayerMetrics layerMetrics = new PassReport.LayerMetrics();
    List<Encoded> encoded = new ArrayList<>();
    long before = 0;
    Set<String> counted = new HashSet<>();
    for (LinearLayer l : layers) {
      Tensor w = graph.constant(l.weight()).orElseThrow();
      int out = (int) l.outFeatures();
      int in = (int) l.inFeatures();
      // A block of rows at a time from the (mapped) weight: never a whole f32 copy.
      Encoded e =
          encode(
              WeightMatrix.rows(w, l.layout(), out, in),
              out,
              in,
              l.layout(),
              f,
              config.perChannel());
      encoded.add(e);
      layerMetrics.put(l.name(), "weight_sqnr_db", e.sqnrDb());
      if (counted.add(l.weight())) {
        before += w.byteSize();
      }
    }
    Map<String, Observer> ranges = Map.of();
    Map<String, List<LinearLayer>> byInput = new LinkedHashMap<>();
    if (config.activations()) {
      for (LinearLayer l : layers) {
        byInput.computeIfAbsent(l.input(), k -> new ArrayList<>()).add(l);
      }
      Map<String, String> capture = new LinkedHashMap<>();
      byInput.forEach((v, ls) -> capture.put(v, ls.get(0).name()));
      ranges =
          ActivationCalibrator.observe(
              context,
              model,
              context.calibration().orElseThrow(),
              capture,
              () -> new MinMaxObserver(ActivationGranularity.PER_TENSOR, 0),
              Fp8Provider.TYPE);
    }
    if (!layers.isEmpty()) {
      OpsetUpgrade.Result up = OpsetUpgrade.upgrade(model, FLOAT8_OPSET);
      metrics.put("opset_nodes_rewritten", (double) up.rewritten());
    }

    GraphEditor ed = GraphEditor.of(graph);
    long after = 0;
    for (Map.Entry<String, List<LinearLayer>> e : byInput.entrySet()) {
      float amax = ranges.get(e.getKey()).range().absMax();
      float s = amax / f.max();
      s = s > 0 && Float.isFinite(s) ? s : 1f;
      // In the activation's own type (the layers' weight type): Div and Mul need one type.
      DataType own = graph.constant(e.getValue().get(0).weight()).orElseThrow().dtype();
      Tensor st = Tensor.ofFloats(ed.freshName(e.getKey() + "_scale"), own, new long[0], s);
      ed.putInitializer(st);
      String x = e.getKey();
      String div = ed.freshName(x + "_fp8_scaled");
      String q = ed.freshName(x + "_fp8");
      String back = ed.freshName(x + "_fp8_float");
      String dq = ed.freshName(x + "_fp8_dequantized");
      int at = Integer.MAX_VALUE;
      for (LinearLayer l : e.getValue()) {
        at = Math.min(at, graph.nodes().indexOf(l.node()));
      }
      Node first = graph.nodes().get(at);
      List<Node> block =
          List.of(
              Node.of(ed.freshName(x + "_fp8_Div"), "Div", List.of(x, st.name()), List.of(div)),
              Node.of(ed.freshName(x + "_fp8_Cast"), "Cast", List.of(div), List.of(q))
                  .put(Attribute.of("to", (long) f.dataType().onnxCode()))
                  .put(Attribute.of("saturate", 1L)),
              Node.of(ed.freshName(x + "_fp8_Cast_back"), "Cast", List.of(q), List.of(back))
                  .put(Attribute.of("to", (long) own.onnxCode())),
              Node.of(ed.freshName(x + "_fp8_Mul"), "Mul", List.of(back, st.name()), List.of(dq)));
      block.forEach(b -> ed.insertBefore(first, b));
      for (LinearLayer l : e.getValue()) {
        ed.setInput(l.node(), 0, dq);
      }
      layerMetrics.put(e.getKey(), "input_scale", (double) s);
    }
    List<String> touched = new ArrayList<>();
    Set<String> replaced = new HashSet<>();
    for (int i = 0; i < layers.size(); i++) {
      LinearLayer l = layers.get(i);
      Encoded e = encoded.get(i);
      int out = (int) l.outFeatures();
      int in = (int) l.inFeatures();
      byte[] stored = e.codes(); // already in the stored layout; the model keeps it
      encoded.set(i, null);
      int axis = WeightMatrix.outputAxis(l.layout());
      Tensor scale =
          Tensor.ofFloats(
              ed.freshName(l.weight() + "_fp8_scale"),
              config.perChannel() ? new long[] {out} : new long[0],
              e.scales());
      Tensor wq =
          Tensor.of(
                  ed.freshName(l.weight() + "_fp8"),
                  f.dataType(),
                  l.weightShape(),
                  ByteBuffer.wrap(stored))
              .withQuant(new QuantParams(scale, null, axis, 0));
      ed.putInitializer(wq);
      ed.putInitializer(scale);
      String dq = ed.freshName(l.weight() + "_fp8_dequantized");
      Node n =
          Node.of(
              ed.freshName(l.weight() + "_fp8_DequantizeLinear"),
              "DequantizeLinear",
              List.of(wq.name(), scale.name()),
              List.of(dq));
      if (config.perChannel()) {
        n.put(Attribute.of("axis", (long) axis));
      }
      ed.insertBefore(l.node(), n);
      DataType own = graph.constant(l.weight()).orElseThrow().dtype();
      if (own != DataType.FLOAT) {
        // f32 scales; then the weight's own type, which the layer computes in.
        String narrowed = ed.freshName(dq + "_" + own.name().toLowerCase(Locale.ROOT));
        ed.insertBefore(
            l.node(),
            Node.of(ed.freshName(l.weight() + "_fp8_Cast"), "Cast", List.of(dq), List.of(narrowed))
                .put(Attribute.of("to", (long) own.onnxCode())));
        dq = narrowed;
      }
      ed.setInput(l.node(), 1, dq);
      replaced.add(l.weight());
      after += wq.byteSize() + scale.byteSize();
      touched.add(l.name());
    }
    ed.removeUnread(replaced);
    if (before > 0) {
      metrics.put("weight_bytes_ratio", (double) after / before);
    }
    return new PassReport(
        Fp8Provider.TYPE,
        touched,
        List.of(),
        before,
        after,
        metrics,
        layerMetrics.asMap(),
        List.of(),
        Duration.ofNanos(System.nanoTime() - start));
  }
}
