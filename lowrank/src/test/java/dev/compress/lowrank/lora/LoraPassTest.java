package dev.compress.lowrank.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.ConfigException;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.graph.GraphCheck;
import dev.compress.api.graph.GraphEditor;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.io.safetensors.SafetensorsFile;
import dev.compress.api.io.safetensors.SafetensorsReader;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.layers.LinearLayers;
import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.pass.ProgressListener;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.fixtures.Calibration;
import dev.compress.fixtures.EncoderConfig;
import dev.compress.fixtures.Fidelity;
import dev.compress.fixtures.Gaussian;
import dev.compress.fixtures.TinyModels;
import dev.compress.lowrank.rank.Allocation;
import dev.compress.lowrank.svd.SvdConfig;
import dev.compress.lowrank.svd.SvdPass;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The lora pass on tiny models: adapters leave the model unchanged at init, the merged model
 * computes what the adapted one computes (ONNX Runtime), training moves only A and B and brings a
 * perturbed student back towards its teacher, also on SVD factors; bad input fails with one line.
 */
class LoraPassTest {
  private static final EncoderConfig ENC = EncoderConfig.tiny(1, 11);
  @TempDir Path tmp;

  private static Map<String, Tensor> mlpFeed(long seed) {
    return Map.of("x", TinyModels.mlpInput(seed, 5, 8));
  }

  private static Map<String, Tensor> encFeed(long seed) {
    return Calibration.encoder(ENC, 1, 4, 8, seed).batches().get(0);
  }

  private static PassContext context(ModelGraph teacher, CalibrationSet data) {
    return new PassContext(3, Optional.of(data), Optional.of(teacher), ProgressListener.NONE);
  }

  /** The teacher with every linear weight of block 0 and 1 perturbed by 30% Gaussian noise. */
  private static ModelGraph perturbed(ModelGraph teacher) {
    ModelGraph s = teacher.copy();
    Random r = new Random(5);
    for (LinearLayer l : LinearLayers.of(s.graph())) {
      Tensor w = s.graph().initializers().get(l.weight());
      float[] v = w.toFloatArray();
      double norm = 0;
      for (float f : v) {
        norm += f * f;
      }
      double std = 0.3 * Math.sqrt(norm / v.length);
      for (int i = 0; i < v.length; i++) {
        v[i] += (float) (std * r.nextGaussian());
      }
      s.graph().putInitializer(Tensor.ofFloats(w.name(), w.shape(), v));
    }
    return s;
  }

  private static double meanCosine(ModelGraph a, ModelGraph b) throws Exception {
    double sum = 0;
    for (int i = 0; i < 3; i++) {
      sum +=
          Fidelity.models("onnxruntime", a, b, encFeed(700 + i), TinyModels.LAST_HIDDEN_STATE)
              .cosine();
    }
    return sum / 3;
  }

  private static float[] out(ModelGraph m, Map<String, Tensor> feed, String name) throws Exception {
    return Fidelity.run("onnxruntime", m, feed).get(name).toFloatArray();
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void bZeroAtInitLeavesOutputsUnchangedAndTheMergeEqualsTheAdaptedForward(boolean transB)
      throws Exception {
    ModelGraph m = TinyModels.mlp(17, 8, 6, 4, 1, transB);
    float[] base = out(m, mlpFeed(9), "y");
    GraphEditor ed = GraphEditor.of(m.graph());
    List<LinearLayer> layers = LoraPass.selected(m.graph(), LayerSelection.ALL, 3);
    List<Adapters.Adapter> ads = LoraPass.insert(ed, layers, 3, 6, new SplittableRandom(1));
    assertThat(GraphCheck.errors(m)).isEmpty();
    float[] init = out(m, mlpFeed(9), "y");
    assertThat(Fidelity.maxAbsDiff(base, init)).isEqualTo(0.0); // B = 0: the branch adds exact 0

    // a trained adapter: B random, so the branch contributes
    Random r = new Random(2);
    for (Adapters.Adapter a : ads) {
      Tensor b = m.graph().initializers().get(a.b());
      m.graph().putInitializer(Gaussian.tensor(a.b(), r, 0.5f, b.shape()));
    }
    float[] adapted = out(m, mlpFeed(9), "y");
    assertThat(Fidelity.maxAbsDiff(base, adapted)).isGreaterThan(1e-2);
    long paramsBefore =
        TinyModels.mlp(17, 8, 6, 4, 1, transB).graph().initializers().values().stream()
            .mapToLong(Tensor::elementCount)
            .sum();
    for (int i = 0; i < ads.size(); i++) {
      Adapters.merge(ed, layers.get(i), ads.get(i));
    }
    assertThat(GraphCheck.errors(m)).isEmpty();
    assertThat(m.graph().nodes()).noneMatch(n -> n.name().contains(Adapters.MARK));
    assertThat(m.graph().initializers().keySet()).noneMatch(k -> k.contains(".lora_"));
    assertThat(m.graph().initializers().values().stream().mapToLong(Tensor::elementCount).sum())
        .isEqualTo(paramsBefore);
    float[] merged = out(m, mlpFeed(9), "y");
    double diff = Fidelity.maxAbsDiff(adapted, merged);
    System.out.printf("[lora merge, transB=%s] max |adapted - merged| = %.3g%n", transB, diff);
    assertThat(diff).isLessThan(1e-5); // measured 2.4e-7
  }

  @Test
  void theMergeKeepsAHalfPrecisionBaseInHalfPrecision() throws Exception {
    ModelGraph m = TinyModels.mlp(8, 6, 4, 1);
    Tensor w1 = m.graph().initializers().get("W1");
    m.graph()
        .putInitializer(Tensor.ofFloats("W1", DataType.FLOAT16, w1.shape(), w1.toFloatArray()));
    GraphEditor ed = GraphEditor.of(m.graph());
    LinearLayer fc1 =
        LoraPass.selected(m.graph(), new LayerSelection(List.of(TinyModels.MLP_FC1), null), 2)
            .get(0);
    Adapters.Adapter a = Adapters.insert(ed, fc1, 2, 4, new SplittableRandom(1));
    assertThat(m.graph().initializers().get(a.a()).dtype()).isEqualTo(DataType.FLOAT16);
    m.graph()
        .putInitializer(
            Tensor.ofFloats(
                a.b(),
                DataType.FLOAT16,
                new long[] {2, 6},
                0.1f,
                0.2f,
                -0.1f,
                0.3f,
                0f,
                0.05f,
                0.1f,
                -0.2f,
                0.1f,
                0.1f,
                0.4f,
                -0.3f));
    Adapters.merge(ed, fc1, a);
    assertThat(m.graph().initializers().get("W1").dtype()).isEqualTo(DataType.FLOAT16);
  }

  @Test
  void trainingMovesOnlyTheAdaptersAndBringsAPerturbedStudentBack() throws Exception {
    ModelGraph teacher = TinyModels.encoder(ENC);
    ModelGraph student = perturbed(teacher);
    Map<String, Tensor> before = new HashMap<>(student.graph().initializers());
    double cosBefore = meanCosine(teacher, student);
    LoraConfig c =
        LoraConfig.defaults()
            .withRank(4, 8)
            .withMerge(false)
            .withSchedule(1e-2, 30, 8)
            .withValidation(0.2, 10);
    PassReport r =
        new LoraPass(c).apply(student, context(teacher, Calibration.encoder(ENC, 5, 8, 8, 40)));
    assertThat(GraphCheck.errors(student)).isEmpty();
    double cosAdapted = meanCosine(teacher, student);
    int adaptersSeen = 0;
    for (Map.Entry<String, Tensor> e : student.graph().initializers().entrySet()) {
      Tensor old = before.get(e.getKey());
      if (old != null) {
        assertThat(e.getValue().toFloatArray()).as(e.getKey()).isEqualTo(old.toFloatArray());
      } else if (e.getKey().endsWith(".lora_B")) {
        adaptersSeen++;
        assertThat(
                Fidelity.maxAbsDiff(
                    e.getValue().toFloatArray(), new float[(int) e.getValue().elementCount()]))
            .isGreaterThan(0);
      }
    }
    int layers = LinearLayers.of(teacher.graph()).size();
    assertThat(adaptersSeen).isEqualTo(layers);
    System.out.printf(
        "[lora tiny] cosine %.4f -> %.4f, validation loss %.4g -> %.4g, %s adapter params%n",
        cosBefore,
        cosAdapted,
        r.metrics().get("validation_loss_before"),
        r.metrics().get("validation_loss_best"),
        r.metrics().get("adapter_parameters"));
    assertThat(r.metrics().get("validation_loss_best"))
        .isLessThan(0.7 * r.metrics().get("validation_loss_before")); // measured 0.061 -> 0.0285
    assertThat(cosAdapted).isGreaterThan(cosBefore + 0.01); // measured 0.928 -> 0.955

    // the kept adapters in PEFT's layout: A [r, in], B [out, r], transposes of the initializers
    assertThat(PeftAdapters.write(student, tmp)).isEqualTo(layers);
    SafetensorsFile f = SafetensorsReader.read(tmp.resolve("adapter_model.safetensors"));
    String q = "/encoder/layer.0/attention/self/query/MatMul";
    Tensor a = f.tensor("base_model.model.encoder.layer.0.attention.self.query.lora_A.weight");
    Tensor b = f.tensor("base_model.model.encoder.layer.0.attention.self.query.lora_B.weight");
    assertThat(a.shape()).containsExactly(4, ENC.hidden());
    assertThat(b.shape()).containsExactly(ENC.hidden(), 4);
    float[] onnxB = student.graph().initializers().get(q + ".lora_B").toFloatArray(); // [4, out]
    assertThat(b.toFloatArray()[3 * 4 + 1]).isEqualTo(onnxB[1 * ENC.hidden() + 3]);
    String config = Files.readString(tmp.resolve("adapter_config.json"));
    assertThat(config)
        .contains("\"peft_type\": \"LORA\"", "\"r\": 4,", "\"lora_alpha\": 8,")
        .contains("\"encoder.layer.0.attention.self.query\"");
  }

  @Test
  void loraOnSvdFactorsRecoversAndTheMergedModelKeepsTheFactorShapes() throws Exception {
    ModelGraph teacher = TinyModels.encoder(ENC);
    ModelGraph student = teacher.copy();
    CalibrationSet data = Calibration.encoder(ENC, 5, 8, 8, 40);
    new SvdPass(new SvdConfig(null, Allocation.FIXED, 0, 0, 6))
        .apply(student, context(teacher, data));
    Map<String, long[]> shapes = new HashMap<>();
    student.graph().initializers().forEach((k, v) -> shapes.put(k, v.shape()));
    double cosSvd = meanCosine(teacher, student);
    LoraConfig c =
        LoraConfig.defaults().withRank(2, 4).withSchedule(1e-2, 30, 8).withValidation(0.2, 10);
    PassReport r = new LoraPass(c).apply(student, context(teacher, data));
    double cosLora = meanCosine(teacher, student);
    System.out.printf(
        "[lora after svd rank 6] cosine %.4f -> %.4f (%s layers adapted)%n",
        cosSvd, cosLora, r.metrics().get("layers_adapted"));
    assertThat(GraphCheck.errors(student)).isEmpty();
    assertThat(student.graph().initializers().keySet()).isEqualTo(shapes.keySet());
    student
        .graph()
        .initializers()
        .forEach((k, v) -> assertThat(v.shape()).isEqualTo(shapes.get(k)));
    assertThat(r.layersTouched())
        .contains(
            "/encoder/layer.0/attention/self/query/MatMul",
            "/encoder/layer.0/attention/self/query/MatMul_lowrank_in");
    assertThat(cosLora).isGreaterThan(cosSvd + 0.03); // measured 0.778 -> 0.841
  }

  @Test
  void badInputFailsWithOneLineNamingTheKey() throws Exception {
    assertThatThrownBy(() -> LoraConfig.defaults().withRank(0, 16))
        .isInstanceOf(InvalidConfigException.class)
        .hasMessage("rank must be >= 1, found 0");
    assertThatThrownBy(() -> LoraConfig.defaults().withRank(4, 0))
        .hasMessage("alpha must be > 0, found 0.0");
    ModelGraph m = TinyModels.mlp(8, 6, 4, 1);
    assertThatThrownBy(() -> LoraPass.selected(m.graph(), LayerSelection.ALL, 5))
        .isInstanceOf(ConfigException.class)
        .hasMessage("layer '/fc2/Gemm': rank 5 is above min(in 6, out 4) = 4");
    assertThatThrownBy(
            () -> LoraPass.selected(m.graph(), new LayerSelection(List.of("/fc9/MatMul"), null), 2))
        .hasMessage("targets[0] '/fc9/MatMul' matches no linear layer");
    Map<String, Tensor> inits = Map.copyOf(m.graph().initializers());
    int nodes = m.graph().nodes().size();
    assertThatThrownBy(
            () ->
                new LoraPass(LoraConfig.defaults().withRank(5, 10))
                    .apply(m, context(m.copy(), Calibration.tensors("x", 4, 1, 8, 8))))
        .hasMessage("layer '/fc2/Gemm': rank 5 is above min(in 6, out 4) = 4");
    assertThat(m.graph().initializers()).isEqualTo(inits);
    assertThat(m.graph().nodes()).hasSize(nodes);

    // merging an adapter into a base of another shape
    GraphEditor ed = GraphEditor.of(m.graph());
    LinearLayer fc1 = LinearLayers.of(m.graph()).get(0);
    Tensor a = Tensor.ofFloats("A", new long[] {7, 2}, new float[14]);
    Tensor b = Tensor.ofFloats("B", new long[] {2, 6}, new float[12]);
    assertThatThrownBy(() -> Adapters.mergeInto(ed, fc1, a, b, 1.0))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "lora merge: the adapter of layer '/fc1/MatMul' is A [7, 2] x B [2, 6], which does"
                + " not give the base weight's [in 8, out 6]; nothing was merged");
    assertThat(m.graph().initializers()).isEqualTo(inits);
  }

  @Test
  void aQuantizedLayerIsRefusedByName() throws Exception {
    ModelGraph m = TinyModels.mlp(8, 6, 4, 1);
    // W1 as int8 behind a DequantizeLinear, as weight-only quantization writes it
    m.graph()
        .putInitializer(Tensor.ofBytes("W1_q", DataType.INT8, new long[] {8, 6}, new byte[48]));
    m.graph().putInitializer(Tensor.ofFloats("W1_scale", new long[] {}, 0.01f));
    m.graph().initializers().remove("W1");
    Node dq = Node.of("/fc1/dq", "DequantizeLinear", List.of("W1_q", "W1_scale"), List.of("W1"));
    m.graph().nodes().add(0, dq);
    assertThatThrownBy(() -> LoraPass.selected(m.graph(), LayerSelection.ALL, 2))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "layer '/fc1/MatMul' is already quantized (its weight is a DequantizeLinear of integers); lora"
                + " trains over a float base: run lora before quantization, or leave the layer out"
                + " with ignore");
    assertThat(
            LoraPass.selected(m.graph(), new LayerSelection(null, List.of(TinyModels.MLP_FC1)), 2))
        .extracting(LinearLayer::name)
        .containsExactly(TinyModels.MLP_FC2);
  }
}
