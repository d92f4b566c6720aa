package dev.compress.quantization.rtn;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.layers.LinearLayer.Kind;
import dev.compress.api.layers.LinearLayer.WeightLayout;
import dev.compress.api.layers.LinearLayers;
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
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Round-to-nearest (RTN) weight-only quantization: each weight group is mapped onto the min-max
 * grid of the GPTQ reference ({@link dev.compress.quantization.grid.MinMaxGrid}) and every weight
 * rounded to its nearest grid point, with no calibration data. This is the standard data-free
 * baseline of the quantization literature (e.g. the "RTN" rows of Frantar et al. 2022, GPTQ, and
 * Lin et al. 2023, AWQ).
 *
 * <p>Storage ({@link QuantizedModelWriter}): 8 bits per channel as INT8/UINT8 codes behind a
 * per-axis {@code DequantizeLinear} (opset 13 or later); 4 bits as ONNX Runtime's {@code
 * com.microsoft::MatMulNBits}. Per-channel 4-bit uses one block covering all input features: the
 * smallest power of two of at least {@code K} (ONNX Runtime requires a power of two of at least
 * 16), the tail padded with the zero point, so per-channel means exactly one scale per output
 * channel.
 *
 * <p>Every selected layer is checked before the model changes (weight type f32; Conv only at 8 bits
 * per channel; group size dividing the input features; Gemm with {@code alpha = beta = 1} for
 * MatMulNBits; opset 13 for DequantizeLinear), then every weight is quantized (a non-finite weight
 * is an error), and only then is the graph rewritten.
 *
 * <p>Memory: each weight is read a block of rows at a time from its (memory-mapped) tensor ({@link
 * WeightMatrix#rows}), for the codes and again for the SQNR, so no f32 copy of a weight is made;
 * the heap holds the codes (a byte per weight) until they are written.
 */
public final class RtnPass implements Pass<RtnConfig>, PassValidation {
  /** Reported SQNR of a layer that quantizes exactly, instead of infinity. */
  public static final double SQNR_CAP_DB = 300;

  private final RtnConfig config;

  /** A pass for a validated config. */
  public RtnPass(RtnConfig config) {
    this.config = config;
  }

  @Override
  public RtnConfig config() {
    return config;
  }

  /** Whether linear layers are written with DequantizeLinear (8-bit per channel). */
  private boolean dequantizeLinear() {
    return config.bits() == 8 && config.granularity() == Granularity.PER_CHANNEL;
  }

  /** One weight to quantize: a linear layer's, or an embedding table. */
  private record Item(
      String name,
      LinearLayer layer,
      Node consumer,
      String weight,
      long[] shape,
      WeightLayout layout,
      int out,
      int in) {}

  @Override
  public PassReport apply(ModelGraph model, PassContext context) throws CompressionException {
    long start = System.nanoTime();
    Graph graph = model.graph();
    QuantizedLayers.Picked picked = QuantizedLayers.select(config.selection(), graph);
    List<LinearLayer> layers = picked.layers();
    List<String> problems = new ArrayList<>();
    List<Item> items = new ArrayList<>();
    for (LinearLayer layer : layers) {
      if (check(model, layer, problems)) {
        items.add(
            new Item(
                layer.name(),
                layer,
                layer.node(),
                layer.weight(),
                layer.weightShape(),
                layer.layout(),
                (int) layer.outFeatures(),
                (int) layer.inFeatures()));
      }
    }
    if (config.embeddings()) {
      items.addAll(embeddingTables(graph));
    }
    boolean tables = items.stream().anyMatch(i -> i.layer == null);
    opsetProblem(model, layers, tables, !items.isEmpty()).ifPresent(problems::add);
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }

    // Quantize everything before the graph changes, so a bad weight leaves the model untouched.
    List<QuantizedMatrix> quantized = new ArrayList<>();
    Map<String, Double> metrics = new LinkedHashMap<>();
    PassReport.LayerMetrics layerMetrics = new PassReport.LayerMetrics();
    Set<String> counted = new HashSet<>();
    long bytesBefore = 0;
    double sqnrSum = 0;
    double sqnrMin = Double.POSITIVE_INFINITY;
    for (Item it : items) {
      Tensor w = graph.constant(it.weight).orElseThrow();
      // Read a block of rows at a time from the (mapped) weight: never a whole f32 copy.
      RowSource m = WeightMatrix.rows(w, it.layout, it.out, it.in);
      int bits = it.layer == null ? 8 : config.bits();
      int group = it.layer == null ? it.in : config.effectiveGroupSize(it.in);
      QuantizedMatrix q;
      try {
        q =
            it.layer != null && config.clip() == ClipMethod.MSE
                ? ClipSearch.quantize(m, it.out, it.in, bits, group, config.symmetric())
                : QuantizedMatrix.quantize(m, it.out, it.in, bits, group, config.symmetric());
      } catch (IllegalArgumentException e) {
        problems.add("layer '" + it.name + "': weight " + it.weight + ": " + e.getMessage());
        quantized.add(null);
        continue;
      }
      quantized.add(q);
      double sqnr = Math.min(SQNR_CAP_DB, q.sqnrDb(m));
      layerMetrics.put(it.name, "sqnr_db", sqnr);
      sqnrSum += sqnr;
      sqnrMin = Math.min(sqnrMin, sqnr);
      if (counted.add(it.weight)) {
        bytesBefore += w.byteSize();
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }

    String type = RtnProvider.TYPE;
    context.progress().start(type, items.size());
    QuantizedModelWriter writer = new QuantizedModelWriter(model);
    long bytesAfter = 0;
    List<String> touched = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      Item it = items.get(i);
      QuantizedMatrix q = quantized.get(i);
      quantized.set(i, null); // let the codes go once packed
      if (it.layer == null) {
        bytesAfter +=
            writer.writeDequantizeLinear(it.consumer, 0, it.weight, it.shape, it.layout, q);
      } else if (dequantizeLinear()) {
        bytesAfter += writer.writeDequantizeLinear(it.layer, q);
      } else {
        bytesAfter +=
            writer.writeMatMulNBits(it.layer, q, blockSize(it.in), config.accuracyLevel());
      }
      touched.add(it.name);
      context.progress().step(type, i + 1, items.size(), it.name);
    }
    writer.finish();
    context.progress().finish(type);

    if (!items.isEmpty()) {
      metrics.put("sqnr_db_mean", sqnrSum / items.size());
      metrics.put("sqnr_db_min", sqnrMin);
      metrics.put("weight_bytes_ratio", bytesBefore == 0 ? 1.0 : (double) bytesAfter / bytesBefore);
    }
    return new PassReport(
        type,
        touched,
        picked.skipped(),
        bytesBefore,
        bytesAfter,
        metrics,
        layerMetrics.asMap(),
        List.of(),
        Duration.ofNanos(System.nanoTime() - start));
  }

  /** The MatMulNBits block size for a layer with {@code in} input features. */
  private int blockSize(int in) {
    return config.granularity() == Granularity.PER_CHANNEL
        ? MatMulNBitsLayout.perChannelBlockSize(in)
        : config.groupSize();
  }

  /** Adds the layer's problems; true when it has none. */
  /** What {@link #apply} would refuse about the opset: DequantizeLinear per axis needs 13. */
  private Optional<String> opsetProblem(
      ModelGraph model, List<LinearLayer> layers, boolean tables, boolean any) {
    if (!tables && !(dequantizeLinear() && any)) {
      return Optional.empty();
    }
    // The embedding tables are always 8-bit per row behind DequantizeLinear.
    String key = dequantizeLinear() ? "model: " : "embeddings: ";
    // bits=4 helps the layers, never the tables
    return QuantizedModelWriter.dequantizeLinearProblem(
            model, layers, tables ? null : "bits=4 with granularity PER_GROUP")
        .map(p -> key + p);
  }

  /** The per-layer checks of {@link #apply} and its opset check (embedding tables aside). */
  @Override
  public List<String> validate(ModelGraph model, List<LinearLayer> selected) {
    List<String> problems = new ArrayList<>();
    boolean any = false;
    for (LinearLayer layer : selected) {
      any |= check(model, layer, problems);
    }
    opsetProblem(model, selected, false, any).ifPresent(problems::add);
    return problems;
  }

  /** Every layer it selects ends quantized. */
  @Override
  public List<String> compresses(List<LinearLayer> selected) {
    return selected.stream().map(LinearLayer::name).toList();
  }

  /** Already-quantized layers it selects are skipped (mixed precision by selector). */
  @Override
  public boolean skipsCompressedLayers() {
    return true;
  }

  private boolean check(ModelGraph model, LinearLayer layer, List<String> problems) {
    int before = problems.size();
    String where = "layer '" + layer.name() + "': ";
    Optional<Tensor> w = model.graph().constant(layer.weight());
    if (w.isEmpty()) {
      problems.add(where + "weight " + layer.weight() + " is not a constant");
    } else if (!WeightMatrix.FLOAT_TYPES.contains(w.get().dtype())) {
      problems.add(
          where
              + "weight "
              + layer.weight()
              + " is "
              + w.get().dtype()
              + "; RTN quantizes FLOAT, FLOAT16 and BFLOAT16 weights only");
    }
    if (layer.weightElements() > Integer.MAX_VALUE - 8) {
      problems.add(where + "weight has " + layer.weightElements() + " elements, too many");
    }
    String found =
        "found bits="
            + config.bits()
            + " "
            + config.granularity()
            + (config.granularity() == Granularity.PER_GROUP ? " g" + config.groupSize() : "");
    if (layer.kind() == Kind.CONV && !dequantizeLinear()) {
      problems.add(
          where + "a Conv weight can only be quantized to bits=8 PER_CHANNEL here; " + found);
      return false;
    } else if (!dequantizeLinear()) {
      QuantizedModelWriter.matMulNBitsProblem(layer, blockSize((int) layer.inFeatures()))
          .ifPresent(p -> problems.add(where + p));
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
    }
    return problems.size() == before;
  }

  /** Gather nodes reading a constant f32 {@code [rows, dim]} table on axis 0. */
  private static List<Item> embeddingTables(Graph graph) {
    List<Item> out = new ArrayList<>();
    for (Node n : graph.nodes()) {
      if (!n.domain().isEmpty() || !n.opType().equals("Gather") || n.intAttr("axis", 0) != 0) {
        continue;
      }
      Optional<Tensor> t = graph.constant(n.input(0));
      if (t.isEmpty()
          || t.get().dtype() != DataType.FLOAT
          || t.get().rank() != 2
          || t.get().elementCount() == 0
          || t.get().elementCount() > Integer.MAX_VALUE - 8) {
        continue;
      }
      Tensor table = t.get();
      out.add(
          new Item(
              LinearLayers.nameOf(n),
              null,
              n,
              n.input(0),
              table.shape(),
              WeightLayout.OUT_IN,
              (int) table.dim(0),
              (int) table.dim(1)));
    }
    return out;
  }
}
