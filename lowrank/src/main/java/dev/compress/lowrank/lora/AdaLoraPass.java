package dev.compress.lowrank.lora;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.graph.GraphEditor;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.pipeline.PassValidation;
import dev.compress.training.loop.TrainingHook;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * AdaLoRA (Zhang et al. 2023): adapters {@code ΔW = P Λ Q} of initial rank {@code rank} on the
 * selected layers ({@link Adapters#insertAdaptive}), trained like {@code lora}'s while {@link
 * AdaLoraSchedule} masks the least important triplets under a falling global budget (cubic, from
 * {@code rank} to {@code targetRank} per layer on average) and the orthogonality regulariser keeps
 * P and Q near orthonormal.
 *
 * <p>After training, each layer keeps the triplets of the final mask: its rank is reported in the
 * layer metrics ({@code rank}) and summarised in the metrics ({@code budget_target}, {@code
 * rank_allocated_mean}, {@code rank_allocated_min}, {@code rank_allocated_max}, {@code
 * adapter_parameters_kept}). {@code merge: true} folds {@code (alpha / rank) Qᵀ Λ Pᵀ} (the kept
 * triplets) into W0; {@code merge: false} keeps each layer's branch as a plain LoRA branch of its
 * allocated rank ({@code lora_A = (Qᵀ Λ)} on the kept columns, {@code lora_B = Pᵀ} on the kept
 * rows, the scale {@code alpha / rank}), a layer given rank 0 losing its branch.
 */
public final class AdaLoraPass implements Pass<AdaLoraConfig>, PassValidation {
  private final AdaLoraConfig config;

  /** A pass for a validated config. */
  public AdaLoraPass(AdaLoraConfig config) {
    this.config = config;
  }

  @Override
  public AdaLoraConfig config() {
    return config;
  }

  @Override
  public List<String> validate(ModelGraph model, List<LinearLayer> selected) {
    List<String> p = new ArrayList<>();
    for (LinearLayer l : selected) {
      if (!Adapters.isAdapter(l)) {
        String why = Adapters.problem(l, config.rank());
        if (why != null) {
          p.add(why);
        }
      }
    }
    return p;
  }

  @Override
  public PassReport apply(ModelGraph model, PassContext context) throws CompressionException {
    AdaLoraConfig c = config;
    AdapterRun.Keys keys =
        new AdapterRun.Keys(
            AdaLoraProvider.TYPE,
            c.selection(),
            c.teacher(),
            c.losses(),
            c.rank(),
            c.alpha(),
            c.merge(),
            c.base(),
            c.settings());
    return AdapterRun.run(keys, new Method(), model, context);
  }

  private final class Method implements AdapterRun.Method {
    private AdaLoraSchedule schedule;

    @Override
    public Adapters.Adapter insert(GraphEditor ed, LinearLayer layer, SplittableRandom random)
        throws ConfigException {
      return Adapters.insertAdaptive(ed, layer, config.rank(), config.alpha(), random);
    }

    @Override
    public TrainingHook hook(List<Adapters.Adapter> adapters, PassContext context) {
      schedule = new AdaLoraSchedule(adapters, config);
      return schedule;
    }

    @Override
    public List<Adapters.Adapter> finish(
        GraphEditor ed,
        List<LinearLayer> layers,
        List<Adapters.Adapter> trained,
        Map<String, Double> metrics,
        Map<String, Map<String, Double>> layerMetrics,
        List<PassReport.Note> notes) {
      boolean[][] mask = schedule.finalMask();
      List<Adapters.Adapter> out = new ArrayList<>();
      int min = Integer.MAX_VALUE;
      int max = 0;
      long sum = 0;
      long params = 0;
      for (int l = 0; l < trained.size(); l++) {
        Adapters.Adapter ad = trained.get(l);
        int r = ad.rank();
        int in = (int) ad.inFeatures();
        int o = (int) ad.outFeatures();
        List<Integer> keep = new ArrayList<>();
        for (int j = 0; j < r; j++) {
          if (mask == null || mask[l][j]) {
            keep.add(j);
          }
        }
        int k = keep.size();
        float[] av = ed.graph().initializers().get(ad.a()).toFloatArray();
        float[] bv = ed.graph().initializers().get(ad.b()).toFloatArray();
        float[] ev = ed.graph().initializers().get(ad.e()).toFloatArray();
        float[] a = new float[in * k];
        float[] b = new float[k * o];
        for (int q = 0; q < k; q++) {
          int j = keep.get(q);
          for (int i = 0; i < in; i++) {
            a[i * k + q] = av[i * r + j] * ev[j];
          }
          System.arraycopy(bv, j * o, b, q * o, o);
        }
        out.add(Adapters.refactor(ed, layers.get(l), ad, a, b, k, ad.scaling()));
        Map<String, Double> lm = new LinkedHashMap<>();
        lm.put("rank", (double) k);
        layerMetrics.put(layers.get(l).name(), lm);
        min = Math.min(min, k);
        max = Math.max(max, k);
        sum += k;
        params += (long) k * (in + o);
      }
      metrics.put("budget_initial", (double) schedule.initialBudget());
      metrics.put("budget_target", (double) schedule.targetBudget());
      metrics.put("rank_allocated_mean", sum / (double) trained.size());
      metrics.put("rank_allocated_min", (double) min);
      metrics.put("rank_allocated_max", (double) max);
      metrics.put("adapter_parameters_kept", (double) params);
      return out;
    }
  }
}
