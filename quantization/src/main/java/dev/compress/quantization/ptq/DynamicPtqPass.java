package dev.compress.quantization.ptq;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.layers.LinearLayers;
import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.pipeline.PassValidation;
import dev.compress.quantization.format.QuantizedModelWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Dynamic W8A8 quantization: weights int8 per output channel ({@link Int8Weights}), activations
 * quantized at run time to uint8 with a per-tensor range computed from each input, no calibration
 * data. The pattern is ONNX Runtime's own dynamic quantization (its {@code quantize_dynamic}),
 * which it fuses into {@code com.microsoft::DynamicQuantizeMatMul} (one consumer) or {@code
 * DynamicQuantizeLinear + MatMulIntegerToFloat} (shared input, e.g. q/k/v); see {@link
 * QuantizedModelWriter#writeDynamicMatMul} for the exact nodes. MatMul layers and Gemm layers with
 * {@code alpha = beta = 1} are supported; everything is checked before the model changes.
 */
public final class DynamicPtqPass implements Pass<DynamicPtqConfig>, PassValidation {
  private final DynamicPtqConfig config;

  /** A pass for a validated config. */
  public DynamicPtqPass(DynamicPtqConfig config) {
    this.config = config;
  }

  @Override
  public DynamicPtqConfig config() {
    return config;
  }

  @Override
  public List<String> validate(ModelGraph model, List<LinearLayer> selected) {
    List<String> problems = new ArrayList<>();
    for (LinearLayer l : selected) {
      PtqLayers.check(model, l, false, true, problems);
    }
    long opset = model.opset("").orElse(1);
    if (!selected.isEmpty() && opset < 11) {
      problems.add(
          "model: DynamicQuantizeLinear needs opset >= 11; the model imports opset " + opset);
    }
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
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
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
    String type = DynamicPtqProvider.TYPE;
    context.progress().start(type, layers.size());
    QuantizedModelWriter writer = new QuantizedModelWriter(model);
    long bytesAfter = 0;
    List<String> touched = new ArrayList<>();
    for (int i = 0; i < layers.size(); i++) {
      LinearLayer l = layers.get(i);
      Int8Weights w = weights.set(i, null);
      bytesAfter += writer.writeDynamicMatMul(l, w.codes(), w.scales());
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
