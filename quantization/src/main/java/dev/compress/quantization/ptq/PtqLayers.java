package dev.compress.quantization.ptq;

import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.layers.LinearLayer.Kind;
import dev.compress.api.layers.LinearLayer.WeightLayout;
import dev.compress.api.layers.LinearLayers;
import dev.compress.api.pass.PassReport;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.quantization.format.QuantizedModelWriter;
import dev.compress.quantization.format.WeightMatrix;
import dev.compress.quantization.grid.RowSource;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** What the W8A8 passes share: layer checks, weight quantization, embedding tables. */
final class PtqLayers {
  private PtqLayers() {}

  /** Help text of the {@code reduceRange} key of both W8A8 passes. */
  static final String REDUCE_RANGE_HELP =
      "weights in 7 bits (codes -63..63) instead of 8: ONNX Runtime's u8s8 integer kernels on x86"
          + " CPUs without VNNI (AVX2 only, e.g. AMD before Zen 4, Intel before Cascade Lake)"
          + " saturate sums of two 8-bit products at 16 bits, and 7-bit weights cannot; costs"
          + " about 6 dB of weight SQNR";

  static final String EMBEDDING_BITS_HELP =
      "with embeddings: 8 (int8 per row) or 4 (blocks along each row, GatherBlockQuantized)";

  static final String EMBEDDING_BLOCK_HELP =
      "with embeddingBits 4: values per scale along a row, a power of two >= 16 dividing the"
          + " table width";

  static final int DEFAULT_EMBEDDING_BLOCK = 32;

  /** Adds the problems of the {@code embeddingBits}/{@code embeddingBlockSize} keys. */
  static void validateEmbeddings(int bits, int blockSize, List<String> problems) {
    if (bits != 8 && bits != 4) {
      problems.add("embeddingBits must be 8 or 4, found " + bits);
    }
    if (blockSize < 16 || Integer.bitCount(blockSize) != 1) {
      problems.add("embeddingBlockSize must be a power of two >= 16, found " + blockSize);
    }
  }

  /** Adds a problem for each table whose width {@code blockSize} does not divide (4-bit only). */
  static void checkTables(Graph graph, int bits, int blockSize, List<String> problems) {
    if (bits != 4) {
      return;
    }
    for (Table t : tables(graph)) {
      long dim = t.table().dim(1);
      if (dim % blockSize != 0) {
        problems.add(
            "embedding table '"
                + t.table().name()
                + "' has "
                + dim
                + " columns, not a multiple of embeddingBlockSize "
                + blockSize);
      }
    }
  }

  /**
   * Adds the problems of quantizing {@code layer}'s weight and input to 8 bits: a constant f32
   * (with {@code halfWeights} also f16 or bf16) weight of a MatMul, or a Gemm with {@code alpha =
   * beta = 1}; a named node (calibration captures by node name).
   */
  static void check(
      ModelGraph model,
      LinearLayer layer,
      boolean needsName,
      boolean halfWeights,
      List<String> problems) {
    String where = "layer '" + layer.name() + "': ";
    Optional<Tensor> w = model.graph().constant(layer.weight());
    if (w.isEmpty()) {
      problems.add(where + "weight " + layer.weight() + " is not a constant");
    } else if (halfWeights
        ? !WeightMatrix.FLOAT_TYPES.contains(w.get().dtype())
        : w.get().dtype() != DataType.FLOAT) {
      problems.add(
          where
              + "weight "
              + layer.weight()
              + " is "
              + w.get().dtype()
              + (halfWeights ? "; only f32, f16 and bf16 weights" : "; only f32 weights"));
    }
    if (layer.kind() == Kind.CONV) {
      problems.add(
          where
              + "a Conv cannot take an 8-bit activation here (MatMul and Gemm only). HINT: add it"
              + " to ignore");
    }
    if (layer.kind() == Kind.GEMM) {
      Node n = layer.node();
      if (n.floatAttr("alpha", 1f) != 1f
          || (!n.input(2).isEmpty() && n.floatAttr("beta", 1f) != 1f)) {
        problems.add(where + "a Gemm with alpha or beta other than 1 is not supported");
      }
    }
    if (needsName && layer.nameSynthesized()) {
      problems.add(
          where + "the node has no name, and calibration captures activations by node name");
    }
  }

  /**
   * The selected layers' weights quantized to int8, in layer order, with each layer's SQNR put into
   * {@code metrics} as {@code weight_sqnr_db}. A weight that cannot be quantized adds a problem
   * (naming the layer and the weight) instead of throwing, so that every bad weight is reported at
   * once.
   *
   * @return the quantized weights (only those that succeeded), the bytes of the distinct original
   *     weights and the sum of the SQNRs
   */
  static QuantizedWeights quantizeAll(
      Graph graph,
      List<LinearLayer> layers,
      boolean reduceRange,
      PassReport.LayerMetrics metrics,
      List<String> problems) {
    List<Int8Weights> weights = new ArrayList<>();
    long bytesBefore = 0;
    Set<String> counted = new HashSet<>();
    double sqnrSum = 0;
    for (LinearLayer l : layers) {
      Tensor t = graph.constant(l.weight()).orElseThrow();
      // A block of rows at a time from the (mapped) weight: never a whole f32 copy.
      RowSource m = WeightMatrix.rows(t, l.layout(), (int) l.outFeatures(), (int) l.inFeatures());
      Int8Weights w;
      try {
        w =
            Int8Weights.quantize(
                m, (int) l.outFeatures(), (int) l.inFeatures(), reduceRange ? 63 : 127);
      } catch (IllegalArgumentException e) {
        problems.add("layer '" + l.name() + "': weight " + l.weight() + ": " + e.getMessage());
        continue;
      }
      weights.add(w);
      if (counted.add(l.weight())) {
        bytesBefore += t.byteSize();
      }
      double sqnr = w.sqnrDb(m);
      metrics.put(l.name(), "weight_sqnr_db", sqnr);
      sqnrSum += sqnr;
    }
    return new QuantizedWeights(weights, bytesBefore, sqnrSum);
  }

  /** What {@link #quantizeAll} returns. */
  record QuantizedWeights(List<Int8Weights> weights, long bytesBefore, double sqnrSum) {}

  /** Layers grouped by the activation value they read, in graph order. */
  static Map<String, List<LinearLayer>> byInput(List<LinearLayer> layers) {
    Map<String, List<LinearLayer>> m = new LinkedHashMap<>();
    for (LinearLayer l : layers) {
      m.computeIfAbsent(l.input(), k -> new ArrayList<>()).add(l);
    }
    return m;
  }

  /** An embedding table: a Gather on axis 0 of a constant f32 {@code [rows, dim]}. */
  record Table(String name, Node gather, Tensor table) {}

  /** The embedding tables of {@code graph}. */
  static List<Table> tables(Graph graph) {
    List<Table> out = new ArrayList<>();
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
      out.add(new Table(LinearLayers.nameOf(n), n, t.get()));
    }
    return out;
  }

  /**
   * Writes each table as int8 per row, dequantizing only the gathered rows ({@link
   * QuantizedModelWriter#writeGatherDequantized}), or with {@code bits} 4 as symmetric 4-bit blocks
   * of {@code blockSize} along each row ({@link QuantizedModelWriter#writeGatherBlockQuantized4}).
   *
   * @return bytes before and after, as {@code {before, after}}
   */
  static long[] writeTables(
      QuantizedModelWriter writer, List<Table> tables, int bits, int blockSize) {
    long before = 0;
    long after = 0;
    Set<String> counted = new HashSet<>();
    for (Table t : tables) {
      int rows = (int) t.table().dim(0);
      int dim = (int) t.table().dim(1);
      if (counted.add(t.table().name())) {
        before += t.table().byteSize();
      }
      if (bits == 4) {
        BlockQuantizedRows q =
            BlockQuantizedRows.quantize(
                WeightMatrix.rows(t.table(), WeightLayout.OUT_IN, rows, dim), rows, dim, blockSize);
        after +=
            writer.writeGatherBlockQuantized4(
                t.gather(), q.packed(), q.scales(), rows, dim, blockSize);
        continue;
      }
      Int8Weights q =
          Int8Weights.quantize(
              WeightMatrix.rows(t.table(), WeightLayout.OUT_IN, rows, dim), rows, dim);
      after += writer.writeGatherDequantized(t.gather(), q.codes(), q.scales());
    }
    return new long[] {before, after};
  }
}
