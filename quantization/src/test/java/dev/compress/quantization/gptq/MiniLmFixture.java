package dev.compress.quantization.gptq;

import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.calibration.CalibrationSpec;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.BuiltinModels;
import dev.compress.api.io.onnx.OnnxReader;
import dev.compress.api.io.onnx.OnnxWriter;
import dev.compress.api.tensor.Tensor;
import dev.compress.runtime.calibration.BuiltinTextData;
import dev.compress.runtime.calibration.TextCalibrationLoader;
import dev.compress.runtime.calibration.TextSamples;
import dev.compress.runtime.calibration.TokenizerLocator;
import dev.compress.runtime.ort.OrtExecutor;
import dev.compress.runtime.text.EncodedBatch;
import dev.compress.runtime.text.SentenceEmbeddings;
import dev.compress.runtime.text.SentenceTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** all-MiniLM-L6-v2, its calibration set, and embedding fidelity on held-out sentences. */
final class MiniLmFixture {
  static final String MODEL = "builtin:all-minilm-l6-v2";

  final Path file;
  final List<Map<String, Tensor>> heldout = new ArrayList<>();
  final float[][] reference;

  MiniLmFixture(int heldoutSentences) throws Exception {
    file = BuiltinModels.resolve(MODEL);
    List<String> all = TextSamples.read(BuiltinTextData.HELDOUT_SENTENCES, "heldout");
    List<String> used = all.subList(0, Math.min(heldoutSentences, all.size()));
    Path tok = TokenizerLocator.locate(MODEL, file);
    try (SentenceTokenizer t = SentenceTokenizer.create(tok, 128)) {
      for (int i = 0; i < used.size(); i += 32) {
        EncodedBatch b = t.encode(used.subList(i, Math.min(used.size(), i + 32)));
        heldout.add(b.asMap());
      }
    }
    reference = embed(file);
  }

  ModelGraph read() throws Exception {
    return OnnxReader.read(file);
  }

  /** {@code samples} calibration sentences of up to 128 tokens, batches of 16. */
  CalibrationSet calibration(ModelGraph model, int samples) throws Exception {
    return calibration(model, samples, 128);
  }

  /** {@code samples} calibration sentences of up to {@code tokens} tokens, batches of 16. */
  CalibrationSet calibration(ModelGraph model, int samples, int tokens) throws Exception {
    CalibrationSpec spec =
        CalibrationSpec.builder(BuiltinTextData.CALIBRATION_TEXT)
            .kind("text")
            .samples(samples)
            .sequenceLength(tokens)
            .batchSize(16)
            .seed(0)
            .shuffle(true)
            .build();
    return new TextCalibrationLoader().load(spec, model, file, MODEL);
  }

  float[][] embed(Path model) throws Exception {
    List<float[]> rows = new ArrayList<>();
    try (OrtExecutor ort = OrtExecutor.builder().setModelPath(model).build()) {
      for (Map<String, Tensor> b : heldout) {
        Map<String, Tensor> out = ort.forward(b);
        for (float[] e : SentenceEmbeddings.embed(out.get("output_0"), b.get("attention_mask"))) {
          rows.add(e);
        }
      }
    }
    return rows.toArray(new float[0][]);
  }

  /** {mean, min} cosine of {@code model}'s embeddings to the fp32 model's. */
  double[] fidelity(ModelGraph model, Path dir, String label) throws Exception {
    Path f = dir.resolve(label + ".onnx");
    OnnxWriter.write(model, f);
    float[][] e = embed(f);
    double sum = 0;
    double min = 1;
    for (int i = 0; i < e.length; i++) {
      double c = SentenceEmbeddings.cosine(e[i], reference[i]);
      sum += c;
      min = Math.min(min, c);
    }
    return new double[] {sum / e.length, min};
  }
}
