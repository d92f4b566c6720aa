package dev.compress.calibration.blocks;

import dev.compress.api.CompressionException;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.exec.Executor;
import dev.compress.api.exec.ForwardResult;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.layers.TransformerBlocks;
import dev.compress.api.pass.PassContext;
import dev.compress.api.tensor.Tensor;
import dev.compress.calibration.activation.ActivationCapture;
import dev.compress.calibration.activation.TokenRows;
import dev.compress.calibration.hessian.HessianAccumulator;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Calibrates transformer blocks in sequence, each on the outputs of the already-compressed blocks
 * before it (the GPTQ reference's sequential scheme, Frantar et al. 2022), in time linear in depth:
 *
 * <ol>
 *   <li>The graph is cut into segments at the first layer of each block (blocks whose layers
 *       interleave share a segment). Per calibration batch, the values a segment reads from before
 *       it (the hidden state, the attention mask as the model prepared it) are cached; at the start
 *       they are the batch itself.
 *   <li>For each block of the segment, the segment's nodes that its layers depend on run on the
 *       context's engine ({@link PassContext#executor}) over the cached inputs of every batch,
 *       capturing the layers' inputs into one {@link HessianAccumulator} per distinct input (q, k
 *       and v read one value and share one Hessian); the callback compresses the block and hands
 *       back its new weights, which replace the float weights in the model.
 *   <li>The segment then runs once more, with the block's new weights, to produce the cached inputs
 *       of the next segment, as the reference reruns each layer after quantizing it.
 * </ol>
 *
 * <p>So each segment runs (blocks in it + 1) times, whatever its depth. The same operators run on
 * the same values as when the whole prefix runs, batch by batch with the same batching, so the
 * Hessians are the same floats. Models with control-flow subgraphs (If/Loop bodies may read outer
 * values) are not cut: each block then runs the whole model.
 *
 * <p>Memory: the Hessians of one block, plus for every calibration batch the values live at the
 * current segment boundary (for an encoder, the hidden state: tokens x hidden x 4 bytes in all).
 *
 * <p>Padded tokens are left out of the Hessian ({@link TokenRows}). The model is changed in place
 * (weights of compressed blocks become their new values); {@link #restore} puts the originals back.
 */
public final class BlockSequentialCalibrator {
  /** Compresses one block from its layers' Hessians. */
  @FunctionalInterface
  public interface BlockCompressor {
    /**
     * @param block the block
     * @param hessians one accumulator per layer name, filled over all calibration batches; layers
     *     reading the same input share one (its {@link HessianAccumulator#take()} copies for all
     *     but the last)
     * @return the new float weight of each layer, row-major {@code (out, in)}, by layer name; a
     *     layer left out keeps its weight
     */
    Map<String, float[]> compress(
        TransformerBlocks.Block block, Map<String, HessianAccumulator> hessians)
        throws CompressionException;
  }

  private final ModelGraph model;
  private final PassContext context;
  private final Map<String, Tensor> originals = new LinkedHashMap<>();

  /**
   * A calibrator that changes {@code model}'s weights in place as blocks are compressed, running
   * the model on {@code context}'s engine and device.
   */
  public BlockSequentialCalibrator(ModelGraph model, PassContext context) {
    this.model = model;
    this.context = context;
  }

  /**
   * Runs every block in order.
   *
   * @throws CompressionException from the executor or the compressor; the weights already replaced
   *     stay replaced until {@link #restore()}
   */
  public void run(
      CalibrationSet calibration, List<TransformerBlocks.Block> blocks, BlockCompressor compressor)
      throws CompressionException {
    List<Map<String, Tensor>> batches = calibration.batches();
    if (blocks.isEmpty()) {
      return;
    }
    if (GraphSlices.hasSubgraphs(model)) {
      for (TransformerBlocks.Block block : blocks) {
        compress(block, compressor, capture(calibration, block.layers()));
      }
      return;
    }
    GraphSlices slices = new GraphSlices(model);
    // 1: segments, cut at a block's first layer when every earlier block ends before it
    int[] first = new int[blocks.size()];
    List<Integer> bounds = new ArrayList<>(); // segment start, by segment
    List<Integer> firstBlock = new ArrayList<>(); // first block, by segment
    int lastEnd = -1;
    Set<String> allNodes = new LinkedHashSet<>();
    for (int b = 0; b < blocks.size(); b++) {
      int lo = Integer.MAX_VALUE;
      int hi = -1;
      for (LinearLayer l : blocks.get(b).layers()) {
        int i = slices.indexOf(l.node());
        lo = Math.min(lo, i);
        hi = Math.max(hi, i);
        allNodes.add(l.node().name());
      }
      first[b] = lo;
      if (b == 0 || lo > lastEnd) {
        bounds.add(b == 0 ? 0 : lo);
        firstBlock.add(b);
      }
      lastEnd = Math.max(lastEnd, hi);
    }
    firstBlock.add(blocks.size());
    List<Map<String, Tensor>> cache = new ArrayList<>();
    batches.forEach(batch -> cache.add(new LinkedHashMap<>(batch)));
    for (int s = 0; s < bounds.size(); s++) {
      int from = bounds.get(s);
      int to = s + 1 < bounds.size() ? bounds.get(s + 1) : slices.size();
      // 2: the blocks of the segment, each on the cache and the blocks compressed before it
      for (int b = firstBlock.get(s); b < firstBlock.get(s + 1); b++) {
        TransformerBlocks.Block block = blocks.get(b);
        compress(block, compressor, hessians(block.layers(), from, to, slices, cache, batches));
      }
      // 3: the next segment's inputs, from this segment with its new weights
      if (s + 1 < bounds.size()) {
        Set<String> live = slices.liveAt(to, allNodes);
        ModelGraph seg = slices.slice(from, to, live, Set.of(), cache.get(0));
        try (Executor ex = context.executor(seg)) {
          for (int i = 0; i < cache.size(); i++) {
            Map<String, Tensor> in = cache.get(i);
            Map<String, Tensor> out = ex.forward(ActivationCapture.feeds(ex, in));
            Map<String, Tensor> next = new LinkedHashMap<>();
            for (String v : live) {
              Tensor t = out.containsKey(v) ? out.get(v) : in.get(v);
              if (t == null) {
                throw new IllegalStateException("value '" + v + "' live at a block boundary");
              }
              next.put(v, t);
            }
            cache.set(i, next);
          }
        }
      }
    }
  }

  private void compress(
      TransformerBlocks.Block block,
      BlockCompressor compressor,
      Map<String, HessianAccumulator> hessians)
      throws CompressionException {
    Map<String, float[]> w = compressor.compress(block, hessians);
    hessians.clear();
    for (LinearLayer l : block.layers()) {
      float[] v = w.get(l.name());
      if (v != null) {
        replaceWeight(l, v);
      }
    }
  }

  /** The Hessians of {@code layers} over the cached inputs of segment {@code [from, to)}. */
  private Map<String, HessianAccumulator> hessians(
      List<LinearLayer> layers,
      int from,
      int to,
      GraphSlices slices,
      List<Map<String, Tensor>> cache,
      List<Map<String, Tensor>> batches)
      throws CompressionException {
    Capture c = new Capture(layers);
    ModelGraph seg = slices.slice(from, to, Set.of(), c.nodes.keySet(), cache.get(0));
    try (Executor ex = context.executor(seg)) {
      for (int i = 0; i < cache.size(); i++) {
        c.add(
            ex.forward(ActivationCapture.feeds(ex, cache.get(i)), c.nodes.keySet()),
            batches.get(i));
      }
    }
    return c.hessians;
  }

  /**
   * One pass over the calibration data on the current model, accumulating the Hessian of every
   * given layer's input (layers reading the same input share one accumulator).
   */
  public Map<String, HessianAccumulator> capture(
      CalibrationSet calibration, List<LinearLayer> layers) throws CompressionException {
    Capture c = new Capture(layers);
    ModelGraph m =
        GraphSlices.hasSubgraphs(model)
            ? model
            : new GraphSlices(model)
                .slice(
                    0,
                    model.graph().nodes().size(),
                    Set.of(),
                    c.nodes.keySet(),
                    calibration.batches().get(0));
    ActivationCapture.run(
        context, m, calibration, c.nodes.keySet(), (i, batch, r) -> c.add(r, batch));
    return c.hessians;
  }

  /** The capture plan of some layers: one node and one accumulator per distinct input. */
  private static final class Capture {
    final Map<String, HessianAccumulator> hessians = new LinkedHashMap<>(); // by layer
    final Map<String, int[]> nodes = new LinkedHashMap<>(); // node -> captured position
    final Map<String, HessianAccumulator> byNode = new HashMap<>();

    Capture(List<LinearLayer> layers) {
      Map<String, HessianAccumulator> byInput = new HashMap<>();
      for (LinearLayer l : layers) {
        HessianAccumulator h = byInput.get(l.input());
        if (h != null) {
          hessians.put(l.name(), h.share());
          continue;
        }
        h = new HessianAccumulator((int) l.inFeatures());
        byInput.put(l.input(), h);
        hessians.put(l.name(), h);
        nodes.put(l.node().name(), new int[] {capturedPosition(l)});
        byNode.put(l.node().name(), h);
      }
    }

    void add(ForwardResult r, Map<String, Tensor> batch) {
      for (Map.Entry<String, int[]> e : nodes.entrySet()) {
        Tensor x = r.captured().get(e.getKey()).get(e.getValue()[0]);
        byNode.get(e.getKey()).add(TokenRows.of(x, batch.get("attention_mask")));
      }
    }
  }

  /**
   * The position of the layer's input among its node's captured inputs (the runtime ones: neither
   * omitted nor constant).
   */
  private static int capturedPosition(LinearLayer l) {
    Node n = l.node();
    int idx = n.inputs().indexOf(l.input());
    int pos = 0;
    for (int i = 0; i < idx; i++) {
      String v = n.inputs().get(i);
      if (!v.isEmpty() && !v.equals(l.weight())) {
        pos++;
      }
    }
    return pos;
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
    boolean outIn = l.layout() == LinearLayer.WeightLayout.OUT_IN;
    float[] stored = new float[outByIn.length];
    for (int o = 0; o < out; o++) {
      for (int i = 0; i < in; i++) {
        stored[outIn ? o * in + i : i * out + o] = outByIn[o * in + i];
      }
    }
    g.putInitializer(Tensor.ofFloats(l.weight(), old.dtype(), old.shape(), stored));
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
