package dev.compress.runtime.calibration;

import java.util.List;
import java.util.Optional;

/**
 * Sentence sets that ship with the toolkit as classpath resources under {@code dev/compress/data/}
 * (one sentence per line, UTF-8), named {@code builtin:NAME} wherever a pipeline takes a data
 * source. Where they come from, their licence and how they were extracted is in that folder's
 * {@code README.md}.
 *
 * <ul>
 *   <li>{@value #CALIBRATION_TEXT}: 1,000 sentences of <i>Moby-Dick</i> (public domain), for
 *       calibrating text models;
 *   <li>{@value #HELDOUT_SENTENCES}: 300 sentences of US State of the Union addresses 1790-2021
 *       (public domain), for held-out evaluation. Disjoint from the calibration text: never
 *       calibrate on it;
 *   <li>{@value #OPINION_LEXICON}: 2,000 English opinion words of Hu &amp; Liu's lexicon (1,000
 *       positive, 1,000 negative), one {@code word<TAB>label} line each, for the nearest-neighbour
 *       sentiment task of the evaluator (not sentences: never calibrate on it).
 * </ul>
 */
public final class BuiltinTextData {
  /** Moby-Dick sentences for calibration. */
  public static final String CALIBRATION_TEXT = "builtin:calibration-text";

  /** State of the Union sentences for held-out evaluation. */
  public static final String HELDOUT_SENTENCES = "builtin:heldout-sentences";

  /** Opinion words with their sentiment label, {@code word<TAB>positive|negative}. */
  public static final String OPINION_LEXICON = "builtin:opinion-lexicon";

  /**
   * One built-in sentence set.
   *
   * @param name the full name, {@code builtin:...}
   * @param resource the classpath resource
   * @param description one line for listings and error messages
   */
  public record Dataset(String name, String resource, String description) {}

  private static final List<Dataset> ALL =
      List.of(
          new Dataset(
              CALIBRATION_TEXT,
              "dev/compress/data/calibration-mobydick.txt",
              "1,000 sentences of Moby-Dick (public domain), for calibration"),
          new Dataset(
              HELDOUT_SENTENCES,
              "dev/compress/data/heldout-sotu.txt",
              "300 sentences of State of the Union addresses (public domain), held out for"
                  + " evaluation"),
          new Dataset(
              OPINION_LEXICON,
              "dev/compress/data/opinion-lexicon.tsv",
              "2,000 opinion words (Hu & Liu, CC BY 4.0), word<TAB>label, for the sentiment"
                  + " evaluation"));

  private BuiltinTextData() {}

  /** Every built-in sentence set. */
  public static List<Dataset> all() {
    return ALL;
  }

  /** The full names of every built-in sentence set. */
  public static List<String> names() {
    return ALL.stream().map(Dataset::name).toList();
  }

  /** The set named {@code name} ({@code builtin:NAME}). */
  public static Optional<Dataset> find(String name) {
    return ALL.stream().filter(d -> d.name().equals(name)).findFirst();
  }
}
