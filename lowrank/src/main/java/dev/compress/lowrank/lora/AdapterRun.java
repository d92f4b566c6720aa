package dev.compress.lowrank.lora;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.GraphEditor;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.tensor.Tensor;
import dev.compress.training.ParameterSelection;
import dev.compress.training.distill.LossTerm;
import dev.compress.training.distill.TeacherStudent;
import dev.compress.training.loop.TrainingHook;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * The run the adapter passes share ({@code lora}, {@code adalora}, {@code dylora}): select and
 * check the layers, freeze an NF4 base, insert the adapters, train them with {@link
 * TeacherStudent}, let the method finish them ({@link Method#finish}: AdaLoRA drops its masked
 * triplets, DyLoRA truncates to the kept rank), then merge or keep them. Nothing is changed when a
 * check or the training fails.
 */
final class AdapterRun {
  private AdapterRun() {}

  /**
   * The keys every adapter pass has.
   *
   * @param type the pass type (random streams {@code TYPE/init}, errors)
   * @param selection the layers
   * @param teacher the teacher file, if any
   * @param losses the loss terms
   * @param rank the adapter rank (AdaLoRA's initial rank, DyLoRA's largest)
   * @param alpha alpha
   * @param merge merge or keep
   * @param base the frozen base's form
   * @param settings the training settings
   */
  record Keys(
      String type,
      LayerSelection selection,
      Optional<String> teacher,
      List<LossTerm> losses,
      int rank,
      double alpha,
      boolean merge,
      LoraConfig.Base base,
      TeacherStudent.Settings settings) {}

  /** What differs between the adapter methods. */
  interface Method {
    /** Inserts the adapter of one layer. */
    Adapters.Adapter insert(GraphEditor ed, LinearLayer layer, SplittableRandom random)
        throws ConfigException;

    /** The per-update hook of the training run over {@code adapters}. */
    TrainingHook hook(List<Adapters.Adapter> adapters, PassContext context) throws ConfigException;

    /**
     * The trained adapters as they are to be merged or kept (an entry may be null: that layer's
     * branch was removed), adding what the method reports.
     */
    List<Adapters.Adapter> finish(
        GraphEditor ed,
        List<LinearLayer> layers,
        List<Adapters.Adapter> trained,
        Map<String, Double> metrics,
        Map<String, Map<String, Double>> layerMetrics,
        List<PassReport.Note> notes)
        throws ConfigException;
  }

  static PassReport run(Keys k, Method method, ModelGraph model, PassContext context)
      throws CompressionException {
    long start = System.nanoTime();
    ModelGraph teacher = TeacherStudent.teacher(k.teacher(), context);
    Graph g = model.graph();
    List<LinearLayer> layers = LoraPass.selected(g, k.selection(), k.rank());
    long bytesBefore = bytes(g);
    GraphEditor ed = GraphEditor.of(g);
    boolean nf4 = k.base() == LoraConfig.Base.NF4;
    if (nf4) {
      List<String> problems = new ArrayList<>();
      for (LinearLayer l : layers) {
        String why = Nf4Base.problem(l, g);
        if (why != null) {
          problems.add(why);
        }
      }
      if (!problems.isEmpty()) {
        throw new ConfigException(problems);
      }
    }
    List<Nf4Base.Frozen> frozen = new ArrayList<>();
    long baseFloatBytes = 0;
    for (LinearLayer l : layers) {
      if (nf4) {
        baseFloatBytes += g.initializers().get(l.weight()).byteSize();
        frozen.add(Nf4Base.freeze(ed, l));
      }
    }
    List<Adapters.Adapter> adapters = new ArrayList<>();
    SplittableRandom init = context.random(k.type() + "/init");
    try {
      for (LinearLayer l : layers) {
        adapters.add(method.insert(ed, l, init));
      }
    } catch (ConfigException e) {
      undo(ed, adapters, frozen);
      throw e;
    }
    List<String> names = new ArrayList<>();
    long adapterParams = 0;
    for (Adapters.Adapter a : adapters) {
      names.add(a.a());
      names.add(a.b());
      adapterParams += (long) a.rank() * (a.inFeatures() + a.outFeatures());
      if (a.e() != null) {
        names.add(a.e());
        adapterParams += a.rank();
      }
    }
    TeacherStudent.Outcome o;
    try {
      o =
          TeacherStudent.train(
              k.type(),
              model,
              teacher,
              ParameterSelection.initializers(names),
              k.losses(),
              k.settings(),
              context,
              method.hook(adapters, context));
    } catch (CompressionException | RuntimeException e) {
      undo(ed, adapters, frozen);
      throw e;
    }
    Map<String, Double> metrics = new LinkedHashMap<>(o.metrics());
    metrics.put("rank", (double) k.rank());
    metrics.put("alpha", k.alpha());
    metrics.put("adapter_parameters", (double) adapterParams);
    metrics.put("layers_adapted", (double) adapters.size());
    if (nf4) {
      long inGraph = 0;
      for (Nf4Base.Frozen f : frozen) {
        for (String i : f.initializers()) {
          inGraph += g.initializers().get(i).byteSize();
        }
      }
      metrics.put("base_bytes_float", (double) baseFloatBytes);
      metrics.put("base_bytes_nf4_in_graph", (double) inGraph);
      metrics.put("base_bytes_nf4_packed", baseFloatBytes / 32.0 * (4 + 8.0 / 64 + 32.0 / 16384));
    }
    Map<String, Map<String, Double>> layerMetrics = new LinkedHashMap<>();
    List<PassReport.Note> notes = new ArrayList<>();
    List<Adapters.Adapter> done = method.finish(ed, layers, adapters, metrics, layerMetrics, notes);
    if (k.merge()) {
      for (Nf4Base.Frozen f : frozen) {
        Nf4Base.thaw(ed, f);
      }
      for (int i = 0; i < done.size(); i++) {
        if (done.get(i) != null) {
          Adapters.merge(ed, layers.get(i), done.get(i));
        }
      }
    }
    metrics.put("merged", k.merge() ? 1.0 : 0.0);
    List<String> touched = new ArrayList<>();
    layers.forEach(l -> touched.add(l.name()));
    if (!k.merge()) {
      notes.add(
          PassReport.Note.info(
              "adapters kept as separate nodes (LAYER.lora_A [in, r], LAYER.lora_B [r, out]);"
                  + " the pipeline writes the ONNX model only, PeftAdapters.write gives the PEFT"
                  + " files"));
    }
    return new PassReport(
        k.type(),
        touched,
        List.of(),
        bytesBefore,
        bytes(g),
        metrics,
        layerMetrics,
        notes,
        Duration.ofNanos(System.nanoTime() - start));
  }

  private static void undo(
      GraphEditor ed, List<Adapters.Adapter> adapters, List<Nf4Base.Frozen> frozen) {
    for (Adapters.Adapter a : adapters.reversed()) {
      Adapters.remove(ed, a);
    }
    for (Nf4Base.Frozen f : frozen.reversed()) {
      Nf4Base.undo(ed, f);
    }
  }

  static long bytes(Graph g) {
    long b = 0;
    for (Tensor t : g.initializers().values()) {
      b += t.byteSize();
    }
    return b;
  }
}
