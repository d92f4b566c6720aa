package dev.compress.lowrank.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.compress.api.ConfigException;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.graph.GraphCheck;
import dev.compress.api.graph.GraphEditor;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.PassReport;
import dev.compress.api.tensor.Tensor;
import dev.compress.fixtures.Calibration;
import dev.compress.fixtures.EncoderConfig;
import dev.compress.fixtures.Fidelity;
import dev.compress.fixtures.TinyModels;
import dev.compress.training.ParameterSelection;
import dev.compress.training.TensorNd;
import dev.compress.training.TrainableFactory;
import dev.compress.training.TrainableModel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The dylora pass on a tiny encoder: the forward it trains at a sampled rank b is the forward of
 * the adapters truncated to b, which is a plain LoRA of rank b; every truncation brings the
 * perturbed student closer to its teacher than B = 0 does; keepRank writes that rank.
 */
class DyLoraTest {
  private static final EncoderConfig ENC = EncoderConfig.tiny(1, 11);

  private static DyLoraConfig.Builder config() {
    return DyLoraConfig.builder()
        .rank(4)
        .alpha(4)
        .lr(1e-2)
        .steps(40)
        .batchSize(8)
        .validationFraction(0.2)
        .validateEvery(10);
  }

  /** Stand-ins for the adapters of a kept model: the sampler reads only A's and B's names. */
  private static List<Adapters.Adapter> adaptersOf(ModelGraph m) {
    List<Adapters.Adapter> out = new ArrayList<>();
    for (String n : m.graph().initializers().keySet()) {
      if (n.endsWith(".lora_A")) {
        String layer = n.substring(0, n.length() - ".lora_A".length());
        out.add(
            new Adapters.Adapter(
                layer,
                null,
                n,
                layer + ".lora_B",
                null,
                layer + ".lora_scale",
                4,
                8,
                0,
                0,
                null,
                null,
                List.of()));
      }
    }
    return out;
  }

  @Test
  void everyTruncationIsTheTrainedSubModelAPlainLoraAndBetterThanBZero() throws Exception {
    ModelGraph teacher = TinyModels.encoder(ENC);
    CalibrationSet data = Calibration.encoder(ENC, 5, 8, 8, 40);
    ModelGraph student = AdaLoraTest.perturbed(teacher);
    double cosBase = AdaLoraTest.meanCosine(teacher, student);
    ModelGraph kept = student.copy();
    PassReport r =
        new DyLoraPass(config().steps(80).merge(false).build())
            .apply(kept, AdaLoraTest.context(teacher, data));
    assertThat(GraphCheck.errors(kept)).isEmpty();
    assertThat(r.metrics().get("rank_kept")).isEqualTo(4.0);
    Map<String, Tensor> feed = Calibration.encoder(ENC, 1, 4, 8, 701).batches().get(0);
    List<Adapters.Adapter> ads = adaptersOf(kept);
    List<String> names = new ArrayList<>();
    ads.forEach(a -> names.addAll(List.of(a.a(), a.b())));
    DyLoraPass.Sampler sampler = new DyLoraPass.Sampler(ads, 4, 4, new SplittableRandom(1));
    StringBuilder line = new StringBuilder();
    double[] coss = new double[5];
    try (TrainableModel tm =
        TrainableFactory.installedDefault()
            .create(
                kept,
                ParameterSelection.initializers(names),
                AdaLoraTest.context(teacher, data).device())) {
      sampler.start(tm, 1);
      for (int b = 1; b <= 4; b++) {
        sampler.use(b);
        float[] trained;
        try (NDManager nd = tm.newManager()) {
          Map<String, NDArray> in = new LinkedHashMap<>();
          for (String n : tm.inputNames()) {
            in.put(n, TensorNd.toNd(feed.get(n), nd));
          }
          trained =
              TensorNd.toTensor("y", tm.forward(nd, in).get(TinyModels.LAST_HIDDEN_STATE))
                  .toFloatArray();
        }
        ModelGraph cut = kept.copy();
        assertThat(DyLoraPass.truncate(cut, b)).isEqualTo(ads.size());
        float[] exported =
            Fidelity.run("onnxruntime", cut, feed).get(TinyModels.LAST_HIDDEN_STATE).toFloatArray();
        double dTrain = Fidelity.maxAbsDiff(trained, exported);

        // the same factors as a plain rank-b LoRA on the untouched student
        ModelGraph lora = student.copy();
        GraphEditor ed = GraphEditor.of(lora.graph());
        for (LinearLayer l : LoraPass.selected(lora.graph(), LayerSelection.ALL, b)) {
          Adapters.Adapter a = Adapters.insert(ed, l, b, 4, new SplittableRandom(2));
          lora.graph().putInitializer(cut.graph().initializers().get(a.a()));
          lora.graph().putInitializer(cut.graph().initializers().get(a.b()));
        }
        float[] plain =
            Fidelity.run("onnxruntime", lora, feed)
                .get(TinyModels.LAST_HIDDEN_STATE)
                .toFloatArray();
        double dLora = Fidelity.maxAbsDiff(plain, exported);
        double cos = AdaLoraTest.meanCosine(teacher, cut);
        line.append(
            String.format(
                "b=%d cos %.4f |train-export| %.2g |lora-export| %.2g; ", b, cos, dTrain, dLora));
        assertThat(dTrain).as("rank %d: training forward vs truncated export", b).isLessThan(1e-5);
        assertThat(dLora).as("rank %d: plain LoRA vs truncated export", b).isLessThan(1e-6);
        coss[b] = cos;
      }
    }
    System.out.printf("[dylora tiny] B=0 cos %.4f; %s%n", cosBase, line);
    // measured: B=0 0.9278; b=1 0.9391, b=2 0.9526, b=3 0.9555, b=4 0.9563 (alpha 8 instead of 4
    // left rank 1 at 0.924, below B = 0: alpha / 1 over-scales it)
    for (int b = 1; b <= 4; b++) {
      assertThat(coss[b]).as("rank %d vs B = 0 (%.4f)", b, cosBase).isGreaterThan(cosBase + 0.005);
    }
  }

  @Test
  void theSamplerDrawsEveryRankFromOneToR() {
    DyLoraPass.Sampler s = new DyLoraPass.Sampler(List.of(), 5, 5, new SplittableRandom(3));
    for (int t = 1; t <= 200; t++) {
      s.beforeUpdate(null, t);
      s.afterUpdate(null, t);
    }
    assertThat(new TreeSet<>(s.drawn())).containsExactly(1, 2, 3, 4, 5);
  }

  @Test
  void keepRankWritesThatRankScaledAlphaOverIt() throws Exception {
    ModelGraph teacher = TinyModels.encoder(ENC);
    ModelGraph m = AdaLoraTest.perturbed(teacher);
    new DyLoraPass(config().keepRank(2).steps(10).merge(false).build())
        .apply(m, AdaLoraTest.context(teacher, Calibration.encoder(ENC, 5, 8, 8, 40)));
    String q = "/encoder/layer.0/attention/self/query/MatMul";
    assertThat(m.graph().initializers().get(q + ".lora_A").shape())
        .containsExactly(ENC.hidden(), 2);
    assertThat(m.graph().initializers().get(q + ".lora_B").shape())
        .containsExactly(2, ENC.hidden());
    assertThat(m.graph().initializers().get(q + ".lora_scale").toFloatArray()[0]).isEqualTo(2f);
  }

  @Test
  void badInputFailsWithOneLine() throws Exception {
    assertThatThrownBy(() -> DyLoraConfig.builder().rank(4).keepRank(5).build())
        .isInstanceOf(InvalidConfigException.class)
        .hasMessage("keepRank must be in [1, rank 4], found 5");
    assertThatThrownBy(() -> DyLoraConfig.builder().keepRank(0).build())
        .hasMessage("keepRank must be in [1, rank 8], found 0");
    ModelGraph m = TinyModels.mlp(8, 6, 4, 1);
    GraphEditor ed = GraphEditor.of(m.graph());
    LinearLayer fc1 = LoraPass.selected(m.graph(), LayerSelection.ALL, 3).get(0);
    Adapters.insert(ed, fc1, 3, 6, new SplittableRandom(1));
    Map<String, Tensor> inits = Map.copyOf(m.graph().initializers());
    assertThatThrownBy(() -> DyLoraPass.truncate(m, 4))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "dylora truncate: rank 4 is not in [1, 3] of the adapter of '/fc1/MatMul'; nothing"
                + " was truncated");
    assertThat(m.graph().initializers()).isEqualTo(inits);
  }
}
