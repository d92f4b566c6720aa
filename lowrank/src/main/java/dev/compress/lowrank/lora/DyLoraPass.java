package dev.compress.lowrank.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.GraphEditor;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.pipeline.PassValidation;
import dev.compress.api.tensor.Tensor;
import dev.compress.training.TrainableModel;
import dev.compress.training.loop.TrainingHook;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * DyLoRA (Valipour et al. 2023, "DyLoRA: Parameter-Efficient Tuning of Pre-trained Models using
 * Dynamic Search-Free Low-Rank Adaptation"): LoRA adapters of rank {@code rank} trained so that
 * every truncation to rank {@code b <= rank} works: before each update a rank {@code b} is drawn
 * uniformly from {@code 1..rank} (stream {@code dylora/rank}) and the forward uses only the first
 * {@code b} columns of A and rows of B, scaled {@code alpha / b} (masks on A and B through the
 * trainer's parameter transforms; the others get no gradient that update). Validation, and the
 * starting loss it is compared with, run at {@code keepRank}.
 *
 * <p>After training the adapters are truncated to {@code keepRank} ({@link #truncate}: the first
 * {@code keepRank} columns of A and rows of B, the scale {@code alpha / keepRank}), then merged or
 * kept. A model kept at the full rank can be truncated to any lower rank later with {@link
 * #truncate}.
 */
public final class DyLoraPass implements Pass<DyLoraConfig>, PassValidation {
  private final DyLoraConfig config;

  /** A pass for a validated config. */
  public DyLoraPass(DyLoraConfig config) {
    this.config = config;
  }

  @Override
  public DyLoraConfig config() {
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
    DyLoraConfig c = config;
    AdapterRun.Keys keys =
        new AdapterRun.Keys(
            DyLoraProvider.TYPE,
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

  /**
   * Truncates every LoRA adapter of {@code model} ({@code LAYER.lora_A [in, r]}, {@code .lora_B [r,
   * out]}, {@code .lora_scale}) to rank {@code k}: the first {@code k} columns of A and rows of B,
   * the scale {@code alpha / k} with {@code alpha = scale · r}.
   *
   * @return the number of adapters truncated
   * @throws ConfigException when {@code k} is not in {@code [1, r]} of an adapter (nothing is
   *     changed)
   */
  public static int truncate(ModelGraph model, int k) throws ConfigException {
    Graph g = model.graph();
    List<String> layers = new ArrayList<>();
    for (String name : g.initializers().keySet()) {
      if (name.endsWith(".lora_A")) {
        String layer = name.substring(0, name.length() - ".lora_A".length());
        if (g.initializers().containsKey(layer + ".lora_B")
            && g.initializers().containsKey(layer + ".lora_scale")) {
          Tensor a = g.initializers().get(name);
          if (k < 1 || k > a.dim(1)) {
            throw new ConfigException(
                "dylora truncate: rank "
                    + k
                    + " is not in [1, "
                    + a.dim(1)
                    + "] of the adapter of '"
                    + layer
                    + "'; nothing was truncated");
          }
          layers.add(layer);
        }
      }
    }
    for (String layer : layers) {
      Tensor a = g.initializers().get(layer + ".lora_A");
      Tensor b = g.initializers().get(layer + ".lora_B");
      Tensor s = g.initializers().get(layer + ".lora_scale");
      int r = (int) a.dim(1);
      double alpha = s.toFloatArray()[0] * (double) r;
      g.putInitializer(
          Tensor.ofFloats(
              a.name(), a.dtype(), new long[] {a.dim(0), k}, columns(a.toFloatArray(), r, k)));
      g.putInitializer(
          Tensor.ofFloats(
              b.name(),
              b.dtype(),
              new long[] {k, b.dim(1)},
              java.util.Arrays.copyOf(b.toFloatArray(), (int) (k * b.dim(1)))));
      g.putInitializer(Tensor.ofFloats(s.name(), s.dtype(), new long[] {}, (float) (alpha / k)));
    }
    return layers.size();
  }

  /** The first {@code k} of the {@code r} columns of the row-major {@code v}. */
  static float[] columns(float[] v, int r, int k) {
    int rows = v.length / r;
    float[] o = new float[rows * k];
    for (int i = 0; i < rows; i++) {
      System.arraycopy(v, i * r, o, i * k, k);
    }
    return o;
  }

  /** The sampled-rank training of {@link DyLoraPass}, as a trainer hook. */
  static final class Sampler implements TrainingHook {
    private final List<Adapters.Adapter> adapters;
    private final int rank;
    private final int evalRank;
    private final SplittableRandom random;
    private volatile int current;
    private final List<Integer> drawn = new ArrayList<>();

    Sampler(List<Adapters.Adapter> adapters, int rank, int evalRank, SplittableRandom random) {
      this.adapters = List.copyOf(adapters);
      this.rank = rank;
      this.evalRank = evalRank;
      this.random = random;
      this.current = evalRank;
    }

    /** The ranks drawn, one per update. */
    List<Integer> drawn() {
      return drawn;
    }

    /** Makes the next forwards use the first {@code b} ranks (outside training: tests). */
    void use(int b) {
      current = b;
    }

    @Override
    public void start(TrainableModel model, long steps) {
      for (Adapters.Adapter ad : adapters) {
        model.setParameterTransform(ad.a(), a -> a.mul(mask(a, new Shape(1, rank), 1)));
        model.setParameterTransform(
            ad.b(), b -> b.mul(mask(b, new Shape(rank, 1), (float) rank / current)));
      }
    }

    /** Ones (times {@code value}) on the first {@code current} ranks, zeros after. */
    private NDArray mask(NDArray like, Shape shape, float value) {
      float[] m = new float[rank];
      for (int j = 0; j < current; j++) {
        m[j] = value;
      }
      return like.getManager().create(m, shape).toType(like.getDataType(), false);
    }

    @Override
    public void beforeUpdate(TrainableModel model, long update) {
      current = 1 + random.nextInt(rank);
      drawn.add(current);
    }

    @Override
    public void afterUpdate(TrainableModel model, long update) {
      current = evalRank;
    }
  }

  private final class Method implements AdapterRun.Method {
    @Override
    public Adapters.Adapter insert(GraphEditor ed, LinearLayer layer, SplittableRandom random)
        throws ConfigException {
      return Adapters.insert(ed, layer, config.rank(), config.alpha(), random);
    }

    @Override
    public TrainingHook hook(List<Adapters.Adapter> adapters, PassContext context) {
      return new Sampler(
          adapters,
          config.rank(),
          config.keepRank().orElse(config.rank()),
          context.random(DyLoraProvider.TYPE + "/rank"));
    }

    @Override
    public List<Adapters.Adapter> finish(
        GraphEditor ed,
        List<LinearLayer> layers,
        List<Adapters.Adapter> trained,
        Map<String, Double> metrics,
        Map<String, Map<String, Double>> layerMetrics,
        List<PassReport.Note> notes) {
      int k = config.keepRank().orElse(config.rank());
      List<Adapters.Adapter> out = new ArrayList<>();
      for (int l = 0; l < trained.size(); l++) {
        Adapters.Adapter ad = trained.get(l);
        Tensor a = ed.graph().initializers().get(ad.a());
        Tensor b = ed.graph().initializers().get(ad.b());
        out.add(
            Adapters.refactor(
                ed,
                layers.get(l),
                ad,
                columns(a.toFloatArray(), ad.rank(), k),
                java.util.Arrays.copyOf(b.toFloatArray(), (int) (k * ad.outFeatures())),
                k,
                config.alpha() / k));
      }
      metrics.put("rank_kept", (double) k);
      return out;
    }
  }
}
