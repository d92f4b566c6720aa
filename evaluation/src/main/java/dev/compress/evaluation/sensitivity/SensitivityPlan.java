package dev.compress.evaluation.sensitivity;

import dev.compress.api.ConfigException;
import dev.compress.api.pipeline.PassRegistry;
import dev.compress.api.pipeline.PipelineSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * A per-layer plan suggested from a {@link SensitivityResult}, written as pipeline YAML that {@code
 * compress validate} and {@code compress run} take as it is.
 *
 * <p>Probes of one pass type that differ only in {@code sparsity} (stronger: higher) or {@code
 * bits} (stronger: lower) form a <i>family</i>; each family gets its own plan. Each unit gets one
 * of the family's settings or none (left float), so that the parameter-weighted mean of the setting
 * reaches the target (mean sparsity, or mean bits with float counted as 32), at the smallest sum of
 * measured losses: starting from all float, the unit whose next stronger setting costs the least
 * loss per parameter-amount gained is moved, until the target is met; then units are stepped back
 * where that saves loss and the target still holds (a greedy solution of the multiple-choice
 * knapsack; it assumes the units' losses add up, which the per-unit measurement cannot check). The
 * plan's passes are one per setting used, each with the {@code targets} of its units' layers, so no
 * layer is targeted twice; the pipeline's model, seed, calibration and evaluate blocks are kept.
 *
 * @param family the family, e.g. {@code wanda sparsity}
 * @param key {@code sparsity} or {@code bits}
 * @param target the mean the plan aims at
 * @param reached the mean it reaches
 * @param predictedLoss the sum of the chosen settings' measured losses
 * @param assignment unit name to the chosen setting (absent: float)
 * @param spec the plan as a pipeline
 * @param yaml the pipeline YAML, with a comment header
 */
public record SensitivityPlan(
    String family,
    String key,
    double target,
    double reached,
    double predictedLoss,
    Map<String, Object> assignment,
    PipelineSpec spec,
    String yaml) {

  /** The swept keys a plan understands. */
  public static final List<String> KEYS = List.of("sparsity", "bits");

  /**
   * One plan per family of the result's probes.
   *
   * @param targets target mean per key ({@code sparsity}, {@code bits}); a key not given takes the
   *     median of the family's settings
   * @param outputDir the {@code output.dir} of the plans (a family suffix is appended)
   * @return the plans; a family none of whose cells was measured has none
   * @throws ConfigException when a target is out of range ({@code --target sparsity=1.5})
   */
  public static List<SensitivityPlan> suggest(
      SensitivityResult r,
      PipelineSpec pipeline,
      PassRegistry registry,
      Map<String, Double> targets,
      String outputDir)
      throws ConfigException {
    checkTargets(targets);
    Map<String, List<Integer>> families = new LinkedHashMap<>();
    Map<String, String> keys = new LinkedHashMap<>();
    Map<String, String> names = new LinkedHashMap<>(); // group (all other params) -> family name
    for (int p = 0; p < r.probes().size(); p++) {
      Probe probe = r.probes().get(p);
      for (String k : KEYS) {
        if (probe.params().get(k) instanceof Number) {
          Map<String, Object> rest = new LinkedHashMap<>(probe.params());
          rest.remove(k);
          String group = Probe.label(probe.type(), rest) + " " + k;
          String f = names.get(group);
          if (f == null) {
            f = probe.type() + " " + k;
            if (names.containsValue(f)) {
              f = f + " " + (names.size() + 1);
            }
            names.put(group, f);
          }
          families.computeIfAbsent(f, x -> new ArrayList<>()).add(p);
          keys.put(f, k);
          break;
        }
      }
    }
    List<SensitivityPlan> out = new ArrayList<>();
    for (Map.Entry<String, List<Integer>> f : families.entrySet()) {
      SensitivityPlan p =
          plan(
              r,
              pipeline,
              registry,
              f.getKey(),
              keys.get(f.getKey()),
              f.getValue(),
              targets,
              outputDir);
      if (p != null) {
        out.add(p);
      }
    }
    return out;
  }

  /**
   * Checks plan targets before anything runs.
   *
   * @throws ConfigException for an unknown key or a value out of range, naming {@code --target}
   */
  public static void checkTargets(Map<String, Double> targets) throws ConfigException {
    for (Map.Entry<String, Double> t : targets.entrySet()) {
      double v = t.getValue();
      if (!KEYS.contains(t.getKey())) {
        throw new ConfigException(
            "--target " + t.getKey() + ": unknown key; known: " + KEYS + " (e.g. sparsity=0.5)");
      }
      if (t.getKey().equals("sparsity") && !(v >= 0 && v < 1)) {
        throw new ConfigException("--target sparsity must be in [0, 1), found " + v);
      }
      if (t.getKey().equals("bits") && !(v >= 1 && v <= 32)) {
        throw new ConfigException("--target bits must be in [1, 32], found " + v);
      }
    }
  }

  private static double amount(String key, double setting) {
    return key.equals("bits") ? 32 - setting : setting;
  }

  private static SensitivityPlan plan(
      SensitivityResult r,
      PipelineSpec pipeline,
      PassRegistry registry,
      String family,
      String key,
      List<Integer> probes,
      Map<String, Double> targets,
      String outputDir)
      throws ConfigException {
    // options sorted from weakest to strongest
    List<Integer> opts = new ArrayList<>(probes);
    opts.sort(
        java.util.Comparator.comparingDouble(
            p -> amount(key, ((Number) r.probes().get(p).params().get(key)).doubleValue())));
    double[] settings =
        opts.stream()
            .mapToDouble(p -> ((Number) r.probes().get(p).params().get(key)).doubleValue())
            .toArray();
    double target =
        targets.containsKey(key) ? targets.get(key) : settings[(settings.length - 1) / 2];
    if (!targets.containsKey(key) && key.equals("bits")) {
      target = settings[settings.length / 2];
    }
    double goal = amount(key, target);
    int n = r.units().size();
    int[] choice = new int[n];
    java.util.Arrays.fill(choice, -1);
    double total = r.units().stream().mapToLong(SensitivityUnit::parameters).sum();
    double gained = 0;
    while (gained / total < goal - 1e-12) {
      int best = -1;
      int bestNext = -1;
      double bestRate = Double.POSITIVE_INFINITY;
      for (int u = 0; u < n; u++) {
        double lossNow = choice[u] < 0 ? 0 : r.loss()[u][opts.get(choice[u])];
        double amountNow = choice[u] < 0 ? 0 : amount(key, settings[choice[u]]);
        for (int o = choice[u] + 1; o < opts.size(); o++) {
          double l = r.loss()[u][opts.get(o)];
          if (Double.isNaN(l)) {
            continue;
          }
          double gain = r.units().get(u).parameters() * (amount(key, settings[o]) - amountNow);
          if (gain <= 0) {
            continue;
          }
          double rate = (l - lossNow) / gain;
          if (rate < bestRate) {
            bestRate = rate;
            best = u;
            bestNext = o;
          }
          break; // the next measured setting only
        }
      }
      if (best < 0) {
        break; // every unit at its strongest measured setting
      }
      double before = choice[best] < 0 ? 0 : amount(key, settings[choice[best]]);
      choice[best] = bestNext;
      gained += r.units().get(best).parameters() * (amount(key, settings[bestNext]) - before);
    }
    // Then undo what the budget does not need: weaken the unit whose step back saves the most
    // loss while the target still holds (the greedy overshoots by up to one step).
    while (true) {
      int best = -1;
      int bestPrev = -2;
      double bestSaving = 0;
      double bestLost = 0;
      for (int u = 0; u < n; u++) {
        if (choice[u] < 0) {
          continue;
        }
        int prev = choice[u] - 1;
        while (prev >= 0 && Double.isNaN(r.loss()[u][opts.get(prev)])) {
          prev--;
        }
        double now = r.loss()[u][opts.get(choice[u])];
        double then = prev < 0 ? 0 : r.loss()[u][opts.get(prev)];
        double lost =
            r.units().get(u).parameters()
                * (amount(key, settings[choice[u]]) - (prev < 0 ? 0 : amount(key, settings[prev])));
        if (now - then > bestSaving && (gained - lost) / total >= goal - 1e-12) {
          best = u;
          bestPrev = prev;
          bestSaving = now - then;
          bestLost = lost;
        }
      }
      if (best < 0) {
        break;
      }
      choice[best] = bestPrev;
      gained -= bestLost;
    }
    double reachedAmount = gained / total;
    double reached = key.equals("bits") ? 32 - reachedAmount : reachedAmount;
    double predicted = 0;
    Map<String, Object> assignment = new LinkedHashMap<>();
    Map<Integer, List<String>> targetsBy = new LinkedHashMap<>();
    for (int o = opts.size() - 1; o >= 0; o--) {
      targetsBy.put(o, new ArrayList<>());
    }
    for (int u = 0; u < n; u++) {
      if (choice[u] >= 0) {
        predicted += r.loss()[u][opts.get(choice[u])];
        assignment.put(
            r.units().get(u).name(), r.probes().get(opts.get(choice[u])).params().get(key));
        targetsBy.get(choice[u]).addAll(r.units().get(u).layers());
      }
    }
    Map<String, Object> tree = pipeline.toMap();
    tree.remove("output");
    List<Object> passes = new ArrayList<>();
    for (Map.Entry<Integer, List<String>> e : targetsBy.entrySet()) {
      if (e.getValue().isEmpty()) {
        continue;
      }
      Probe probe = r.probes().get(opts.get(e.getKey()));
      Map<String, Object> pass = new LinkedHashMap<>();
      pass.put("type", probe.type());
      pass.putAll(probe.params());
      pass.put("targets", e.getValue());
      pass.put("ignore", List.of());
      passes.add(pass);
    }
    if (passes.isEmpty()) {
      return null; // no cell of this family was measured (every unit n/a)
    }
    tree.put("passes", passes);
    String slug = family.replaceAll("[^A-Za-z0-9.]+", "-").replaceAll("-+$", "");
    tree.put("output", Map.of("dir", Path.of(outputDir, slug).toString(), "overwrite", false));
    if (!pipeline.calibration().isPresent()) {
      tree.remove("calibration");
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> data = (Map<String, Object>) stringify(tree);
    PipelineSpec spec = PipelineSpec.fromData(data, registry);
    StringBuilder y = new StringBuilder();
    y.append("# Suggested by compress sensitivity from ").append(r.model()).append('\n');
    y.append(
        String.format(
            Locale.ROOT,
            "# %s: target mean %s %s, reached %s (parameter-weighted; float counts as %s)%n",
            family,
            key,
            num(target),
            num(reached),
            key.equals("bits") ? "32 bits" : "sparsity 0"));
    y.append(
        String.format(
            Locale.ROOT,
            "# predicted loss (sum of the per-unit %s, assumed additive): %.4g%n",
            r.lossName(),
            predicted));
    y.append("# ")
        .append(assignment.size())
        .append(" of ")
        .append(n)
        .append(" units compressed; the least sensitive get the strongest setting\n");
    y.append(spec.toYaml());
    return new SensitivityPlan(
        family, key, target, reached, predicted, assignment, spec, y.toString());
  }

  /** Paths and other non-JSON values of a resolved spec map, as strings. */
  private static Object stringify(Object o) {
    if (o instanceof Map<?, ?> m) {
      Map<String, Object> out = new LinkedHashMap<>();
      m.forEach((k, v) -> out.put(String.valueOf(k), stringify(v)));
      return out;
    }
    if (o instanceof List<?> l) {
      return l.stream().map(SensitivityPlan::stringify).toList();
    }
    if (o instanceof Path p) {
      return p.toString();
    }
    if (o instanceof OptionalDouble d) {
      return d.isPresent() ? d.getAsDouble() : null;
    }
    return o;
  }

  private static String num(double v) {
    return v == Math.rint(v) && Math.abs(v) >= 1
        ? Long.toString((long) v)
        : String.format(Locale.ROOT, "%.3f", v);
  }
}
