package dev.compress.quantization.gptq;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.FloatPrecision;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.layers.LinearLayer.Kind;
import dev.compress.api.layers.LinearLayers;
import dev.compress.api.layers.TransformerBlocks;
import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.pipeline.PassValidation;
import dev.compress.api.tensor.Tensor;
import dev.compress.calibration.blocks.BlockSequentialCalibrator;
import dev.compress.calibration.hessian.HessianAccumulator;
import dev.compress.quantization.format.QuantizedModelWriter;
import dev.compress.quantization.format.WeightMatrix;
import dev.compress.quantization.grid.GroupQuantizedWeight;
import dev.compress.quantization.grid.QuantizedMatrix;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.IntStream;

/**
 * GPTQ weight quantization of a model (Frantar et al. 2022, arXiv:2210.17323): transformer blocks
 * in sequence, each calibrated on the outputs of the already-quantized blocks before it ({@link
 * BlockSequentialCalibrator}), every layer of a block quantized by {@link GptqQuantizer} from its
 * Hessian. Blocks are found from node names ({@link GptqConfig#blockPattern()}); with none found,
 * layers are calibrated one at a time in graph order, and the report says so.
 *
 * <p>ONNX output ({@link QuantizedModelWriter}), so that ONNX Runtime runs it:
 *
 * <ul>
 *   <li>groups and {@code bits <= 4}: {@code com.microsoft::MatMulNBits} with 4-bit blocks of
 *       {@code groupSize}; fewer bits are stored exactly in the 4-bit container (codes below {@code
 *       2^bits}, explicit zero points);
 *   <li>per channel ({@code groupSize 0}): 8-bit codes behind a per-axis {@code DequantizeLinear}
 *       (fewer bits stored exactly in the 8-bit container with explicit zero points);
 *   <li>act-order without static groups: the groups are contiguous in the order the columns were
 *       quantized, not in the original order. MatMulNBits blocks must be contiguous in {@code K}
 *       (its {@code g_idx} input is deprecated), so the weight is stored with its input features
 *       sorted by group and a {@code Gather(A, perm, axis=-1)} reorders the activation to match:
 *       exact, at the cost of one gather per layer at run time. Static groups need no gather.
 * </ul>
 *
 * <p>Everything is checked before calibration starts (every offending layer listed); a failure
 * during calibration (a Hessian that stays singular) restores the original weights.
 */
public final class GptqPass implements Pass<GptqConfig>, PassValidation {
  private final GptqConfig config;

  /** A pass for a validated config. */
  public GptqPass(GptqConfig config) {
    this.config = config;
  }

  @Override
  public GptqConfig config() {
    return config;
  }

  @Override
  public PassReport apply(ModelGraph model, PassContext context) throws CompressionException {
    long start = System.nanoTime();
    List<PassReport.Note> notes = Collections.synchronizedList(new ArrayList<>());
    Map<String, GroupQuantizedWeight> results = new LinkedHashMap<>();
    Graph graph = model.graph();
    List<LinearLayer> layers = config.selection().select(LinearLayers.of(graph));
    List<String> problems = new ArrayList<>(validate(model, layers));
    if (context.calibration().isEmpty()) {
      problems.add(
          "gptq needs calibration data: add a calibration block to the pipeline (e.g. kind: text,"
              + " source: builtin:calibration-text)");
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    CalibrationSet calibration = context.calibration().orElseThrow();
    List<TransformerBlocks.Block> blocks = TransformerBlocks.of(layers, config.blockPattern());
    long matched = blocks.stream().filter(TransformerBlocks.Block::matched).count();
    if (matched == 0 && !layers.isEmpty()) {
      notes.add(
          PassReport.Note.info(
              "no transformer blocks found by blockPattern "
                  + config.blockPattern()
                  + "; calibrating "
                  + layers.size()
                  + " layers one at a time in graph order"));
    } else {
      notes.add(
          PassReport.Note.info(
              matched
                  + " transformer blocks found by blockPattern; "
                  + (blocks.size() - matched)
                  + " layers outside any block calibrated on their own"));
    }

    Map<String, Double> metrics = new LinkedHashMap<>();
    PassReport.LayerMetrics layerMetrics = new PassReport.LayerMetrics();
    Map<String, Tensor> originalWeights = new LinkedHashMap<>();
    for (LinearLayer l : layers) {
      originalWeights.put(l.name(), graph.initializers().get(l.weight()));
    }
    String type = GptqProvider.TYPE;
    context.progress().start(type, layers.size());
    int[] done = {0};
    BlockSequentialCalibrator calibrator = new BlockSequentialCalibrator(model, context);
    try {
      calibrator.run(
          calibration,
          blocks,
          (block, hessians) -> {
            Map<String, float[]> deq = new HashMap<>();
            for (LinearLayer l : block.layers()) {
              HessianAccumulator acc = hessians.get(l.name());
              int out = (int) l.outFeatures();
              int in = (int) l.inFeatures();
              if (acc.tokens() < in) {
                notes.add(
                    PassReport.Note.warning(
                        l.name(),
                        "fewer calibration tokens than columns: "
                            + acc.tokens()
                            + " calibration tokens for "
                            + in
                            + " input features; the Hessian is rank-deficient and relies on"
                            + " damping. HINT: use more calibration samples"));
                layerMetrics.put(l.name(), "calibration_tokens", (double) acc.tokens());
              }
              float[] w = WeightMatrix.outByIn(originalWeights.get(l.name()), l.layout(), out, in);
              GptqQuantizer.Result r;
              try {
                r = GptqQuantizer.quantize(l.name(), w, out, in, acc.take(), config);
              } catch (GptqQuantizer.SingularHessianException | IllegalArgumentException e) {
                throw new ConfigException(e.getMessage());
              }
              results.put(l.name(), r.weight());
              float[] dq = r.weight().dequantize();
              deq.put(l.name(), dq);
              layerMetrics.put(l.name(), "gptq_loss", r.loss());
              layerMetrics.put(l.name(), "sqnr_db", Math.min(300, sqnrDb(w, dq)));
              if (r.dampPercent() != config.dampPercent()) {
                layerMetrics.put(l.name(), "damp_percent", r.dampPercent());
                notes.add(
                    PassReport.Note.info(
                        l.name(), "damping escalated to " + r.dampPercent() + " x mean(diag H)"));
              }
              if (r.deadColumns() > 0) {
                layerMetrics.put(l.name(), "dead_columns", (double) r.deadColumns());
              }
              context.progress().step(type, ++done[0], layers.size(), l.name());
            }
            return deq;
          });
    } catch (CompressionException | RuntimeException e) {
      calibrator.restore();
      throw e;
    }
    calibrator.restore(); // the writer reads the original weights' names, shapes and sizes

    QuantizedModelWriter writer = new QuantizedModelWriter(model);
    long before = 0;
    long after = 0;
    List<String> touched = new ArrayList<>();
    double sqnrSum = 0;
    for (LinearLayer l : layers) {
      before += originalWeights.get(l.name()).byteSize();
      after += write(model, writer, l, results.get(l.name()));
      touched.add(l.name());
      sqnrSum += layerMetrics.get(l.name(), "sqnr_db").orElseThrow();
    }
    writer.finish();
    context.progress().finish(type);
    if (!layers.isEmpty()) {
      metrics.put("sqnr_db_mean", sqnrSum / layers.size());
      metrics.put("weight_bytes_ratio", before == 0 ? 1.0 : (double) after / before);
      metrics.put("blocks", (double) matched);
    }
    return new PassReport(
        type,
        touched,
        List.of(),
        before,
        after,
        metrics,
        layerMetrics.asMap(),
        notes,
        Duration.ofNanos(System.nanoTime() - start));
  }

  private static double sqnrDb(float[] w, float[] q) {
    double s = 0;
    double n = 0;
    for (int i = 0; i < w.length; i++) {
      double d = (double) w[i] - q[i];
      s += (double) w[i] * w[i];
      n += d * d;
    }
    return n == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(s / n);
  }

  /** Writes one layer in its ONNX format; returns the bytes added. */
  private long write(
      ModelGraph model, QuantizedModelWriter writer, LinearLayer l, GroupQuantizedWeight q) {
    int rows = q.rows();
    int cols = q.cols();
    byte[] codes = new byte[rows * cols];
    if (config.groupSize() == 0) {
      QuantizedMatrix m = container(q, 8, cols, codes);
      return writer.writeDequantizeLinear(l, m);
    }
    int[] perm = null;
    GroupQuantizedWeight w = q;
    if (!q.contiguous()) {
      int[] g = q.gIdx();
      perm =
          IntStream.range(0, cols)
              .boxed()
              .sorted((a, b) -> g[a] != g[b] ? Integer.compare(g[a], g[b]) : Integer.compare(a, b))
              .mapToInt(Integer::intValue)
              .toArray();
      w = q.permuteColumns(perm);
    }
    QuantizedMatrix m = container(w, 4, config.groupSize(), codes);
    long added = writer.writeMatMulNBits(l, m, config.groupSize(), config.accuracyLevel());
    if (perm != null) {
      Graph graph = model.graph();
      Node n = l.node();
      String base = l.name().replaceAll("[^A-Za-z0-9_./-]", "_");
      String permName = base + "_act_order_perm";
      String gathered = base + "_act_order_input";
      long[] idx = new long[cols];
      for (int j = 0; j < cols; j++) {
        idx[j] = perm[j];
      }
      graph.putInitializer(Tensor.ofLongs(permName, new long[] {cols}, idx));
      Node gather =
          Node.of(
              base + "_act_order_Gather",
              "Gather",
              List.of(n.input(0), permName),
              List.of(gathered));
      gather.put(Attribute.of("axis", -1L));
      graph.nodes().add(graph.nodes().indexOf(n), gather);
      n.inputs().set(0, gathered);
      added += 8L * cols;
    }
    return added;
  }

  /** The weight's codes in a {@code containerBits} container (codes unchanged). */
  private static QuantizedMatrix container(
      GroupQuantizedWeight q, int containerBits, int group, byte[] codes) {
    int rows = q.rows();
    int cols = q.cols();
    int groups = q.groups();
    float[] scales = new float[rows * groups];
    int[] zeros = new int[rows * groups];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        codes[r * cols + c] = (byte) q.code(r, c);
      }
      for (int g = 0; g < groups; g++) {
        scales[r * groups + g] = q.scale(r, g);
        zeros[r * groups + g] = q.zero(r, g);
      }
    }
    boolean sym = q.symmetric() && q.bits() == containerBits;
    return QuantizedMatrix.of(rows, cols, containerBits, group, sym, codes, scales, zeros);
  }

  /**
   * Every layer problem {@link #apply} refuses, found before any calibration: unsupported layers,
   * group sizes that do not divide a layer's input features, formats ONNX Runtime cannot run,
   * weights shared between layers.
   */
  @Override
  public List<String> validate(ModelGraph model, List<LinearLayer> selected) {
    List<String> problems = new ArrayList<>();
    Map<String, String> weightOwner = new HashMap<>();
    for (LinearLayer layer : selected) {
      check(model, layer, problems);
      String prev = weightOwner.putIfAbsent(layer.weight(), layer.name());
      if (prev != null) {
        problems.add(
            "layer '"
                + layer.name()
                + "': weight "
                + layer.weight()
                + " is shared with layer '"
                + prev
                + "'; GPTQ needs one Hessian per weight. HINT: add one of them to ignore");
      }
    }
    FloatPrecision.bfloat16Problem(
            "GPTQ calibrates", model.graph(), selected.stream().map(LinearLayer::weight).toList())
        .ifPresent(problems::add);
    return problems;
  }

  @Override
  public List<String> compresses(List<LinearLayer> selected) {
    return selected.stream().map(LinearLayer::name).toList();
  }

  /** Adds the layer's problems. */
  private void check(ModelGraph model, LinearLayer layer, List<String> problems) {
    String where = "layer '" + layer.name() + "': ";
    Optional<Tensor> w = Optional.ofNullable(model.graph().initializers().get(layer.weight()));
    if (w.isEmpty()) {
      problems.add(
          where
              + "weight "
              + layer.weight()
              + " is not an initializer (GPTQ replaces initializers)");
    } else if (!WeightMatrix.FLOAT_TYPES.contains(w.get().dtype())) {
      problems.add(
          where
              + "weight "
              + layer.weight()
              + " is "
              + w.get().dtype()
              + "; GPTQ quantizes FLOAT and FLOAT16 weights only");
    }
    if (layer.nameSynthesized()) {
      problems.add(where + "the node has no name, so its input cannot be captured for calibration");
    }
    if (layer.kind() == Kind.CONV) {
      problems.add(where + "Conv layers are not supported by GPTQ here; add it to ignore");
      return;
    }
    if (layer.kind() == Kind.GEMM && layer.node().intAttr("transA", 0) != 0) {
      problems.add(where + "Gemm with transA=1 is not supported");
    }
    long in = layer.inFeatures();
    if (config.groupSize() > 0 && in % config.groupSize() != 0) {
      problems.add(
          where
              + "groupSize "
              + config.groupSize()
              + " does not divide its "
              + in
              + " input features");
    }
    if (config.groupSize() == 0) {
      QuantizedModelWriter.dequantizeLinearProblem(
              model, List.of(layer), "groupSize 32, 64 or 128 with bits <= 4")
          .ifPresent(p -> problems.add(where + p));
    } else if (config.bits() > 4) {
      problems.add(
          where
              + "bits="
              + config.bits()
              + " with groupSize "
              + config.groupSize()
              + " has no ONNX Runtime format here (MatMulNBits runs 4-bit blocks). HINT: use"
              + " bits <= 4, or groupSize 0 (per channel, DequantizeLinear)");
    } else {
      QuantizedModelWriter.matMulNBitsProblem(layer, config.groupSize())
          .ifPresent(p -> problems.add(where + p));
    }
    if (config.actOrder()
        && !config.staticGroups()
        && config.groupSize() > 0
        && model.opset("").orElse(1) < 11) {
      problems.add(
          where
              + "act-order without static groups needs Gather with axis=-1 (opset >= 11). HINT: set staticGroups: true");
    }
  }
}
