package dev.compress.pruning.structured;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.graph.GraphEditor;
import dev.compress.api.graph.GraphIndex;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.layers.LinearLayers;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.pipeline.PassValidation;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.calibration.activation.ActivationCapture;
import dev.compress.calibration.activation.TokenRows;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Structured pruning that makes the model physically smaller and faster: whole attention heads and
 * FFN neurons are removed through {@link DependencyGroups dependency groups} (DepGraph, Fang et al.
 * 2023), chosen by a retraining-free global budget search and followed by least-squares rescaling
 * of the kept units (Kwon et al. 2022, "A Fast Post-Training Pruning Framework for Transformers"),
 * optionally with FLAP's bias compensation (An et al. 2024, "Fluctuation-based Adaptive Structured
 * Pruning for Large Language Models").
 *
 * <ol>
 *   <li>Find the dependency groups; keep those whose layers are all selected and whose kind is in
 *       {@code units}. Hidden-size cuts are refused (the layer norms couple the hidden width).
 *   <li>Capture the sinks' inputs on the calibration data (the unpruned model, one pass) and score
 *       every unit ({@link UnitScores}; {@code taylor} and {@code fisher} from unit-mask gradients
 *       through the trainer, {@link GradientScores}).
 *   <li>Fix the groups with an explicit {@code removed} plan; rank the other heads and neurons
 *       globally under the budget ({@link BudgetSearch}), each group keeping at least one unit.
 *   <li>Per group, solve the kept units' output scales ({@link OutputRescaling}) and the bias
 *       compensation; then slice every member ({@link GroupSlicer}).
 * </ol>
 *
 * <p>Everything is computed before the graph changes; a failing check changes nothing. Report
 * metrics (kept/removed spelled out): {@code GROUP/heads_kept} or {@code GROUP/neurons_kept},
 * {@code heads_removed}, {@code neurons_removed}, {@code channels_removed}, {@code
 * linear_flops_kept_fraction}, {@code linear_params_kept_fraction} (per-unit costs summed over the
 * groups: where groups share a layer, as chained Convs do, the cross terms count in both, so the
 * real model is smaller), {@code params_removed} (initializer elements, measured), and per rescaled
 * group {@code GROUP/output_error_before_rescale}, {@code GROUP/output_error_after_rescale}
 * (relative, on the calibration tokens). Conv channel groups are not rescaled (the least-squares
 * fit is per linear token).
 */
public final class StructuredPruningPass implements Pass<StructuredPruningConfig>, PassValidation {
  private final StructuredPruningConfig config;

  /** A pass for a validated config. */
  public StructuredPruningPass(StructuredPruningConfig config) {
    this.config = config;
  }

  @Override
  public StructuredPruningConfig config() {
    return config;
  }

  @Override
  public PassReport apply(ModelGraph model, PassContext context) throws CompressionException {
    long start = System.nanoTime();
    String type = StructuredPruningProvider.TYPE;
    List<LinearLayer> all = LinearLayers.of(model.graph());
    Plan plan = plan(model, config.selection().select(all));
    List<DependencyGroup> groups = plan.groups();
    Map<DependencyGroup, Integer> fixed = plan.fixed();
    List<PassReport.Skip> skipped = plan.skipped();
    List<String> problems = new ArrayList<>(plan.problems());
    if (config.needsCalibration() && context.calibration().isEmpty()) {
      problems.add(
          "structured-pruning with importance "
              + config.importance()
              + ", rescale "
              + config.rescale()
              + " needs a calibration block (or use importance: weight-norm, rescale: none)");
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }

    context.progress().start(type, groups.size() + 1);
    StructuredPruningConfig.Importance imp = config.importance();
    boolean gradient =
        imp == StructuredPruningConfig.Importance.TAYLOR
            || imp == StructuredPruningConfig.Importance.FISHER;
    boolean needStats =
        imp == StructuredPruningConfig.Importance.ACTIVATION
            || imp == StructuredPruningConfig.Importance.FLUCTUATION
            || config.rescale() != StructuredPruningConfig.Rescale.NONE
            || config.biasCompensation();
    Map<String, SinkStats> stats = needStats ? capture(model, context, groups) : Map.of();
    ModelGraph teacher = null;
    if (gradient && config.teacher().isPresent()) {
      java.nio.file.Path f = java.nio.file.Path.of(config.teacher().get());
      try {
        teacher = dev.compress.api.io.onnx.OnnxReader.read(f);
      } catch (java.io.IOException e) {
        throw new ConfigException("teacher: cannot read " + f + ": " + e.getMessage());
      }
    }
    List<double[]> grads =
        gradient
            ? GradientScores.of(
                model,
                groups,
                context.calibration().orElseThrow(),
                imp == StructuredPruningConfig.Importance.FISHER,
                context.random("structured-pruning/gradient").nextLong(),
                teacher)
            : null;
    GraphIndex ix = GraphIndex.of(model.graph());
    List<BudgetSearch.Entry> entries = new ArrayList<>();
    double base = 0;
    double baseFlops = 0;
    double baseParams = 0;
    for (DependencyGroup g : groups) {
      long cost =
          config.budget() == StructuredPruningConfig.Budget.FLOPS
              ? g.flopsPerUnit()
              : g.paramsPerUnit();
      double[] s =
          gradient ? grads.get(entries.size()) : UnitScores.of(ix, g, config.importance(), stats);
      entries.add(new BudgetSearch.Entry(g, s, cost, fixed.getOrDefault(g, 0)));
      base += (double) cost * g.units();
      baseFlops += (double) g.flopsPerUnit() * g.units();
      baseParams += (double) g.paramsPerUnit() * g.units();
    }
    Map<DependencyGroup, int[]> keep;
    try {
      keep = BudgetSearch.search(entries, config.kept() * base);
    } catch (IllegalArgumentException e) {
      throw new ConfigException("kept " + config.kept() + " is too small: " + e.getMessage());
    }

    // Everything the cut needs is computed first; then the graph changes.
    Map<String, Double> metrics = new LinkedHashMap<>();
    Map<DependencyGroup, OutputRescaling.Result> fits = new LinkedHashMap<>();
    boolean fit =
        config.rescale() == StructuredPruningConfig.Rescale.LEAST_SQUARES
            || config.biasCompensation();
    for (DependencyGroup g : groups) {
      int[] k = keep.get(g);
      if (fit
          && g.kind() != DependencyGroup.Kind.CHANNELS
          && g.sinks().size() == 1
          && k.length < g.units()) {
        ChannelTrace.Sink sk = g.sinks().get(0);
        LinearLayer l = sk.layer();
        float[] rows = UnitScores.sinkRows(ix.constant(l.node().input(1)).orElseThrow(), l);
        int out = (int) (rows.length / (g.units() * sk.unitSize()));
        boolean compensate = config.biasCompensation() && l.bias().isPresent();
        OutputRescaling.Result r =
            OutputRescaling.solve(
                rows,
                out,
                sk.unitSize(),
                (int) g.units(),
                k,
                stats.get(l.name()),
                config.rescale() == StructuredPruningConfig.Rescale.LEAST_SQUARES,
                compensate,
                config.damping());
        fits.put(g, r);
        metrics.put(g.name() + "/output_error_before_rescale", r.errorBefore());
        metrics.put(g.name() + "/output_error_after_rescale", r.errorAfter());
      }
      context.progress().step(type, fits.size(), groups.size() + 1, g.name());
    }
    GraphEditor ed = GraphEditor.of(model.graph());
    long bytesBefore = 0;
    long bytesAfter = 0;
    Set<String> touched = new LinkedHashSet<>();
    for (DependencyGroup g : groups) {
      touched.addAll(g.layerNames());
    }
    for (String n : touched) {
      bytesBefore += weightByName(ed, all, n).byteSize();
    }
    long paramsBefore = initializerElements(model);
    double keptFlops = 0;
    double keptParams = 0;
    long headsRemoved = 0;
    long neuronsRemoved = 0;
    long channelsRemoved = 0;
    for (DependencyGroup g : groups) {
      int[] k = keep.get(g);
      OutputRescaling.Result r = fits.get(g);
      GroupSlicer.apply(ed, g, k, r == null ? null : r.scales(), r == null ? null : r.biasDelta());
      metrics.put(g.name() + "/" + g.unitName() + "_kept", (double) k.length);
      metrics.put(g.name() + "/" + g.unitName() + "_removed", (double) (g.units() - k.length));
      keptFlops += (double) g.flopsPerUnit() * k.length;
      keptParams += (double) g.paramsPerUnit() * k.length;
      switch (g.kind()) {
        case HEADS -> headsRemoved += g.units() - k.length;
        case NEURONS -> neuronsRemoved += g.units() - k.length;
        case CHANNELS -> channelsRemoved += g.units() - k.length;
      }
    }
    for (String n : touched) {
      bytesAfter += weightByName(ed, all, n).byteSize();
    }
    context.progress().finish(type);
    metrics.put("heads_removed", (double) headsRemoved);
    metrics.put("neurons_removed", (double) neuronsRemoved);
    metrics.put("channels_removed", (double) channelsRemoved);
    metrics.put("linear_flops_kept_fraction", keptFlops / baseFlops);
    metrics.put("linear_params_kept_fraction", keptParams / baseParams);
    metrics.put("params_removed", (double) (paramsBefore - initializerElements(model)));
    return new PassReport(
        type,
        new ArrayList<>(touched),
        skipped,
        bytesBefore,
        bytesAfter,
        metrics,
        Duration.ofNanos(System.nanoTime() - start));
  }

  /** What the pass will cut, and the problems and skips found on the way (nothing changed). */
  private record Plan(
      List<DependencyGroup> groups,
      Map<DependencyGroup, Integer> fixed,
      List<PassReport.Skip> skipped,
      List<String> problems) {}

  private Plan plan(ModelGraph model, List<LinearLayer> chosen) {
    Set<String> selected = new HashSet<>();
    chosen.forEach(l -> selected.add(l.name()));
    DependencyGroups dg = DependencyGroups.of(model);
    List<String> problems = new ArrayList<>();
    List<PassReport.Skip> skipped = new ArrayList<>();
    List<DependencyGroup> groups = new ArrayList<>();
    Set<String> covered = new HashSet<>();
    for (DependencyGroup g : dg.groups()) {
      List<String> names = g.layerNames();
      List<String> in = names.stream().filter(selected::contains).toList();
      if (in.isEmpty()) {
        continue;
      }
      if (!config.units().contains(g.kind())) {
        skipped.add(new PassReport.Skip(g.name(), g.unitName() + " are not in units"));
        continue;
      }
      if (in.size() < names.size()) {
        List<String> out = names.stream().filter(n -> !selected.contains(n)).toList();
        skipped.add(
            new PassReport.Skip(
                g.name(),
                "its " + g.unitName() + " also span " + out + ", which are not selected"));
        continue;
      }
      for (String n : names) {
        Tensor w = weight(model, g, n);
        if (w.dtype() != DataType.FLOAT) {
          problems.add(
              "layer '"
                  + n
                  + "': weight is "
                  + w.dtype()
                  + "; structured pruning needs f32 (prune before quantizing)");
        }
      }
      if (config.importance() == StructuredPruningConfig.Importance.BN_SCALE
          && UnitScores.bnScales(g).isEmpty()) {
        problems.add(
            "importance bn-scale: the "
                + g.unitName()
                + " of '"
                + g.name()
                + "' pass no BatchNormalization (use filter-l2 or weight-norm)");
      }
      groups.add(g);
      covered.addAll(names);
    }
    boolean explicit = !config.selection().targets().isEmpty();
    for (var e : dg.refused().entrySet()) {
      if (!selected.contains(e.getKey())) {
        continue;
      }
      if (covered.contains(e.getKey())) {
        skipped.add(
            new PassReport.Skip(
                e.getKey(), "output channels kept (its input rows are pruned): " + e.getValue()));
        continue;
      }
      if (explicit && dg.unfollowable().containsKey(e.getKey())) {
        problems.add(e.getValue());
      } else {
        skipped.add(new PassReport.Skip(e.getKey(), e.getValue()));
      }
    }
    if (config.teacher().isPresent()
        && config.importance() != StructuredPruningConfig.Importance.TAYLOR
        && config.importance() != StructuredPruningConfig.Importance.FISHER) {
      problems.add(
          "teacher applies to importance taylor or fisher, found importance "
              + config.importance().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'));
    }
    if (groups.isEmpty() && problems.isEmpty()) {
      problems.add(
          "no prunable heads, neurons or channels among the selected layers"
              + (dg.refused().isEmpty() ? "" : ": " + dg.refused().values().iterator().next()));
    }
    Map<DependencyGroup, Integer> fixed = plans(groups, problems);
    return new Plan(groups, fixed, skipped, problems);
  }

  /** The dependency, dtype and plan checks of {@link #apply}, before anything runs. */
  @Override
  public List<String> validate(ModelGraph model, List<LinearLayer> selected) {
    return plan(model, selected).problems();
  }

  private static Tensor weight(ModelGraph model, DependencyGroup g, String layer) {
    for (LinearLayer l : g.sources()) {
      if (l.name().equals(layer)) {
        return model.graph().constant(l.node().input(1)).orElseThrow();
      }
    }
    for (ChannelTrace.Sink s : g.sinks()) {
      if (s.layer().name().equals(layer)) {
        return model.graph().constant(s.layer().node().input(1)).orElseThrow();
      }
    }
    for (ChannelTrace.Through t : g.through()) {
      if (t.layer().name().equals(layer)) {
        return model.graph().constant(t.layer().node().input(1)).orElseThrow();
      }
    }
    throw new IllegalStateException(layer);
  }

  private static long initializerElements(ModelGraph model) {
    return model.graph().initializers().values().stream().mapToLong(Tensor::elementCount).sum();
  }

  private static Tensor weightByName(GraphEditor ed, List<LinearLayer> all, String name) {
    LinearLayer l = LinearLayers.find(all, name).orElseThrow();
    return ed.index().constant(l.node().input(1)).orElseThrow();
  }

  /** Explicit plans: the kept count of each planned group; problems for bad or clashing plans. */
  private Map<DependencyGroup, Integer> plans(List<DependencyGroup> groups, List<String> problems) {
    Map<DependencyGroup, Integer> fixed = new LinkedHashMap<>();
    Map<DependencyGroup, String> by = new LinkedHashMap<>();
    for (var e : config.removed().entrySet()) {
      String sel = e.getKey();
      double frac = e.getValue();
      boolean any = false;
      for (DependencyGroup g : groups) {
        if (g.layerNames().stream().noneMatch(n -> LayerSelection.matches(sel, n))) {
          continue;
        }
        any = true;
        long removed = Math.round(frac * g.units());
        int k = (int) (g.units() - removed);
        if (k < 1) {
          problems.add(
              "removed['"
                  + sel
                  + "'] = "
                  + frac
                  + " would remove every one of the "
                  + g.units()
                  + " "
                  + g.unitName()
                  + " of '"
                  + g.name()
                  + "'");
          continue;
        }
        Integer old = fixed.put(g, k);
        if (old != null && old != k) {
          problems.add(
              "'"
                  + g.name()
                  + "' is targeted twice with conflicting plans: removed['"
                  + by.get(g)
                  + "'] = "
                  + config.removed().get(by.get(g))
                  + " and removed['"
                  + sel
                  + "'] = "
                  + frac);
        }
        by.putIfAbsent(g, sel);
      }
      if (!any) {
        problems.add(
            "removed['" + sel + "'] matches no prunable group (groups are named by their layers)");
      }
    }
    return fixed;
  }

  /** One pass of the calibration data through the unpruned model, capturing every sink's input. */
  private Map<String, SinkStats> capture(
      ModelGraph model, PassContext context, List<DependencyGroup> groups)
      throws CompressionException {
    Map<String, SinkStats> stats = new LinkedHashMap<>();
    Set<String> convSinks = new HashSet<>();
    boolean gram =
        config.rescale() == StructuredPruningConfig.Rescale.LEAST_SQUARES
            || config.biasCompensation();
    for (DependencyGroup g : groups) {
      for (ChannelTrace.Sink s : g.sinks()) {
        if (s.layer().kind() == LinearLayer.Kind.CONV) {
          convSinks.add(s.layer().name());
        }
        stats.putIfAbsent(
            s.layer().name(),
            new SinkStats((int) (g.units() * s.unitSize()), gram && g.sinks().size() == 1));
      }
    }
    CalibrationSet cal = context.calibration().orElseThrow();
    ActivationCapture.run(
        context,
        model,
        cal,
        stats.keySet(),
        (i, batch, result) -> {
          for (var e : stats.entrySet()) {
            List<Tensor> in = result.captured().get(e.getKey());
            e.getValue()
                .add(
                    convSinks.contains(e.getKey())
                        ? SinkStats.channelRows(in.get(0))
                        : TokenRows.of(in.get(0), batch.get("attention_mask")));
          }
        });
    context.progress().step(StructuredPruningProvider.TYPE, 1, groups.size() + 1, "calibration");
    return stats;
  }
}
