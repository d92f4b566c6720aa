package dev.compress.api.calibration;

import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.RecordBuilder;
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
 * @param tokenizer text only: the model's tokenizer.json; empty to find it beside the model ({@code
 *     <model name>-tokenizer.json}, then {@code tokenizer.json}) or in a built-in model
 * @param labels images only: a file of one class label per image (IDX {@code 0x00000801}, a JSON
 *     array of integers, or one integer per line), fed beside the images as the int64 batch value
 *     {@code labels} (for labelled training losses such as soft targets with hard labels); empty
 *     for images without labels
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

  /** Every default of a pipeline's {@code calibration} block, with {@code source}. */
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

  /**
   * A builder starting from {@link #defaults(String)} with {@code source}: {@code
   * CalibrationSpec.builder("builtin:calibration-text").samples(64).build()}.
   */
  public static Builder builder(String source) {
    return new Builder(defaults(source));
  }

  /** A builder starting from this block. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** Builds a {@link CalibrationSpec}; one setter per key, checked at {@link #build()}. */
  public static final class Builder extends RecordBuilder<CalibrationSpec, Builder> {
    private Builder(CalibrationSpec start) {
      super(start);
    }

    /** {@code text}, {@code images} or {@code tensors}. */
    public Builder kind(String v) {
      return set("kind", v);
    }

    /** A file or {@code builtin:NAME}. */
    public Builder source(String v) {
      return set("source", v);
    }

    /** Number of samples to use. */
    public Builder samples(int v) {
      return set("samples", v);
    }

    /** Tokens per text sample. */
    public Builder sequenceLength(int v) {
      return set("sequenceLength", v);
    }

    /** Samples per batch fed to the model. */
    public Builder batchSize(int v) {
      return set("batchSize", v);
    }

    /** The shuffle seed. */
    public Builder seed(long v) {
      return set("seed", v);
    }

    /** Whether to shuffle before taking {@code samples}. */
    public Builder shuffle(boolean v) {
      return set("shuffle", v);
    }

    /** Text only: the model's tokenizer.json. */
    public Builder tokenizer(String v) {
      return set("tokenizer", v);
    }

    /** Images only: a file of one class label per image. */
    public Builder labels(String v) {
      return set("labels", v);
    }
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
