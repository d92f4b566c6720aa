package dev.compress.quantization.ptq;

import dev.compress.api.CompressionException;
import dev.compress.api.io.BuiltinModels;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.runtime.calibration.BuiltinTextData;
import dev.compress.runtime.calibration.SampleSelection;
import dev.compress.runtime.calibration.TextSamples;
import dev.compress.runtime.ort.OrtExecutor;
import dev.compress.runtime.text.EncodedBatch;
import dev.compress.runtime.text.SentenceEmbeddings;
import dev.compress.runtime.text.SentenceTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Sentence-embedding fidelity of a MiniLM variant to the fp32 model, by the protocol of the {@code
 * embedding-fidelity} evaluation: {@code n} held-out sentences ({@code builtin:heldout-sentences},
 * spread evenly), up to 256 tokens, batches of 32 sentences of similar length, mean pooling over
 * the mask, L2 normalisation, per-sentence cosine; mean and min. The fp32 embeddings are computed
 * once (ONNX Runtime).
 */
final class Fidelity implements AutoCloseable {
  private final SentenceTokenizer tokenizer;
  private final List<List<String>> batches = new ArrayList<>();
  private final List<float[][]> reference = new ArrayList<>();
  private final int threads;

  Fidelity(Path fp32, int n, int threads) throws CompressionException {
    this.threads = threads;
    List<String> all = TextSamples.read(BuiltinTextData.HELDOUT_SENTENCES, "heldout");
    List<String> s = SampleSelection.spread(all, n);
    List<Integer> order =
        IntStream.range(0, s.size())
            .boxed()
            .sorted(Comparator.comparingInt(i -> s.get(i).length()))
            .toList();
    for (int from = 0; from < order.size(); from += 32) {
      batches.add(
          order.subList(from, Math.min(order.size(), from + 32)).stream().map(s::get).toList());
    }
    tokenizer = SentenceTokenizer.create(BuiltinModels.tokenizer(W8A8MiniLmBenchmark.MODEL), 256);
    try (OrtExecutor ort = session(fp32)) {
      for (List<String> b : batches) {
        reference.add(embed(ort, b));
      }
    }
  }

  private OrtExecutor session(Path p) throws CompressionException {
    return OrtExecutor.builder().setModelPath(p).optIntraOpThreads(threads).build();
  }

  private float[][] embed(OrtExecutor ort, List<String> sentences) throws CompressionException {
    EncodedBatch enc = tokenizer.encode(sentences);
    Map<String, Tensor> out = ort.forward(enc.inputsFor(ort.inputNames()));
    Tensor hidden = out.get("last_hidden_state");
    if (hidden == null) {
      hidden =
          out.values().stream()
              .filter(t -> t.rank() == 3 && t.dtype() == DataType.FLOAT)
              .findFirst()
              .orElseThrow();
    }
    return SentenceEmbeddings.embed(hidden, enc.attentionMask());
  }

  /** {mean, min} cosine of {@code model}'s embeddings to the fp32 ones. */
  double[] cosine(Path model) throws CompressionException {
    double sum = 0;
    double min = 1;
    int n = 0;
    try (OrtExecutor ort = session(model)) {
      for (int i = 0; i < batches.size(); i++) {
        float[][] e = embed(ort, batches.get(i));
        for (int j = 0; j < e.length; j++) {
          double c = SentenceEmbeddings.cosine(e[j], reference.get(i)[j]);
          sum += c;
          min = Math.min(min, c);
          n++;
        }
      }
    }
    return new double[] {sum / n, min};
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}
