package dev.compress.quantization.ptq;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.graph.FloatPrecision;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.layers.LinearLayers;
import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.pipeline.PassValidation;
import dev.compress.api.tensor.DataType;
import dev.compress.quantization.format.QuantizedModelWriter;
import dev.compress.quantization.observer.ActivationGranularity;
import dev.compress.quantization.observer.ActivationQuantParams;
import dev.compress.quantization.observer.Observer;
import dev.compress.quantization.observer.Observers;
import dev.compress.quantization.observer.Range;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Static W8A8 post-training quantization: activation ranges calibrated once on calibration data,
 * weights int8 per output channel, written as ONNX QDQ that ONNX Runtime executes with integer
 * kernels. The standard static recipe of integer-only inference (Jacob et al. 2018, "Quantization
 * and Training of Neural Networks for Efficient Integer-Arithmetic-Only Inference"; observers as in
 * PyTorch's quantization and TensorRT's entropy calibration, see {@link Observers}).
 *
 * <p>For each selected layer reading activation {@code x} (a MatMul, or a Gemm with {@code alpha =
 * beta = 1}):
 *
 * <pre>
 *   x -> QuantizeLinear(x, s_x, zp_x) -> DequantizeLinear(., s_x, zp_x) -> MatMul(., W')   (+ bias Add)
 *   W' = DequantizeLinear(W_q INT8 [K, N], s_w f32 [N], axis = 1)    (no zero point: symmetric)
 * </pre>
 *
 * {@code s_x} is a scalar f32, {@code zp_x} a scalar UINT8 (asymmetric, default) or INT8 0 ({@code
 * activationSymmetric}); one Q/DQ pair per activation value, shared by the layers that read it (q,
 * k and v). A Gemm weight {@code [N, K]} ({@code transB = 1}) is stored in its own layout with
 * {@code axis = 0}. Weights follow {@link Int8Weights}. ONNX Runtime fuses each MatMul group into
 * {@code com.microsoft::MatMulIntegerToFloat} (u8/s8 integer GEMM, then one f32 scale per output
 * column). Per-axis {@code DequantizeLinear} needs opset 13.
 *
 * <p>Everything is checked before the model changes: every selected layer, the opset, the
 * calibration data; then the weights are quantized and activations calibrated on the float model
 * (the DJL executor capturing the inputs of the selected layers, padding tokens masked out), and
 * only then is the graph rewritten.
 *
 * <p>FLOAT16 weights (a half-precision model): activations are calibrated on a float copy of the
 * model ({@link FloatPrecision#widened}); each quantized activation is widened to f32 for its Q/DQ
 * pair and cast back to the weight's type, and each weight's {@code DequantizeLinear} is followed
 * by a {@code Cast} to it, so the layers still compute in the model's own type. BFLOAT16 weights
 * are refused before calibration (DJL's PyTorch engine aborts on them).
 */
public final class StaticPtqPass implements Pass<StaticPtqConfig>, PassValidation {
  private final StaticPtqConfig config;

  /** A pass for a validated config. */
  public StaticPtqPass(StaticPtqConfig config) {
    this.config = config;
  }

  @Override
  public StaticPtqConfig config() {
    return config;
  }

  /**
   * Every selected layer (a MatMul or a plain Gemm with a constant f32 or f16 weight and a node
   * name), per-axis {@code DequantizeLinear} in the model's opset, and no bf16 weight.
   */
  @Override
  public List<String> validate(ModelGraph model, List<LinearLayer> selected) {
    List<String> problems = new ArrayList<>();
    for (LinearLayer l : selected) {
      PtqLayers.check(model, l, true, true, problems);
    }
    if (!selected.isEmpty()) {
      QuantizedModelWriter.dequantizeLinearProblem(model)
          .ifPresent(p -> problems.add("model: " + p));
    }
    FloatPrecision.bfloat16Problem(
            StaticPtqProvider.TYPE + " calibrates activation ranges",
            model.graph(),
            selected.stream().map(LinearLayer::weight).toList())
        .ifPresent(problems::add);
    if (config.embeddings()) {
      PtqLayers.checkTables(
          model.graph(), config.embeddingBits(), config.embeddingBlockSize(), problems);
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
    List<LinearLayer> layers = config.selection().select(LinearLayers.of(graph));
    List<String> problems = new ArrayList<>(validate(model, layers));
    if (context.calibration().isEmpty()) {
      problems.add(
          StaticPtqProvider.TYPE
              + " calibrates activation ranges and needs calibration data: add a calibration"
              + " block to the pipeline");
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    CalibrationSet calibration = context.calibration().orElseThrow();

    // Weights first: a bad weight fails before any calibration time is spent.
    Map<String, Double> metrics = new LinkedHashMap<>();
    PassReport.LayerMetrics layerMetrics = new PassReport.LayerMetrics();
    PtqLayers.QuantizedWeights q =
        PtqLayers.quantizeAll(graph, layers, config.reduceRange(), layerMetrics, problems);
    List<Int8Weights> weights = new ArrayList<>(q.weights());
    long bytesBefore = q.bytesBefore();
    double sqnrSum = q.sqnrSum();
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }

    Map<String, List<LinearLayer>> byInput = PtqLayers.byInput(layers);
    Map<String, String> capture = new LinkedHashMap<>();
    byInput.forEach((v, ls) -> capture.put(v, ls.get(0).name()));
    Map<String, Observer> observed =
        ActivationCalibrator.observe(
            context,
            FloatPrecision.widened(model),
            FloatPrecision.widened(calibration),
            capture,
            () ->
                Observers.create(
                    config.observer(),
                    ActivationGranularity.PER_TENSOR,
                    config.percentile(),
                    config.averagingConstant(),
                    config.activationSymmetric()),
            StaticPtqProvider.TYPE);

    String type = StaticPtqProvider.TYPE;
    context.progress().start(type, layers.size());
    QuantizedModelWriter writer = new QuantizedModelWriter(model);
    long bytesAfter = 0;
    for (Map.Entry<String, List<LinearLayer>> e : byInput.entrySet()) {
      Range r = observed.get(e.getKey()).range();
      ActivationQuantParams p = ActivationQuantParams.of(r, config.activationSymmetric());
      List<Node> consumers = e.getValue().stream().map(LinearLayer::node).toList();
      // The activation's type: that of the layers' weights, which they compute in.
      DataType own = graph.constant(e.getValue().get(0).weight()).orElseThrow().dtype();
      bytesAfter +=
          writer.writeActivationQdq(
              e.getKey(), p.scale(), p.zeroPoint(), config.activationSymmetric(), consumers, own);
      for (LinearLayer l : e.getValue()) {
        layerMetrics.put(l.name(), "input_min", (double) r.min());
        layerMetrics.put(l.name(), "input_max", (double) r.max());
        layerMetrics.put(l.name(), "input_scale", (double) p.scale());
      }
    }
    List<String> touched = new ArrayList<>();
    for (int i = 0; i < layers.size(); i++) {
      LinearLayer l = layers.get(i);
      bytesAfter += writer.writeDequantizeLinear(l, weights.get(i).toQuantizedMatrix());
      weights.set(i, null);
      touched.add(l.name());
      context.progress().step(type, i + 1, layers.size(), l.name());
    }
    if (config.embeddings()) {
      List<PtqLayers.Table> tables = PtqLayers.tables(graph);
      long[] b =
          PtqLayers.writeTables(
              writer, tables, config.embeddingBits(), config.embeddingBlockSize());
      bytesBefore += b[0];
      bytesAfter += b[1];
      tables.forEach(t -> touched.add(t.name()));
    }
    writer.finish();
    context.progress().finish(type);
    if (!layers.isEmpty()) {
      metrics.put("weight_sqnr_db_mean", sqnrSum / layers.size());
      metrics.put("activation_tensors", (double) byInput.size());
    }
    if (bytesBefore > 0) {
      metrics.put("weight_bytes_ratio", (double) bytesAfter / bytesBefore);
    }
    return new PassReport(
        type,
        touched,
        List.of(),
        bytesBefore,
        bytesAfter,
        metrics,
        layerMetrics.asMap(),
        List.of(),
        Duration.ofNanos(System.nanoTime() - start));
  }
}
