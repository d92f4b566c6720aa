package dev.compress.runtime.calibration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.ConfigException;
import dev.compress.api.calibration.CalibrationLoader;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.calibration.CalibrationSpec;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.BuiltinModels;
import dev.compress.api.io.onnx.OnnxReader;
import dev.compress.api.tensor.Tensor;
import dev.compress.runtime.ort.OrtExecutor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Text calibration on the real all-MiniLM-L6-v2 and its tokenizer. */
class TextCalibrationLoaderTest {
  static final String MODEL = "builtin:all-minilm-l6-v2";
  static Path modelFile;
  static ModelGraph model;
  final TextCalibrationLoader loader = new TextCalibrationLoader();

  @BeforeAll
  static void load() throws Exception {
    modelFile = BuiltinModels.resolve(MODEL);
    model = OnnxReader.read(modelFile);
  }

  static CalibrationSpec spec(String source, int samples, int seqLen, int batch, long seed) {
    return CalibrationSpec.builder(source)
        .kind("text")
        .samples(samples)
        .sequenceLength(seqLen)
        .batchSize(batch)
        .seed(seed)
        .shuffle(true)
        .build();
  }

  @Test
  void registeredAsService() {
    List<String> loaders =
        ServiceLoader.load(CalibrationLoader.class).stream()
            .map(p -> p.type().getSimpleName())
            .toList();
    assertThat(loaders).contains("TextCalibrationLoader", "TensorFileCalibrationLoader");
  }

  @Test
  void batchesHaveTheModelsInputsAndShapes() throws Exception {
    CalibrationSet set =
        loader.load(spec(BuiltinTextData.CALIBRATION_TEXT, 10, 16, 4, 1), model, modelFile, MODEL);
    assertThat(set.batches()).hasSize(3);
    List<String> feeds = model.graph().feedInputs().stream().map(v -> v.name()).toList();
    int[] sizes = {4, 4, 2};
    for (int b = 0; b < 3; b++) {
      Map<String, Tensor> batch = set.batches().get(b);
      assertThat(batch.keySet()).containsExactlyElementsOf(feeds);
      Tensor ids = batch.get("input_ids");
      assertThat(ids.dim(0)).isEqualTo(sizes[b]);
      // Moby-Dick sentences of 40+ characters all exceed 16 tokens: truncated to exactly 16
      assertThat(ids.dim(1)).isEqualTo(16);
      assertThat(ids.toLongArray()[0]).isEqualTo(101); // [CLS]
      assertThat(ids.toLongArray()[15]).isEqualTo(102); // [SEP] after truncation
    }
    var id = set.identity();
    assertThat(id.source()).isEqualTo("builtin:calibration-text");
    assertThat(id.kind()).isEqualTo("text");
    assertThat(id.samples()).isEqualTo(10);
    assertThat(id.sequenceLength()).isEqualTo(16);
    assertThat(id.seed()).isEqualTo(1);
    assertThat(id.shuffle()).isTrue();
    assertThat(id.sha256()).hasSize(64);

    // The batches run in ONNX Runtime as they are.
    try (OrtExecutor ort =
        OrtExecutor.builder().setModelPath(modelFile).optIntraOpThreads(1).build()) {
      Tensor hidden = ort.forward(set.batches().get(2)).values().iterator().next();
      assertThat(hidden.shape()).containsExactly(2, 16, 384);
    }
  }

  @Test
  void identityIsDeterministicInTheSeed() throws Exception {
    String src = BuiltinTextData.CALIBRATION_TEXT;
    CalibrationSet a = loader.load(spec(src, 8, 32, 8, 7), model, modelFile, MODEL);
    CalibrationSet b = loader.load(spec(src, 8, 32, 8, 7), model, modelFile, MODEL);
    CalibrationSet c = loader.load(spec(src, 8, 32, 8, 8), model, modelFile, MODEL);
    assertThat(b.identity()).isEqualTo(a.identity());
    assertThat(b.batches().get(0).get("input_ids").toLongArray())
        .containsExactly(a.batches().get(0).get("input_ids").toLongArray());
    assertThat(c.identity().sha256()).isNotEqualTo(a.identity().sha256());
  }

  @Test
  void unshuffledHashIsTheHashOfTheFirstLines() throws Exception {
    String src = TextSamplesTest.resource("five-samples.txt").toString();
    var s =
        CalibrationSpec.builder(src)
            .kind("text")
            .samples(3)
            .sequenceLength(64)
            .batchSize(2)
            .seed(0)
            .shuffle(false)
            .build();
    CalibrationSet set = loader.load(s, model, modelFile, MODEL);
    // sha256sum of the first three lines (stripped, blank lines skipped)
    assertThat(set.identity().sha256())
        .isEqualTo("fb482338aec4e0aa73a13711f61f0295f48a1aa2e3561fa6036494be475042cd");
    // padded to the longest sentence of each batch, not to sequenceLength
    assertThat(set.batches().get(0).get("input_ids").dim(1)).isLessThan(64);
    assertThat(set.batches().get(1).get("attention_mask").toLongArray()).doesNotContain(0L);
  }

  @Test
  void errorsNameTheConfigKey() {
    assertThatThrownBy(() -> loader.load(spec("x.txt", 4, 16, 2, 0), model, modelFile, MODEL))
        .isInstanceOf(ConfigException.class)
        .hasMessage("calibration.source: file not found: x.txt");
    assertThatThrownBy(
            () ->
                loader.load(
                    spec(BuiltinTextData.HELDOUT_SENTENCES, 301, 16, 2, 0),
                    model,
                    modelFile,
                    MODEL))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "calibration.samples: 301 requested but builtin:heldout-sentences has only 300"
                + " samples");
    assertThatThrownBy(
            () ->
                loader.load(
                    spec(BuiltinTextData.CALIBRATION_TEXT, 4, 1, 2, 0), model, modelFile, MODEL))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("calibration.sequenceLength must be >= 2 for text");
  }

  @Test
  void tokenizerBesideAPathModel(@TempDir Path dir) throws Exception {
    Path copy = dir.resolve("model.onnx");
    Files.copy(modelFile, copy);
    var s = spec(BuiltinTextData.CALIBRATION_TEXT, 2, 16, 2, 0);
    assertThatThrownBy(() -> loader.load(s, model, copy, copy.toString()))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(
            "model: text data needs the model's tokenizer; looked for "
                + dir.toAbsolutePath().resolve("model-tokenizer.json")
                + " and "
                + dir.toAbsolutePath().resolve("tokenizer.json"));
    Files.copy(BuiltinModels.tokenizer(MODEL), dir.resolve("tokenizer.json"));
    CalibrationSet fromPath = loader.load(s, model, copy, copy.toString());
    CalibrationSet builtin = loader.load(s, model, modelFile, MODEL);
    assertThat(fromPath.batches().get(0).get("input_ids").toLongArray())
        .containsExactly(builtin.batches().get(0).get("input_ids").toLongArray());
  }

  @Test
  void modelNamedTokenizerAndTheCalibrationTokenizerKey(@TempDir Path dir) throws Exception {
    Path link = dir.resolve("all-minilm-l6-v2.onnx");
    Files.createSymbolicLink(link, modelFile.toAbsolutePath());
    var s = spec(BuiltinTextData.CALIBRATION_TEXT, 2, 16, 2, 0);
    CalibrationSet builtin = loader.load(s, model, modelFile, MODEL);
    // calibration.tokenizer names a file anywhere.
    var keyed =
        CalibrationSpec.builder(BuiltinTextData.CALIBRATION_TEXT)
            .kind("text")
            .samples(2)
            .sequenceLength(16)
            .batchSize(2)
            .seed(0)
            .shuffle(true)
            .tokenizer(BuiltinModels.tokenizer(MODEL).toString())
            .build();
    long[] expected = builtin.batches().get(0).get("input_ids").toLongArray();
    assertThat(
            loader
                .load(keyed, model, link, link.toString())
                .batches()
                .get(0)
                .get("input_ids")
                .toLongArray())
        .containsExactly(expected);
    var missing =
        CalibrationSpec.builder(BuiltinTextData.CALIBRATION_TEXT)
            .kind("text")
            .samples(2)
            .sequenceLength(16)
            .batchSize(2)
            .seed(0)
            .shuffle(true)
            .tokenizer("nope.json")
            .build();
    assertThatThrownBy(() -> loader.load(missing, model, link, link.toString()))
        .isInstanceOf(ConfigException.class)
        .hasMessage("calibration.tokenizer: tokenizer file nope.json does not exist");
    // <model name>-tokenizer.json beside the model.
    Files.copy(BuiltinModels.tokenizer(MODEL), dir.resolve("all-minilm-l6-v2-tokenizer.json"));
    assertThat(
            loader
                .load(s, model, link, link.toString())
                .batches()
                .get(0)
                .get("input_ids")
                .toLongArray())
        .containsExactly(expected);
  }
}
