package dev.compress.evaluation.task;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.compress.api.exec.Device;
import dev.compress.api.exec.Executor;
import dev.compress.api.exec.ExecutorFactory;
import dev.compress.api.graph.FloatPrecision;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.hf.DecoderGraph;
import dev.compress.api.io.hf.HfArchitecture;
import dev.compress.api.io.hf.HfCheckpoint;
import dev.compress.api.io.hf.HfFolderReader;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.fixtures.TrainedDecoder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped test decoder ({@link TrainedDecoder}, trained by {@code TrainLlamaBench}): it reads
 * as a Llama checkpoint in fp16, its tokenizer round-trips the held-out text, its perplexity on
 * held-out chapters (by {@link StreamPerplexity}'s protocol) is far below the best unigram model of
 * the same tokens, and greedy generation runs.
 */
class TrainedDecoderTest {
  /** Windows scored: the first 64 of the held-out stream's 204 (keeps the test to seconds). */
  static final int WINDOWS = 64;

  @TempDir Path dir;

  static HuggingFaceTokenizer tokenizer(Path file) throws Exception {
    return HuggingFaceTokenizer.builder()
        .optTokenizerPath(file)
        .optAddSpecialTokens(false)
        .optTruncation(false)
        .optPadding(false)
        .build();
  }

  @Test
  void perplexityOnHeldOutChaptersIsFarBelowTheUnigramBaselineAndGreedyGenerationRuns()
      throws Exception {
    Path folder = TrainedDecoder.copyTo(dir);
    Path held = TrainedDecoder.heldOut(dir.resolve(TrainedDecoder.HELD_OUT));
    HfCheckpoint ck = HfFolderReader.read(folder);
    assertThat(ck.config().architecture()).isEqualTo(HfArchitecture.LLAMA);
    assertThat(ck.dtype()).isEqualTo(DataType.FLOAT16);
    assertThat(ck.config().maxPositions()).isEqualTo(TrainedDecoder.MODEL_LENGTH);
    long bytes = 0;
    for (String f : TrainedDecoder.FOLDER_FILES) {
      bytes += Files.size(folder.resolve(f));
    }
    assertThat(bytes).as("folder bytes").isLessThanOrEqualTo(12L << 20);
    Path tokFile = folder.resolve("tokenizer.json");
    String text = String.join("\n", Files.readString(held).strip().split("\n"));
    long[] stream;
    try (HuggingFaceTokenizer tok = tokenizer(tokFile)) {
      stream = tok.encode(text).getIds();
      assertThat(tok.decode(stream, false)).as("round trip").isEqualTo(text);
    }
    assertThat(stream).isEqualTo(StreamPerplexity.tokenize(tokFile, text));

    // The unigram baseline: token frequencies of the whole held-out stream (every token a window
    // predicts, all windows), scored on the same tokens as the model. Fitted on the evaluated text
    // itself, so it is at least as good as any unigram model estimated on the training text.
    int n = TrainedDecoder.MODEL_LENGTH;
    int vocab = ck.config().vocabSize();
    double[] count = new double[vocab];
    long all = 0;
    for (int w = 0; w < stream.length / n; w++) {
      for (int p = 1; p < n; p++) {
        count[(int) stream[w * n + p]]++;
        all++;
      }
    }
    double unigramNll = 0;
    long scored = 0;
    for (int w = 0; w < WINDOWS; w++) {
      for (int p = 1; p < n; p++) {
        unigramNll -= Math.log(count[(int) stream[w * n + p]] / all);
        scored++;
      }
    }
    double unigram = Math.exp(unigramNll / scored);

    ModelGraph g = FloatPrecision.widened(DecoderGraph.build(ck));
    try (Executor x = ExecutorFactory.of("onnxruntime").create(g, Device.CPU)) {
      TaskOutcome o =
          TaskRunner.run(
              new TaskSpec(TaskKind.PERPLEXITY, held.toString(), WINDOWS, "", 1),
              List.of(x),
              Optional.of(tokFile),
              List.of(),
              OptionalInt.of(n));
      double ppl = o.perVariant().get(0).get("perplexity");
      System.out.printf(
          "[trained-decoder] held-out perplexity %.2f vs unigram %.2f over %d tokens%n",
          ppl, unigram, scored);
      // Measured over all 204 windows (TrainLlamaBench, DJL): 272.8 vs 567.9.
      assertThat(ppl).isLessThan(0.7 * unigram);

      // Greedy generation: 8 new tokens after a prompt from a held-out chapter.
      try (HuggingFaceTokenizer tok = tokenizer(tokFile)) {
        long[] ids = tok.encode("The whale").getIds();
        for (int i = 0; i < 8; i++) {
          long[] ones = new long[ids.length];
          Arrays.fill(ones, 1);
          Tensor logits =
              x.forward(
                      Map.of(
                          "input_ids",
                          Tensor.ofLongs("input_ids", new long[] {1, ids.length}, ids),
                          "attention_mask",
                          Tensor.ofLongs("attention_mask", new long[] {1, ids.length}, ones)))
                  .get(DecoderGraph.LOGITS);
          float[] z = logits.toFloatArray();
          int off = (ids.length - 1) * vocab;
          int best = 0;
          for (int j = 1; j < vocab; j++) {
            best = z[off + j] > z[off + best] ? j : best;
          }
          ids = Arrays.copyOf(ids, ids.length + 1);
          ids[ids.length - 1] = best;
        }
        String out = tok.decode(ids, false);
        System.out.println("[trained-decoder] greedy: " + out);
        assertThat(out).startsWith("The whale").hasSizeGreaterThan("The whale".length());
      }
    }
  }
}
