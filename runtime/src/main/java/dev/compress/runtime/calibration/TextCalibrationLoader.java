package dev.compress.runtime.calibration;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.calibration.CalibrationIdentity;
import dev.compress.api.calibration.CalibrationLoader;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.calibration.CalibrationSpec;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.runtime.text.EncodedBatch;
import dev.compress.runtime.text.SentenceTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code calibration.kind: text}: sentences tokenized with the model's own tokenizer.
 *
 * <ol>
 *   <li>Reads the source, a UTF-8 file with one sample per line or a {@link BuiltinTextData
 *       built-in set} ({@link TextSamples#read}: lines stripped, blank lines skipped).
 *   <li>Shuffles with the seed when {@code shuffle} is set and takes the first {@code samples}
 *       ({@link SampleSelection#take}); asking for more samples than the source holds is an error.
 *   <li>Tokenizes with the model's tokenizer ({@link TokenizerLocator}: {@code tokenizer} when set,
 *       a built-in model's own, else {@code <model name>-tokenizer.json} or {@code tokenizer.json}
 *       beside the model file), adding {@code [CLS]}/{@code [SEP]} and truncating to {@code
 *       sequenceLength} tokens.
 *   <li>Batches {@code batchSize} consecutive samples (the last batch may be smaller), each padded
 *       on the right to its longest sample, as a map holding exactly the inputs the model declares
 *       among {@code input_ids}, {@code attention_mask} and {@code token_type_ids} (int64, or int32
 *       where the model declares int32). Padded positions carry {@code attention_mask} 0: passes
 *       that collect statistics over tokens should weight by the mask.
 * </ol>
 *
 * <p>The identity's SHA-256 is {@link TextSamples#sha256} over the samples used, in the order used.
 * Registered as a {@link CalibrationLoader} service.
 */
public final class TextCalibrationLoader implements CalibrationLoader {
  /** The inputs a tokenizer provides. */
  static final List<String> TEXT_INPUTS = List.of("input_ids", "attention_mask", "token_type_ids");

  /** For {@link java.util.ServiceLoader}. */
  public TextCalibrationLoader() {}

  @Override
  public boolean supports(CalibrationSpec spec) {
    return "text".equals(spec.kind());
  }

  @Override
  public CalibrationSet load(
      CalibrationSpec spec, ModelGraph model, Path modelFile, String modelSpec)
      throws CompressionException {
    if (!supports(spec)) {
      throw new IllegalArgumentException("not a text calibration spec: kind " + spec.kind());
    }
    if (spec.sequenceLength() < 2) {
      throw new ConfigException(
          "calibration.sequenceLength must be >= 2 for text ([CLS] and [SEP] take two tokens),"
              + " found "
              + spec.sequenceLength());
    }
    Map<String, DataType> feeds = textFeeds(model);
    List<String> all = TextSamples.read(spec.source(), "calibration.source");
    if (spec.samples() > all.size()) {
      throw new ConfigException(
          "calibration.samples: "
              + spec.samples()
              + " requested but "
              + spec.source()
              + " has only "
              + all.size()
              + " samples");
    }
    List<String> used = SampleSelection.take(all, spec.samples(), spec.shuffle(), spec.seed());
    Path tokenizerFile =
        TokenizerLocator.locate(modelSpec, modelFile, spec.tokenizer(), "calibration.tokenizer");
    List<Map<String, Tensor>> batches = new ArrayList<>();
    try (SentenceTokenizer tokenizer =
        SentenceTokenizer.create(tokenizerFile, spec.sequenceLength())) {
      for (int from = 0; from < used.size(); from += spec.batchSize()) {
        List<String> chunk = used.subList(from, Math.min(used.size(), from + spec.batchSize()));
        batches.add(feedsFor(tokenizer.encode(chunk), feeds));
      }
    }
    CalibrationIdentity identity =
        new CalibrationIdentity(
            spec.source(),
            "text",
            used.size(),
            spec.sequenceLength(),
            spec.seed(),
            spec.shuffle(),
            TextSamples.sha256(used));
    return new CalibrationSet(batches, identity);
  }

  /** What {@link #load} would refuse, without tokenizing: every problem at once. */
  @Override
  public List<String> check(
      CalibrationSpec spec, ModelGraph model, Path modelFile, String modelSpec)
      throws CompressionException {
    List<String> problems = new ArrayList<>();
    if (spec.sequenceLength() < 2) {
      problems.add(
          "calibration.sequenceLength must be >= 2 for text ([CLS] and [SEP] take two tokens),"
              + " found "
              + spec.sequenceLength());
    }
    try {
      textFeeds(model);
    } catch (ConfigException e) {
      problems.addAll(e.problems());
    }
    try {
      int n = TextSamples.read(spec.source(), "calibration.source").size();
      if (spec.samples() > n) {
        problems.add(
            "calibration.samples: "
                + spec.samples()
                + " requested but "
                + spec.source()
                + " has only "
                + n
                + " samples");
      }
    } catch (ConfigException e) {
      problems.addAll(e.problems());
    }
    try {
      TokenizerLocator.locate(modelSpec, modelFile);
    } catch (ConfigException e) {
      problems.addAll(e.problems());
    }
    return problems;
  }

  /**
   * The model's feed inputs and their element types, checked to be ones a tokenizer provides.
   *
   * @throws ConfigException naming {@code calibration.kind} when the model needs another input
   */
  static Map<String, DataType> textFeeds(ModelGraph model) throws ConfigException {
    Map<String, DataType> feeds = new LinkedHashMap<>();
    List<String> problems = new ArrayList<>();
    for (ValueInfo v : model.graph().feedInputs()) {
      Optional<DataType> t = v.elemType();
      if (!TEXT_INPUTS.contains(v.name())) {
        problems.add(
            "calibration.kind: text provides "
                + TEXT_INPUTS
                + ", but the model also needs input '"
                + v.name()
                + "' "
                + v.typeString());
      } else if (t.isPresent() && t.get() != DataType.INT64 && t.get() != DataType.INT32) {
        problems.add(
            "calibration.kind: text provides integer token tensors, but the model declares input '"
                + v.name()
                + "' as "
                + v.typeString());
      } else {
        feeds.put(v.name(), t.orElse(DataType.INT64));
      }
    }
    if (feeds.isEmpty() && problems.isEmpty()) {
      problems.add("calibration.kind: text, but the model declares no inputs to feed");
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return feeds;
  }

  private static Map<String, Tensor> feedsFor(EncodedBatch batch, Map<String, DataType> feeds) {
    Map<String, Tensor> all = batch.asMap();
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (Map.Entry<String, DataType> f : feeds.entrySet()) {
      Tensor t = all.get(f.getKey());
      out.put(f.getKey(), f.getValue() == DataType.INT32 ? toInt32(t) : t);
    }
    return out;
  }

  private static Tensor toInt32(Tensor t) {
    long[] v = t.toLongArray();
    int[] w = new int[v.length];
    for (int i = 0; i < v.length; i++) {
      w[i] = Math.toIntExact(v[i]);
    }
    return Tensor.ofInts(t.name(), t.shape(), w);
  }
}
