package dev.compress.lowrank.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.ConfigException;
import dev.compress.api.graph.GraphCheck;
import dev.compress.api.graph.GraphEditor;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.layers.LinearLayers;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.pass.ProgressListener;
import dev.compress.api.tensor.Tensor;
import dev.compress.fixtures.Calibration;
import dev.compress.fixtures.EncoderConfig;
import dev.compress.fixtures.Fidelity;
import dev.compress.fixtures.TinyModels;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * QLoRA ({@code base: nf4}): the NF4 base computes in the graph what {@link
 * dev.compress.api.tensor.Nf4#dequantize} gives, adapters over it train and merge into the
 * dequantized weights, and a layer whose inputs do not fill NF4 blocks is refused by name.
 */
class QloraTest {
  // in_features must be multiples of 64, the NF4 block
  private static final EncoderConfig ENC = new EncoderConfig(64, 64, 4, 128, 1, 32, 1e-12f, 11);

  private static Map<String, Tensor> feed(long seed) {
    return Calibration.encoder(ENC, 1, 4, 8, seed).batches().get(0);
  }

  private static double cosine(ModelGraph a, ModelGraph b) throws Exception {
    double sum = 0;
    for (int i = 0; i < 3; i++) {
      sum +=
          Fidelity.models("onnxruntime", a, b, feed(700 + i), TinyModels.LAST_HIDDEN_STATE)
              .cosine();
    }
    return sum / 3;
  }

  @Test
  void theInGraphNf4BaseComputesTheDequantizedWeights() throws Exception {
    ModelGraph m = TinyModels.encoder(ENC);
    ModelGraph reference = m.copy();
    GraphEditor ed = GraphEditor.of(m.graph());
    List<LinearLayer> layers = LoraPass.selected(m.graph(), LayerSelection.ALL, 4);
    List<Nf4Base.Frozen> frozen = new ArrayList<>();
    for (LinearLayer l : layers) {
      frozen.add(Nf4Base.freeze(ed, l));
    }
    LoraPass.insert(ed, layers, 4, 8, new SplittableRandom(1));
    assertThat(GraphCheck.errors(m)).isEmpty();
    for (Nf4Base.Frozen f : frozen) {
      reference.graph().putInitializer(Nf4Base.dequantized(f));
    }
    double diff =
        Fidelity.models("onnxruntime", m, reference, feed(5), TinyModels.LAST_HIDDEN_STATE)
            .maxAbsDiff();
    System.out.printf("[qlora] max |nf4 graph - dequantized float| = %.3g%n", diff);
    assertThat(diff).isLessThan(1e-5); // measured 0
    assertThat(m.graph().initializers().values())
        .filteredOn(t -> t.name().endsWith(".nf4_codes"))
        .hasSize(layers.size());
  }

  @Test
  void adaptersOverAnNf4BaseTrainAndMergeIntoTheDequantizedWeights() throws Exception {
    ModelGraph teacher = TinyModels.encoder(ENC);
    ModelGraph student = teacher.copy();
    Random r = new Random(5);
    for (LinearLayer l : LinearLayers.of(student.graph())) { // a perturbed student
      Tensor w = student.graph().initializers().get(l.weight());
      float[] v = w.toFloatArray();
      for (int i = 0; i < v.length; i++) {
        v[i] += (float) (0.03 * r.nextGaussian());
      }
      student.graph().putInitializer(Tensor.ofFloats(w.name(), w.shape(), v));
    }
    java.util.Set<String> names = new java.util.HashSet<>(student.graph().initializers().keySet());
    double before = cosine(teacher, student);
    LoraConfig c =
        LoraConfig.defaults()
            .withBase(LoraConfig.Base.NF4)
            .withRank(4, 8)
            .withSchedule(1e-2, 30, 8)
            .withValidation(0.2, 10);
    PassReport rep =
        new LoraPass(c)
            .apply(
                student,
                new PassContext(
                    3,
                    Optional.of(Calibration.encoder(ENC, 5, 8, 8, 40)),
                    Optional.of(teacher),
                    ProgressListener.NONE));
    double after = cosine(teacher, student);
    System.out.printf(
        "[qlora tiny] cosine %.4f -> %.4f, validation %.4g -> %.4g, base bytes %s float, %s nf4"
            + " in graph, %s nf4 packed%n",
        before,
        after,
        rep.metrics().get("validation_loss_before"),
        rep.metrics().get("validation_loss_best"),
        rep.metrics().get("base_bytes_float"),
        rep.metrics().get("base_bytes_nf4_in_graph"),
        rep.metrics().get("base_bytes_nf4_packed"));
    assertThat(GraphCheck.errors(student)).isEmpty();
    assertThat(student.graph().initializers().keySet()).isEqualTo(names);
    assertThat(student.graph().nodes()).noneMatch(n -> n.name().contains("/nf4_"));
    assertThat(rep.metrics().get("validation_loss_best"))
        .isLessThan(rep.metrics().get("validation_loss_before")); // measured 0.047 -> 0.023
    // 1 byte per weight and a float per 64 in the graph: measured 35008 of 131072 bytes
    assertThat(rep.metrics().get("base_bytes_nf4_in_graph"))
        .isLessThan(0.3 * rep.metrics().get("base_bytes_float"));
    assertThat(after).isGreaterThan(before); // measured 0.953 -> 0.961 (NF4 error included)
  }

  @Test
  void aLayerWhoseInputsDoNotFillNf4BlocksIsRefusedByName() throws Exception {
    ModelGraph m = TinyModels.mlp(8, 6, 4, 1);
    Map<String, Tensor> inits = Map.copyOf(m.graph().initializers());
    assertThatThrownBy(
            () ->
                new LoraPass(LoraConfig.defaults().withBase(LoraConfig.Base.NF4).withRank(2, 4))
                    .apply(
                        m,
                        new PassContext(
                            1,
                            Optional.of(Calibration.tensors("x", 4, 1, 8, 8)),
                            Optional.of(m.copy()),
                            ProgressListener.NONE)))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "layer '/fc1/MatMul': base nf4 needs in_features divisible by 64 (the NF4 block),"
                + " found 8; layer '/fc2/Gemm': base nf4 needs in_features divisible by 64 (the"
                + " NF4 block), found 6");
    assertThat(m.graph().initializers()).isEqualTo(inits);
  }
}
