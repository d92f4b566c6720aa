package dev.compress.lowrank.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.compress.api.ConfigException;
import dev.compress.training.Parameter;
import dev.compress.training.TrainableModel;
import dev.compress.training.loop.TrainingHook;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * AdaLoRA's rank allocation during training (Zhang et al. 2023, "AdaLoRA: Adaptive Budget
 * Allocation for Parameter-Efficient Fine-Tuning"), as a {@link TrainingHook} over the adapters of
 * {@link Adapters#insertAdaptive} ({@code ΔW = P Λ Q}, {@code P = lora_Bᵀ}, {@code Q = lora_Aᵀ},
 * {@code Λ = diag(lora_E)}).
 *
 * <ul>
 *   <li><b>Importance</b>, after each optimizer step with that update's gradients: for every entry
 *       of P, Λ and Q, {@code I = |θ · ∇θ|}, smoothed {@code Ī ← β1 Ī + (1 − β1) I}, its
 *       uncertainty {@code Ū ← β2 Ū + (1 − β2) |I − Ī|}, score {@code s = Ī · Ū}. The score of
 *       triplet {@code i} is {@code s(λ_i)} plus the mean score of P's column i and the mean of Q's
 *       row i.
 *   <li><b>Budget</b> (triplets kept, over all layers): {@code b(t) = b0 = rank · L} for {@code t
 *       <= tinit}; {@code b(t) = ⌊(b0 − bT)(1 − (t − tinit)/(T − tfinal − tinit))³ + bT⌋} with
 *       {@code bT = targetRank · L} until {@code t = T − tfinal}; {@code bT} after (PEFT's
 *       schedule, {@code t} counting updates from 1, {@code tinit} and {@code tfinal} in updates).
 *   <li><b>Masking</b>: every {@code deltaT} updates while the budget falls, and at {@code t = T −
 *       tfinal}, one global threshold over all layers' triplet scores keeps exactly {@code b(t)}
 *       triplets (ties broken by layer order, then index) and sets the other λ to zero; the mask of
 *       {@code t = T − tfinal} is then fixed and applied after every later update.
 *   <li><b>Orthogonality</b>: the penalty {@code γ Σ_layers (‖PᵀP − I‖²_F + ‖QQᵀ − I‖²_F)} (the
 *       paper's squared norms, summed over layers; PEFT averages unsquared norms) is added to each
 *       training loss, so the importance sees its gradient too.
 * </ul>
 *
 * <p>Only states after the fixed mask are validated, so the restored best state has the final
 * ranks.
 */
final class AdaLoraSchedule implements TrainingHook {
  private final List<Adapters.Adapter> adapters;
  private final int rank;
  private final int targetRank;
  private final double tinitFraction;
  private final double tfinalFraction;
  private final int deltaT;
  private final double beta1;
  private final double beta2;
  private final double orthWeight;

  private long steps;
  private long tinit;
  private long tfinal;
  private final Map<String, Parameter> byName = new HashMap<>();
  private final Map<String, float[]> ema = new HashMap<>();
  private final Map<String, float[]> unc = new HashMap<>();
  private boolean[][] kept; // the current mask, per layer and triplet
  private boolean fixed;
  private final List<long[]> history = new ArrayList<>(); // {update, budget, kept, λ != 0}

  AdaLoraSchedule(List<Adapters.Adapter> adapters, AdaLoraConfig c) {
    this.adapters = List.copyOf(adapters);
    this.rank = c.rank();
    this.targetRank = c.targetRank();
    this.tinitFraction = c.tinit();
    this.tfinalFraction = c.tfinal();
    this.deltaT = c.deltaT();
    this.beta1 = c.beta1();
    this.beta2 = c.beta2();
    this.orthWeight = c.orthWeight();
  }

  int initialBudget() {
    return rank * adapters.size();
  }

  int targetBudget() {
    return targetRank * adapters.size();
  }

  /** The budget after update {@code t} (1-based) of a run of {@link #start}'s steps. */
  int budget(long t) {
    if (t <= tinit) {
      return initialBudget();
    }
    if (t >= steps - tfinal) {
      return targetBudget();
    }
    double mul = 1 - (double) (t - tinit) / (steps - tfinal - tinit);
    return (int) ((initialBudget() - targetBudget()) * mul * mul * mul + targetBudget());
  }

  /** Whether the mask is recomputed after update {@code t}. */
  boolean masks(long t) {
    return t > tinit && (t == steps - tfinal || (t < steps - tfinal && t % deltaT == 0));
  }

  /** Per update: {update, budget, triplets the mask keeps, λ entries that are not 0}. */
  List<long[]> history() {
    return history;
  }

  /** The current mask (null before the first one), per adapter and triplet. */
  boolean[][] mask() {
    return kept;
  }

  @Override
  public void start(TrainableModel model, long n) throws ConfigException {
    steps = n;
    tinit = Math.round(tinitFraction * n);
    tfinal = Math.round(tfinalFraction * n);
    if (steps - tfinal - tinit < 1) {
      throw new ConfigException(
          "adalora: tinit "
              + tinitFraction
              + " and tfinal "
              + tfinalFraction
              + " of "
              + n
              + " updates leave no update for the budget to fall; lower them or give more steps");
    }
    for (Parameter p : model.parameters()) {
      byName.put(p.name(), p);
    }
  }

  @Override
  public NDArray penalty(TrainableModel model, NDManager nd) {
    if (orthWeight == 0) {
      return null;
    }
    NDArray sum = null;
    for (Adapters.Adapter ad : adapters) {
      NDArray a = view(byName.get(ad.a()), nd); // Qᵀ [in, r]: Q Qᵀ = Aᵀ A
      NDArray b = view(byName.get(ad.b()), nd); // Pᵀ [r, out]: Pᵀ P = B Bᵀ
      NDArray eye = nd.eye(ad.rank());
      NDArray qa = a.transpose().matMul(a).sub(eye).square().sum();
      NDArray pb = b.matMul(b.transpose()).sub(eye).square().sum();
      NDArray term = qa.add(pb);
      sum = sum == null ? term : sum.add(term);
    }
    return sum.mul((float) orthWeight);
  }

  /** A differentiable view of the parameter, owned by {@code nd}. */
  private static NDArray view(Parameter p, NDManager nd) {
    NDArray v = p.value().mul(1f);
    v.attach(nd);
    return v;
  }

  @Override
  public void afterUpdate(TrainableModel model, long t) {
    if (!fixed) {
      for (Adapters.Adapter ad : adapters) {
        for (String n : List.of(ad.a(), ad.b(), ad.e())) {
          track(byName.get(n));
        }
      }
      if (masks(t)) {
        kept = allocate(budget(t));
        fixed = t == steps - tfinal;
      }
    }
    if (kept != null && (fixed || masks(t))) {
      apply();
    }
    long n = 0;
    if (kept != null) {
      for (boolean[] k : kept) {
        for (boolean b : k) {
          n += b ? 1 : 0;
        }
      }
    } else {
      n = initialBudget();
    }
    long nonzero = 0;
    for (Adapters.Adapter ad : adapters) {
      for (float v : byName.get(ad.e()).value().toFloatArray()) {
        nonzero += v != 0 ? 1 : 0;
      }
    }
    history.add(new long[] {t, budget(t), n, nonzero});
  }

  @Override
  public boolean validates(long update) {
    return fixed;
  }

  /** Updates Ī and Ū of one parameter from its value and gradient. */
  private void track(Parameter p) {
    float[] w = p.value().toFloatArray();
    float[] g;
    try (NDArray grad = p.gradient()) {
      g = grad.toFloatArray();
    }
    float[] i1 = ema.computeIfAbsent(p.name(), k -> new float[w.length]);
    float[] u = unc.computeIfAbsent(p.name(), k -> new float[w.length]);
    for (int i = 0; i < w.length; i++) {
      double ipt = Math.abs((double) w[i] * g[i]);
      i1[i] = (float) (beta1 * i1[i] + (1 - beta1) * ipt);
      u[i] = (float) (beta2 * u[i] + (1 - beta2) * Math.abs(ipt - i1[i]));
    }
  }

  /** The triplet scores of one adapter: s(λ_i) + mean over Q's row i + mean over P's column i. */
  double[] scores(Adapters.Adapter ad) {
    int r = ad.rank();
    double[] s = new double[r];
    float[] ie = ema.get(ad.e());
    float[] ue = unc.get(ad.e());
    float[] ia = ema.get(ad.a()); // [in, r]
    float[] ua = unc.get(ad.a());
    float[] ib = ema.get(ad.b()); // [r, out]
    float[] ub = unc.get(ad.b());
    int in = (int) ad.inFeatures();
    int out = (int) ad.outFeatures();
    for (int j = 0; j < r; j++) {
      double qa = 0;
      for (int i = 0; i < in; i++) {
        qa += (double) ia[i * r + j] * ua[i * r + j];
      }
      double pb = 0;
      for (int o = 0; o < out; o++) {
        pb += (double) ib[j * out + o] * ub[j * out + o];
      }
      s[j] = (double) ie[j] * ue[j] + qa / in + pb / out;
    }
    return s;
  }

  /** The mask keeping exactly the {@code budget} best-scoring triplets over all layers. */
  boolean[][] allocate(int budget) {
    List<double[]> all = new ArrayList<>(); // {score, layer, index}
    for (int l = 0; l < adapters.size(); l++) {
      double[] s = scores(adapters.get(l));
      for (int j = 0; j < s.length; j++) {
        all.add(new double[] {s[j], l, j});
      }
    }
    all.sort(
        (x, y) -> {
          int c = Double.compare(y[0], x[0]);
          if (c != 0) {
            return c;
          }
          c = Double.compare(x[1], y[1]);
          return c != 0 ? c : Double.compare(x[2], y[2]);
        });
    boolean[][] m = new boolean[adapters.size()][];
    for (int l = 0; l < m.length; l++) {
      m[l] = new boolean[adapters.get(l).rank()];
    }
    for (int i = 0; i < Math.min(budget, all.size()); i++) {
      m[(int) all.get(i)[1]][(int) all.get(i)[2]] = true;
    }
    return m;
  }

  /** Sets the masked λ to zero in the trained parameters. */
  private void apply() {
    for (int l = 0; l < adapters.size(); l++) {
      boolean[] k = kept[l];
      float[] f = new float[k.length];
      for (int j = 0; j < k.length; j++) {
        f[j] = k[j] ? 1f : 0f;
      }
      byName
          .get(adapters.get(l).e())
          .update(
              w -> {
                try (NDArray m = w.getManager().create(f)) {
                  w.muli(m);
                }
              });
    }
  }

  /** The final mask: the fixed one, or (a run that never reached it) one computed now. */
  boolean[][] finalMask() {
    if (!fixed) {
      kept = ema.isEmpty() ? null : allocate(targetBudget());
    }
    return kept;
  }
}
