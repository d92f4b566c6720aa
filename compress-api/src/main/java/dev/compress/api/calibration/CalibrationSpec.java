package dev.compress.api.calibration;

import dev.compress.api.pass.InvalidConfigException;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code calibration} block of a pipeline.
 *
 * @param kind {@code text}, {@code images} or {@code tensors}
 * @param source a file (text: one sample per line; images: IDX, JSON or CSV; tensors: safetensors)
 *     or {@code builtin:NAME} for data shipped with the toolkit
 * @param samples number of samples to use (> 0)
 * @param sequenceLength tokens per text sample (> 0; ignored for other kinds)
 * @param batchSize samples per batch fed to the model (> 0)
 * @param seed shuffle seed
 * @param shuffle whether to shuffle before taking {@code samples}
 * @param tokenizer text only: the model's tokenizer.json; empty (default) to find it beside the
 *     model ({@code <model name>-tokenizer.json}, then {@code tokenizer.json}) or in a built-in
 *     model
 * @param labels images only: a file of one class label per image (IDX {@code 0x00000801}, a JSON
 *     array of integers, or one integer per line), fed beside the images as the int64 batch value
 *     {@code labels} (for labelled training losses such as soft targets with hard labels); empty
 *     (default) for images without labels
 */
public record CalibrationSpec(
    String kind,
    String source,
    int samples,
    int sequenceLength,
    int batchSize,
    long seed,
    boolean shuffle,
    String tokenizer,
    String labels) {

  /** The defaults: 128 text samples of up to 128 tokens, batches of 16, seed 0, shuffled. */
  public static CalibrationSpec defaults(String source) {
    return new CalibrationSpec("text", source, 128, 128, 16, 0, true, "", "");
  }

  /** A block without a {@code labels} key. */
  public CalibrationSpec(
      String kind,
      String source,
      int samples,
      int sequenceLength,
      int batchSize,
      long seed,
      boolean shuffle,
      String tokenizer) {
    this(kind, source, samples, sequenceLength, batchSize, seed, shuffle, tokenizer, "");
  }

  /** This block with a labels file (kind {@code images}). */
  public CalibrationSpec withLabels(String file) {
    return new CalibrationSpec(
        kind, source, samples, sequenceLength, batchSize, seed, shuffle, tokenizer, file);
  }

  /** A block without a {@code tokenizer} key (found beside the model). */
  public CalibrationSpec(
      String kind,
      String source,
      int samples,
      int sequenceLength,
      int batchSize,
      long seed,
      boolean shuffle) {
    this(kind, source, samples, sequenceLength, batchSize, seed, shuffle, "", "");
  }

  /** Validates every field. */
  public CalibrationSpec {
    tokenizer = tokenizer == null ? "" : tokenizer;
    labels = labels == null ? "" : labels;
    List<String> p = new ArrayList<>();
    if (kind == null || !List.of("text", "images", "tensors").contains(kind)) {
      p.add("kind must be one of [text, images, tensors], found " + kind);
    }
    if (source == null || source.isBlank()) {
      p.add("source is required");
    }
    if (samples <= 0) {
      p.add("samples must be > 0, found " + samples);
    }
    if (sequenceLength <= 0) {
      p.add("sequenceLength must be > 0, found " + sequenceLength);
    }
    if (batchSize <= 0) {
      p.add("batchSize must be > 0, found " + batchSize);
    }
    if (!labels.isEmpty() && !"images".equals(kind)) {
      p.add("labels applies to kind images only, found kind " + kind);
    }
    InvalidConfigException.throwIfAny(p);
  }
}
