package dev.compress.api.pipeline;

import dev.compress.api.ConfigException;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.layers.LinearLayers;
import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassProvider;
import dev.compress.api.pass.PassReport;
import dev.compress.api.tensor.Tensor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/** Test-only pass provider {@code scale-weights}, registered in src/test/resources. */
public final class ScaleWeightsProvider implements PassProvider<ScaleWeightsConfig> {
  @Override
  public String type() {
    return "scale-weights";
  }

  @Override
  public String description() {
    return "multiplies selected weights by a factor (test only)";
  }

  @Override
  public Class<ScaleWeightsConfig> configType() {
    return ScaleWeightsConfig.class;
  }

  @Override
  public ScaleWeightsConfig defaults() {
    return ScaleWeightsConfig.DEFAULTS;
  }

  @Override
  public List<ParamDoc> parameters() {
    return List.of(new ParamDoc("factor", "multiplier, > 0"));
  }

  @Override
  public boolean needsCalibration() {
    return false;
  }

  @Override
  public Pass<ScaleWeightsConfig> create(ScaleWeightsConfig config) {
    return new ScaleWeightsPass(config);
  }

  /** The pass. */
  static final class ScaleWeightsPass implements Pass<ScaleWeightsConfig>, PassValidation {
    private final ScaleWeightsConfig config;

    ScaleWeightsPass(ScaleWeightsConfig config) {
      this.config = config;
    }

    @Override
    public ScaleWeightsConfig config() {
      return config;
    }

    @Override
    public List<String> validate(ModelGraph model, List<LinearLayer> selected) {
      List<String> p = new ArrayList<>();
      for (LinearLayer l : selected) {
        if (l.outFeatures() > config.maxOutFeatures()) {
          p.add(
              "layer '"
                  + l.name()
                  + "': out features "
                  + l.outFeatures()
                  + " > maxOutFeatures "
                  + config.maxOutFeatures());
        }
      }
      return p;
    }

    @Override
    public PassReport apply(ModelGraph model, PassContext ctx) throws ConfigException {
      long t0 = System.nanoTime();
      Graph g = model.graph();
      List<LinearLayer> layers = config.selection().select(LinearLayers.of(g));
      ctx.progress().start("scale-weights", layers.size());
      List<String> touched = new ArrayList<>();
      long bytes = 0;
      for (LinearLayer l : layers) {
        if (touched.size() == config.failAfter()) {
          throw new IllegalStateException("simulated crash after " + touched.size() + " layers");
        }
        Tensor w = g.initializers().get(l.weight());
        float[] v = w.toFloatArray();
        SplittableRandom rnd = ctx.random("scale-weights/" + l.name());
        float sign = config.mode() == ScaleWeightsConfig.Mode.SCALE_AND_NEGATE ? -1f : 1f;
        for (int i = 0; i < v.length; i++) {
          double noise = config.noise() == 0 ? 0 : config.noise() * gaussian(rnd);
          v[i] = (float) (sign * (v[i] * config.factor() + noise));
        }
        g.putInitializer(Tensor.ofFloats(w.name(), w.shape(), v));
        bytes += w.byteSize();
        touched.add(l.name());
        ctx.progress().step("scale-weights", touched.size(), layers.size(), l.name());
      }
      if (config.tags().contains("break-graph") && !layers.isEmpty()) { // a buggy pass
        layers.getFirst().node().inputs().set(0, "nowhere");
      }
      ctx.progress().finish("scale-weights");
      return new PassReport(
          "scale-weights",
          touched,
          List.of(),
          bytes,
          bytes,
          Map.of("factor", config.factor()),
          Duration.ofNanos(System.nanoTime() - t0));
    }

    private static double gaussian(SplittableRandom r) {
      double u1 = 1 - r.nextDouble();
      double u2 = r.nextDouble();
      return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }
  }
}
