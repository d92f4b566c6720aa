package dev.compress.quantization.calib;

import dev.compress.api.CompressionException;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.exec.Executor;
import dev.compress.api.exec.ForwardResult;
import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.pass.PassContext;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.quantization.format.WeightMatrix;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Calibrates transformer blocks in sequence, each on the outputs of the already-quantized blocks
 * before it (the GPTQ reference's sequential scheme, Frantar et al. 2022): for each block, the
 * model with every earlier block's weights replaced by their dequantized values is run over the
 * calibration batches on the DJL executor, capturing the inputs of the block's linear layers and
 * accumulating one {@link HessianAccumulator} per layer; the callback quantizes the block and hands
 * back dequantized weights, which replace the float weights before the next block.
 *
 * <p>Memory is bounded by one block: only its Hessians exist at a time, and activations live for
 * one batch. The price is compute: each block reruns the model's prefix up to that block (only the
 * nodes the captured layers depend on are executed, see {@link #prefix}), about half the cost of
 * {@code blocks} full forward passes in all; caching each block's inputs for all batches would save
 * that at the cost of memory.
 *
 * <p>Padded tokens (where a batch's {@code attention_mask} is 0 and the activation has one row per
 * token) are left out of the Hessian. The model is changed in place (weights of quantized blocks
 * become their dequantized values); {@link #restore} puts the originals back.
 */
public final class BlockSequentialCalibrator {
  /** Quantizes one block from its layers' Hessians. */
  @FunctionalInterface
  public interface BlockQuantizer {
    /**
     * @param block the block
     * @param hessians one accumulator per layer name, filled over all calibration batches
     * @return the dequantized weight of each layer, row-major {@code (out, in)}, by layer name
     */
    Map<String, float[]> quantize(
        TransformerBlocks.Block block, Map<String, HessianAccumulator> hessians)
        throws CompressionException;
  }

  private final ModelGraph model;
  private final PassContext context;
  private final Map<String, Tensor> originals = new LinkedHashMap<>();

  /** A calibrator that changes {@code model}'s weights in place as blocks are quantized. */
  public BlockSequentialCalibrator(ModelGraph model, PassContext context) {
    this.model = model;
    this.context = context;
  }

  /**
   * Runs every block in order.
   *
   * @throws CompressionException from the executor or the quantizer; the weights already replaced
   *     stay replaced until {@link #restore()}
   */
  public void run(
      CalibrationSet calibration, List<TransformerBlocks.Block> blocks, BlockQuantizer quantizer)
      throws CompressionException {
    for (TransformerBlocks.Block block : blocks) {
      Map<String, HessianAccumulator> hessians = capture(calibration, block.layers());
      Map<String, float[]> deq = quantizer.quantize(block, hessians);
      hessians.clear();
      for (LinearLayer l : block.layers()) {
        float[] w = deq.get(l.name());
        if (w != null) {
          replaceWeight(l, w);
        }
      }
    }
  }

  /**
   * One pass over the calibration data on the current model, accumulating the Hessian of every
   * given layer's input.
   */
  public Map<String, HessianAccumulator> capture(
      CalibrationSet calibration, List<LinearLayer> layers) throws CompressionException {
    Map<String, HessianAccumulator> hessians = new LinkedHashMap<>();
    Set<String> nodes = new LinkedHashSet<>();
    for (LinearLayer l : layers) {
      hessians.put(l.name(), new HessianAccumulator((int) l.inFeatures()));
      nodes.add(l.node().name());
    }
    try (Executor ex = context.executor(prefix(model, nodes))) {
      for (Map<String, Tensor> batch : calibration.batches()) {
        ForwardResult r = ex.forward(batch, nodes);
        for (LinearLayer l : layers) {
          List<Tensor> in = r.captured().get(l.node().name());
          int idx = l.node().inputs().indexOf(l.input());
          Tensor x = in.get(idx);
          addTokens(hessians.get(l.name()), x, batch.get("attention_mask"));
        }
      }
    }
    return hessians;
  }

  /**
   * The part of {@code model} that the inputs of {@code captureNodes} depend on, with those nodes'
   * first outputs as graph outputs; the model itself when it has subgraphs (If/Loop bodies may read
   * outer values, so nothing is pruned).
   */
  static ModelGraph prefix(ModelGraph model, Set<String> captureNodes) {
    Graph g = model.graph();
    List<Node> nodes = g.nodes();
    for (Node n : nodes) {
      for (Attribute a : n.attributes().values()) {
        if (a.type() == Attribute.Type.GRAPH || a.type() == Attribute.Type.GRAPHS) {
          return model;
        }
      }
    }
    Set<String> needed = new HashSet<>();
    boolean[] keep = new boolean[nodes.size()];
    for (int i = nodes.size() - 1; i >= 0; i--) {
      Node n = nodes.get(i);
      if (captureNodes.contains(n.name()) || n.outputs().stream().anyMatch(needed::contains)) {
        keep[i] = true;
        needed.addAll(n.inputs());
      }
    }
    Graph t = new Graph(g.name());
    List<ValueInfo> outputs = new ArrayList<>();
    for (int i = 0; i < nodes.size(); i++) {
      if (keep[i]) {
        Node n = nodes.get(i);
        t.nodes().add(n);
        if (captureNodes.contains(n.name())) {
          outputs.add(ValueInfo.tensor(n.output(0), DataType.FLOAT, null));
        }
      }
    }
    for (Tensor init : g.initializers().values()) {
      if (needed.contains(init.name())) {
        t.putInitializer(init);
      }
    }
    for (ValueInfo in : g.inputs()) {
      if (!g.initializers().containsKey(in.name()) || needed.contains(in.name())) {
        t.inputs().add(in);
      }
    }
    t.outputs().addAll(outputs);
    ModelGraph m = new ModelGraph(model.irVersion(), t);
    m.opsetImports().putAll(model.opsetImports());
    return m;
  }

  /** Adds one captured activation {@code [..., in]}, dropping padded tokens. */
  static void addTokens(HessianAccumulator h, Tensor x, Tensor mask) {
    int cols = h.cols();
    float[] v = x.toFloatArray();
    int rows = v.length / cols;
    int sequences = x.rank() >= 3 ? (int) x.dim(0) : 1;
    if (mask != null && mask.elementCount() == rows && x.rank() >= 3) {
      long[] m = mask.toLongArray();
      int kept = 0;
      for (int t = 0; t < rows; t++) {
        if (m[t] != 0) {
          if (kept != t) {
            System.arraycopy(v, t * cols, v, kept * cols, cols);
          }
          kept++;
        }
      }
      float[] dense = kept == rows ? v : java.util.Arrays.copyOf(v, kept * cols);
      h.add(dense, kept, sequences);
    } else {
      h.add(v, rows, sequences);
    }
  }

  /**
   * Replaces a layer's weight initializer with float values given in the {@code (out, in)} view.
   */
  private void replaceWeight(LinearLayer l, float[] outByIn) {
    Graph g = model.graph();
    Tensor old = g.initializers().get(l.weight());
    if (old == null) {
      throw new IllegalStateException(
          "weight " + l.weight() + " of " + l.name() + " is not an initializer");
    }
    originals.putIfAbsent(l.weight(), old);
    int out = (int) l.outFeatures();
    int in = (int) l.inFeatures();
    float[] stored = new float[outByIn.length];
    for (int o = 0; o < out; o++) {
      for (int i = 0; i < in; i++) {
        stored[WeightMatrix.storedIndex(l.layout(), out, in, o, i)] = outByIn[o * in + i];
      }
    }
    g.putInitializer(Tensor.ofFloats(l.weight(), old.shape(), stored));
  }

  /** Puts every replaced weight back. */
  public void restore() {
    Map<String, Tensor> copy = new HashMap<>(originals);
    copy.values().forEach(t -> model.graph().putInitializer(t));
    originals.clear();
  }

  /** The original tensors of the weights replaced so far, by weight name. */
  public Map<String, Tensor> originals() {
    return Map.copyOf(originals);
  }
}
