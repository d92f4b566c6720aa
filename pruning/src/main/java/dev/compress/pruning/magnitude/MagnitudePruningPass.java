package dev.compress.pruning.magnitude;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.GraphEditor;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.layers.LinearLayers;
import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.pipeline.PassValidation;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.pruning.mask.ScoreMasks;
import dev.compress.pruning.mask.SparsityPattern;
import dev.compress.pruning.mask.SparsityReport;
import dev.compress.pruning.mask.WeightView;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Unstructured magnitude pruning (Han et al. 2015, "Learning both Weights and Connections for
 * Efficient Neural Networks"): the weights of smallest absolute value are set to zero, either a
 * fixed fraction of every layer ({@link MagnitudePruningConfig.Scope#PER_LAYER}) or a fraction of
 * all selected layers together under one magnitude threshold ({@link
 * MagnitudePruningConfig.Scope#GLOBAL}). No retraining; gradual schedules belong to the pipelines
 * that fine-tune afterwards.
 *
 * <p>Exactly {@code round(sparsity * n)} weights are pruned (round half to even, as PyTorch's
 * {@code prune.l1_unstructured}), {@code n} being the layer's weight count (per layer) or the
 * selected layers' total (global); weights that are already zero count among the smallest. The
 * selection is exact ({@link MagnitudeThreshold}), and ties at the threshold are broken by position
 * (graph order of the layers, then the weight's index in storage), so a run is deterministic.
 *
 * <p>The weights stay dense tensors of the same type (f32, f16, bf16 or f64): zeros take as many
 * bytes as the values they replace, so the model file does not shrink ({@code bytesAfter ==
 * bytesBefore}; metrics {@code bytes_saved = 0} and {@code stored_dense = 1}). Sparse storage is a
 * later format. A weight shared by several selected layers is pruned once; a weight also read by
 * nodes outside the selection is copied, so those nodes keep the original.
 *
 * <p>N:M ({@link MagnitudePruningConfig#pattern}, e.g. 2:4): in every group of M consecutive input
 * features of an output row (along the reduction dimension: down the columns of a MatMul weight
 * stored {@code [in, out]}), the N of smallest magnitude are zeroed, ties broken by position. M
 * must divide every selected layer's input features (checked before anything changes).
 *
 * <p>Report metrics: per-layer {@code sparsity} (zeros over weights after the pass), {@code
 * sparsity} over all selected layers, {@code pruned_weights}, and for the global scope {@code
 * threshold} (the magnitude at which weights were cut). The report's notes state the overall
 * sparsity and warn that ONNX Runtime gets no speed from it on CPU ({@link
 * SparsityReport#RUNTIME_NOTE}).
 */
public final class MagnitudePruningPass implements Pass<MagnitudePruningConfig>, PassValidation {
  private static final Set<DataType> FLOAT_TYPES =
      Set.of(DataType.FLOAT, DataType.FLOAT16, DataType.BFLOAT16, DataType.DOUBLE);

  private final MagnitudePruningConfig config;

  /** A pass for a validated config. */
  public MagnitudePruningPass(MagnitudePruningConfig config) {
    this.config = config;
  }

  @Override
  public MagnitudePruningConfig config() {
    return config;
  }

  /** One weight tensor and the selected layers that read it. */
  private static final class Unit {
    final String weight;
    final Tensor tensor;
    final List<LinearLayer> layers = new ArrayList<>();
    long pruned;
    long zeros;

    Unit(String weight, Tensor tensor) {
      this.weight = weight;
      this.tensor = tensor;
    }
  }

  /**
   * Every selected weight a float constant it can hold in one array, and the N:M pattern dividing
   * it.
   */
  @Override
  public List<String> validate(ModelGraph model, List<LinearLayer> selected) {
    List<String> problems = new ArrayList<>();
    for (LinearLayer layer : selected) {
      problem(layer, model.graph().constant(layer.weight())).ifPresent(problems::add);
      config.sparsityPattern().divisibilityProblem("pattern", layer).ifPresent(problems::add);
    }
    return problems;
  }

  private static Optional<String> problem(LinearLayer layer, Optional<Tensor> w) {
    String where = "layer '" + layer.name() + "': weight " + layer.weight();
    if (w.isEmpty()) {
      return Optional.of(where + " is not a constant");
    } else if (!FLOAT_TYPES.contains(w.get().dtype())) {
      return Optional.of(
          where
              + " is "
              + w.get().dtype()
              + "; magnitude pruning needs a floating-point weight (prune before quantizing)");
    } else if (w.get().elementCount() > Integer.MAX_VALUE - 8) {
      return Optional.of(where + " has " + w.get().elementCount() + " elements, too many");
    }
    return Optional.empty();
  }

  @Override
  public PassReport apply(ModelGraph model, PassContext context) throws CompressionException {
    long start = System.nanoTime();
    List<PassReport.Note> notes = new ArrayList<>();
    Graph graph = model.graph();
    List<LinearLayer> layers = config.selection().select(LinearLayers.of(graph));
    SparsityPattern pattern = config.sparsityPattern();
    List<String> problems = new ArrayList<>();
    Map<String, Unit> units = new LinkedHashMap<>();
    for (LinearLayer layer : layers) {
      Optional<Tensor> w = graph.constant(layer.weight());
      String where = "layer '" + layer.name() + "': weight " + layer.weight();
      Optional<String> problem = problem(layer, w);
      if (problem.isPresent()) {
        problems.add(problem.get());
      } else {
        pattern.divisibilityProblem("pattern", layer).ifPresent(problems::add);
        Unit u = units.computeIfAbsent(layer.weight(), k -> new Unit(k, w.get()));
        if (!pattern.unstructured()
            && !u.layers.isEmpty()
            && (u.layers.get(0).layout() != layer.layout()
                || u.layers.get(0).inFeatures() != layer.inFeatures())) {
          problems.add(
              where
                  + " is shared with layer '"
                  + u.layers.get(0).name()
                  + "', which reads it along another axis; pattern "
                  + pattern
                  + " needs one reduction axis. HINT: add one of them to ignore");
        }
        u.layers.add(layer);
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }

    List<Unit> list = new ArrayList<>(units.values());
    long total = list.stream().mapToLong(u -> u.tensor.elementCount()).sum();
    String type = MagnitudePruningProvider.TYPE;
    context.progress().start(type, list.size());
    Map<String, Double> metrics = new LinkedHashMap<>();
    PassReport.LayerMetrics layerMetrics = new PassReport.LayerMetrics();
    Map<Unit, Tensor> pruned = new IdentityHashMap<>();
    if (!pattern.unstructured()) {
      for (int i = 0; i < list.size(); i++) {
        Unit u = list.get(i);
        pruned.put(u, pruneNofM(u, pattern));
        context.progress().step(type, i + 1, list.size(), u.layers.get(0).name());
      }
    } else if (config.scope() == MagnitudePruningConfig.Scope.GLOBAL) {
      MagnitudeThreshold.Selection sel =
          MagnitudeThreshold.select(
              list.size(), i -> list.get(i).tensor.toFloatArray(), count(total));
      long[] ties = {sel.ties()};
      for (int i = 0; i < list.size(); i++) {
        Unit u = list.get(i);
        pruned.put(u, prune(u, u.tensor.toFloatArray(), sel, ties));
        context.progress().step(type, i + 1, list.size(), u.layers.get(0).name());
      }
      metrics.put("threshold", (double) sel.magnitude());
    } else {
      for (int i = 0; i < list.size(); i++) {
        Unit u = list.get(i);
        float[] w = u.tensor.toFloatArray();
        MagnitudeThreshold.Selection sel = MagnitudeThreshold.select(1, a -> w, count(w.length));
        pruned.put(u, prune(u, w, sel, new long[] {sel.ties()}));
        context.progress().step(type, i + 1, list.size(), u.layers.get(0).name());
      }
    }

    // Everything is computed; now change the graph.
    long bytes = 0;
    long zeros = 0;
    long prunedCount = 0;
    List<String> touched = new ArrayList<>();
    GraphEditor ed = GraphEditor.of(graph);
    for (Unit u : list) {
      replace(ed, u, pruned.get(u));
      bytes += u.tensor.byteSize();
      zeros += u.zeros;
      prunedCount += u.pruned;
      for (LinearLayer l : u.layers) {
        layerMetrics.put(l.name(), "sparsity", (double) u.zeros / u.tensor.elementCount());
      }
    }
    for (LinearLayer l : layers) {
      touched.add(l.name());
    }
    context.progress().finish(type);
    metrics.put("sparsity", total == 0 ? 0.0 : (double) zeros / total);
    metrics.put("pruned_weights", (double) prunedCount);
    metrics.put("bytes_saved", 0.0);
    metrics.put("stored_dense", 1.0);
    metrics.put("ort_cpu_speedup", 1.0);
    notes.add(
        PassReport.Note.info(
            String.format(
                "sparsity %.4f (%s): %d of %d weights are zero in the pruned layers",
                total == 0 ? 0.0 : (double) zeros / total,
                pattern.unstructured() ? config.scope().toString().toLowerCase() : pattern,
                zeros,
                total)));
    notes.add(PassReport.Note.warning(SparsityReport.RUNTIME_NOTE));
    return new PassReport(
        type,
        touched,
        List.of(),
        bytes,
        bytes,
        metrics,
        layerMetrics.asMap(),
        notes,
        Duration.ofNanos(System.nanoTime() - start));
  }

  /** {@code round(sparsity * n)}, half to even. */
  private long count(long n) {
    return (long) Math.rint(config.sparsity() * n);
  }

  /**
   * The unit's tensor with the selected weights zeroed; {@code ties[0]} counts down the weights
   * equal to the threshold still to prune (shared across units for the global scope).
   */
  private static Tensor prune(Unit u, float[] w, MagnitudeThreshold.Selection sel, long[] ties) {
    Tensor t = u.tensor;
    int size = (int) (t.byteSize() / Math.max(1, t.elementCount()));
    ByteBuffer src = t.data();
    ByteBuffer out = ByteBuffer.allocate(src.remaining()).order(src.order());
    out.put(src).flip();
    long pruned = 0;
    long zeros = 0;
    for (int i = 0; i < w.length; i++) {
      int key = MagnitudeThreshold.key(w[i]);
      boolean cut = key < sel.key() || (key == sel.key() && ties[0] > 0);
      if (cut) {
        if (key == sel.key()) {
          ties[0]--;
        }
        for (int b = 0; b < size; b++) {
          out.put(i * size + b, (byte) 0);
        }
        pruned++;
        zeros++;
      } else if (w[i] == 0f) {
        zeros++;
      }
    }
    u.pruned = pruned;
    u.zeros = zeros;
    return Tensor.of(t.name(), t.dtype(), t.shape(), out)
        .withDocString(t.docString())
        .withPreservedBytes(t.preservedBytes());
  }

  /** The unit's tensor with the N smallest of every M input weights of each output row zeroed. */
  private static Tensor pruneNofM(Unit u, SparsityPattern pattern) {
    LinearLayer l = u.layers.get(0);
    float[] stored = u.tensor.toFloatArray();
    float[] w = WeightView.outByIn(stored, l);
    double[] score = new double[w.length];
    for (int i = 0; i < w.length; i++) {
      score[i] = Math.abs(w[i]);
    }
    int rows = (int) l.outFeatures();
    int cols = (int) l.inFeatures();
    boolean[] mask = WeightView.toStored(ScoreMasks.nOfM(score, rows, cols, pattern), l);
    Tensor t = u.tensor;
    int size = (int) (t.byteSize() / Math.max(1, t.elementCount()));
    ByteBuffer src = t.data();
    ByteBuffer out = ByteBuffer.allocate(src.remaining()).order(src.order());
    out.put(src).flip();
    long pruned = 0;
    long zeros = 0;
    for (int i = 0; i < stored.length; i++) {
      if (mask[i]) {
        for (int b = 0; b < size; b++) {
          out.put(i * size + b, (byte) 0);
        }
        pruned++;
        zeros++;
      } else if (stored[i] == 0f) {
        zeros++;
      }
    }
    u.pruned = pruned;
    u.zeros = zeros;
    return Tensor.of(t.name(), t.dtype(), t.shape(), out)
        .withDocString(t.docString())
        .withPreservedBytes(t.preservedBytes());
  }

  /** Puts the pruned tensor in place of the weight, copying it when others read the original. */
  private static void replace(GraphEditor ed, Unit u, Tensor pruned) {
    Set<Node> readers = Collections.newSetFromMap(new IdentityHashMap<>());
    u.layers.forEach(l -> readers.add(l.node()));
    ed.replaceConstant(u.weight, pruned, readers, "_pruned");
  }
}
