package dev.compress.runtime.text;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.compress.api.CompressionException;
import dev.compress.api.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Tokenizes sentences for a BERT-style encoder with DJL's HuggingFace tokenizer, from a local
 * {@code tokenizer.json} only (never a hub name, so nothing is downloaded).
 *
 * <p>The native tokenizer library is extracted from the DJL tokenizers jar into DJL's cache folder:
 * system property or environment variable {@code DJL_CACHE_DIR} (the build sets it inside {@code
 * target/}), else {@code ~/.djl.ai}; set {@code ai.djl.offline=true} as well to make sure DJL never
 * reaches the network.
 *
 * <p>Two padding modes: to the longest sentence of each batch (truncating at {@code maxLength}), or
 * to a fixed length (every sentence padded or truncated to exactly {@code length} tokens, for
 * benchmarks). Special tokens ({@code [CLS]}, {@code [SEP]}) are added. Instances hold a native
 * tokenizer: close them. Encoding is thread-safe.
 */
public final class SentenceTokenizer implements AutoCloseable {
  private final HuggingFaceTokenizer tokenizer;
  private final int maxLength;
  private final boolean fixed;

  private SentenceTokenizer(HuggingFaceTokenizer tokenizer, int maxLength, boolean fixed) {
    this.tokenizer = tokenizer;
    this.maxLength = maxLength;
    this.fixed = fixed;
  }

  /**
   * Pads each batch to its longest sentence, truncating sentences to {@code maxLength} tokens.
   *
   * @throws CompressionException when the file is missing or not a valid tokenizer.json
   */
  public static SentenceTokenizer create(Path tokenizerJson, int maxLength)
      throws CompressionException {
    return open(tokenizerJson, maxLength, false);
  }

  /**
   * Pads or truncates every sentence to exactly {@code length} tokens.
   *
   * @throws CompressionException when the file is missing or not a valid tokenizer.json
   */
  public static SentenceTokenizer createFixed(Path tokenizerJson, int length)
      throws CompressionException {
    return open(tokenizerJson, length, true);
  }

  private static SentenceTokenizer open(Path file, int length, boolean fixed)
      throws CompressionException {
    if (length < 2) {
      throw new IllegalArgumentException(
          "length must be >= 2 (room for [CLS] and [SEP]), found " + length);
    }
    if (!Files.isRegularFile(file)) {
      throw new CompressionException("tokenizer file " + file + " does not exist");
    }
    try {
      HuggingFaceTokenizer.Builder b =
          HuggingFaceTokenizer.builder()
              .optTokenizerPath(file)
              .optAddSpecialTokens(true)
              .optTruncation(true)
              .optMaxLength(length);
      if (fixed) {
        b.optPadToMaxLength();
      } else {
        b.optPadding(true);
      }
      return new SentenceTokenizer(b.build(), length, fixed);
    } catch (IOException | RuntimeException e) {
      throw new CompressionException("cannot load tokenizer " + file + ": " + e.getMessage(), e);
    }
  }

  /** The truncation length (and, in fixed mode, the padded length). */
  public int maxLength() {
    return maxLength;
  }

  /** Whether every batch is padded to exactly {@link #maxLength()}. */
  public boolean fixedLength() {
    return fixed;
  }

  /** Tokenizes a batch (at least one sentence). */
  public EncodedBatch encode(List<String> sentences) {
    if (sentences.isEmpty()) {
      throw new IllegalArgumentException("no sentences to encode");
    }
    Encoding[] enc = tokenizer.batchEncode(sentences);
    int b = enc.length;
    int t = enc[0].getIds().length;
    long[] ids = new long[b * t];
    long[] mask = new long[b * t];
    long[] types = new long[b * t];
    for (int i = 0; i < b; i++) {
      if (enc[i].getIds().length != t) {
        throw new IllegalStateException(
            "tokenizer returned ragged batch: " + enc[i].getIds().length + " vs " + t + " tokens");
      }
      System.arraycopy(enc[i].getIds(), 0, ids, i * t, t);
      System.arraycopy(enc[i].getAttentionMask(), 0, mask, i * t, t);
      System.arraycopy(enc[i].getTypeIds(), 0, types, i * t, t);
    }
    long[] shape = {b, t};
    return new EncodedBatch(
        Tensor.ofLongs("input_ids", shape, ids),
        Tensor.ofLongs("attention_mask", shape, mask),
        Tensor.ofLongs("token_type_ids", shape, types));
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}
