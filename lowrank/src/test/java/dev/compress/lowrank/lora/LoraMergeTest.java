package dev.compress.lowrank.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.ConfigException;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.graph.GraphCheck;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.safetensors.SafetensorsWriter;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.tensor.Tensor;
import dev.compress.fixtures.Calibration;
import dev.compress.fixtures.EncoderConfig;
import dev.compress.fixtures.Fidelity;
import dev.compress.fixtures.TinyModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lora-merge pass: a PEFT adapter written by {@link PeftAdapters#write} merges into the base to
 * the lora pass's own merged model; every bad adapter is one line and changes nothing.
 */
class LoraMergeTest {
  private static final EncoderConfig ENC = EncoderConfig.tiny(1, 11);
  @TempDir Path tmp;

  @Test
  void aPeftAdapterMergedIntoTheBaseEqualsTheLoraPassesOwnMerge() throws Exception {
    ModelGraph teacher = TinyModels.encoder(ENC);
    CalibrationSet data = Calibration.encoder(ENC, 5, 8, 8, 40);
    ModelGraph student = AdaLoraTest.perturbed(teacher);
    LoraConfig c =
        LoraConfig.defaults().withRank(4, 8).withSchedule(1e-2, 20, 8).withValidation(0.2, 10);
    ModelGraph merged = student.copy();
    new LoraPass(c).apply(merged, AdaLoraTest.context(teacher, data));
    ModelGraph kept = student.copy();
    new LoraPass(c.withMerge(false)).apply(kept, AdaLoraTest.context(teacher, data));
    Path dir = tmp.resolve("adapter");
    int n = PeftAdapters.write(kept, dir);

    ModelGraph base = student.copy();
    PassReport r =
        new LoraMergePass(LoraMergeConfig.of(dir.toString())).apply(base, PassContext.of(1));
    assertThat(GraphCheck.errors(base)).isEmpty();
    assertThat(r.layersTouched()).hasSize(n);
    assertThat(base.graph().initializers().keySet())
        .isEqualTo(merged.graph().initializers().keySet());
    double max = 0;
    double moved = 0;
    for (Map.Entry<String, Tensor> e : merged.graph().initializers().entrySet()) {
      float[] want = e.getValue().toFloatArray();
      max =
          Math.max(
              max,
              Fidelity.maxAbsDiff(
                  want, base.graph().initializers().get(e.getKey()).toFloatArray()));
      moved =
          Math.max(
              moved,
              Fidelity.maxAbsDiff(
                  want, student.graph().initializers().get(e.getKey()).toFloatArray()));
    }
    System.out.printf(
        "[lora-merge] %d modules; max |PEFT merge - lora merge| = %.3g (training moved weights by"
            + " up to %.3g)%n",
        n, max, moved);
    assertThat(moved).isGreaterThan(1e-3);
    assertThat(max).isLessThanOrEqualTo(1e-6);
    // the adapter file's own path works too
    ModelGraph again = student.copy();
    new LoraMergePass(LoraMergeConfig.of(dir.resolve("adapter_model.safetensors").toString()))
        .apply(again, PassContext.of(1));
    String q = "/encoder/layer.0/attention/self/query/MatMul";
    String w =
        dev.compress.api.layers.LinearLayers.of(base.graph()).stream()
            .filter(l -> l.name().equals(q))
            .findFirst()
            .orElseThrow()
            .weight();
    assertThat(again.graph().initializers().get(w).toFloatArray())
        .isEqualTo(base.graph().initializers().get(w).toFloatArray());
  }

  private Path adapter(String name, String json, Tensor... tensors) throws Exception {
    Path d = tmp.resolve(name);
    Files.createDirectories(d);
    Files.writeString(d.resolve("adapter_config.json"), json);
    SafetensorsWriter.write(d.resolve("adapter_model.safetensors"), List.of(tensors), Map.of());
    return d;
  }

  private static Tensor t(String name, long... shape) {
    return Tensor.ofFloats(name, shape, new float[(int) (shape[0] * shape[1])]);
  }

  private static final String LORA = "{\"peft_type\": \"LORA\", \"r\": 2, \"lora_alpha\": 4}";

  private static void refused(Path adapter, String message) throws Exception {
    ModelGraph m = TinyModels.mlp(8, 6, 4, 1);
    Map<String, Tensor> inits = Map.copyOf(m.graph().initializers());
    assertThatThrownBy(
            () ->
                new LoraMergePass(LoraMergeConfig.of(adapter.toString()))
                    .apply(m, PassContext.of(1)))
        .isInstanceOf(ConfigException.class)
        .hasMessage(message);
    assertThat(m.graph().initializers()).isEqualTo(inits);
  }

  @Test
  void badAdaptersAreOneLineEachAndChangeNothing() throws Exception {
    String pre = "base_model.model.";
    Path unmatched =
        adapter(
            "unmatched",
            LORA,
            t(pre + "fc1.lora_A.weight", 2, 8),
            t(pre + "fc1.lora_B.weight", 6, 2),
            t(pre + "fc9.lora_A.weight", 2, 8),
            t(pre + "fc9.lora_B.weight", 6, 2));
    refused(
        unmatched,
        "adapter: module 'fc9' matches no float MatMul/Gemm layer of the model (layer names are"
            + " read as module paths: /a/b/MatMul is a.b)");
    Path shape =
        adapter(
            "shape", LORA, t(pre + "fc1.lora_A.weight", 2, 7), t(pre + "fc1.lora_B.weight", 6, 2));
    refused(
        shape,
        "adapter: module 'fc1' has lora_A [2, 7] and lora_B [6, 2], which does not fit layer"
            + " '/fc1/MatMul' (in 8, out 6); nothing was merged");
    Path rank =
        adapter(
            "rank", LORA, t(pre + "fc1.lora_A.weight", 3, 8), t(pre + "fc1.lora_B.weight", 6, 3));
    refused(
        rank,
        "adapter: module 'fc1' has lora_A [3, 8] and lora_B [6, 3]; with r = 2 they must be [r,"
            + " in] and [out, r]");
    Path noB = adapter("nob", LORA, t(pre + "fc1.lora_A.weight", 2, 8));
    refused(
        noB,
        "adapter: module 'fc1' has no lora_B.weight in "
            + noB.resolve("adapter_model.safetensors"));
    Path ada =
        adapter(
            "ada",
            "{\"peft_type\": \"ADALORA\", \"r\": 2, \"lora_alpha\": 4}",
            t(pre + "fc1.lora_A.weight", 2, 8),
            t(pre + "fc1.lora_B.weight", 6, 2));
    refused(
        ada,
        "adapter: peft_type is 'ADALORA' in "
            + ada.resolve("adapter_config.json")
            + "; lora-merge merges LORA adapters");
    Path json = adapter("json", "{\"peft_type\": ", t(pre + "fc1.lora_A.weight", 2, 8));
    assertThatThrownBy(
            () ->
                new LoraMergePass(LoraMergeConfig.of(json.toString()))
                    .apply(TinyModels.mlp(8, 6, 4, 1), PassContext.of(1)))
        .hasMessageStartingWith("adapter: " + json.resolve("adapter_config.json") + " is not JSON");
    refused(tmp.resolve("nowhere"), "adapter: " + tmp.resolve("nowhere") + " does not exist");
    assertThatThrownBy(
            () ->
                new LoraMergePass(LoraMergeConfig.defaults())
                    .apply(TinyModels.mlp(8, 6, 4, 1), PassContext.of(1)))
        .hasMessage(
            "adapter: none given; name a PEFT adapter folder (adapter_config.json and"
                + " adapter_model.safetensors)");
    assertThatThrownBy(() -> LoraMergeConfig.of(" "))
        .hasMessage("adapter must name a PEFT adapter folder, found ' '");
  }
}
