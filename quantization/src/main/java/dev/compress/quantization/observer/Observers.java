package dev.compress.quantization.observer;

import java.util.ArrayList;
import java.util.List;

/**
 * Creates observers by their configuration name and validates observer settings, so that every pass
 * spells them alike: {@code observer} is one of {@link #NAMES}, with {@code percentile} for {@code
 * percentile} and {@code averagingConstant} for {@code moving-average}.
 */
public final class Observers {
  /** Running min-max. */
  public static final String MIN_MAX = "minmax";

  /** Moving-average min-max. */
  public static final String MOVING_AVERAGE = "moving-average";

  /** Percentile of |x|. */
  public static final String PERCENTILE = "percentile";

  /** Least quantization MSE. */
  public static final String MSE = "mse";

  /** KL-divergence (entropy) calibration. */
  public static final String KL = "kl";

  /** Every observer name. */
  public static final List<String> NAMES = List.of(MIN_MAX, MOVING_AVERAGE, PERCENTILE, MSE, KL);

  private Observers() {}

  /**
   * Adds the problems of an observer setting to {@code problems}, each naming its key.
   *
   * @param observer the {@code observer} value
   * @param granularity the granularity it must produce
   * @param percentile the {@code percentile} value
   * @param averagingConstant the {@code averagingConstant} value
   */
  public static void validate(
      String observer,
      ActivationGranularity granularity,
      double percentile,
      double averagingConstant,
      List<String> problems) {
    if (observer == null || !NAMES.contains(observer)) {
      problems.add("observer must be one of " + NAMES + ", found '" + observer + "'");
      return;
    }
    if (granularity == null) {
      problems.add("granularity must be one of PER_TENSOR, PER_TOKEN, PER_CHANNEL, found null");
    } else if (granularity != ActivationGranularity.PER_TENSOR
        && List.of(PERCENTILE, MSE, KL).contains(observer)) {
      problems.add(
          "observer '"
              + observer
              + "' searches one clipping threshold per tensor; granularity must be PER_TENSOR,"
              + " found "
              + granularity);
    }
    if (observer.equals(PERCENTILE) && !(percentile > 0 && percentile <= 100)) {
      problems.add("percentile must be in (0, 100], found " + percentile);
    }
    if (observer.equals(MOVING_AVERAGE) && !(averagingConstant > 0 && averagingConstant <= 1)) {
      problems.add("averagingConstant must be in (0, 1], found " + averagingConstant);
    }
  }

  /**
   * A new observer.
   *
   * @param symmetric the activation grid the pass writes (MSE scores candidates on it)
   * @throws IllegalArgumentException for settings {@link #validate} rejects
   */
  public static Observer create(
      String observer,
      ActivationGranularity granularity,
      double percentile,
      double averagingConstant,
      boolean symmetric) {
    List<String> problems = new ArrayList<>();
    validate(observer, granularity, percentile, averagingConstant, problems);
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(String.join("; ", problems));
    }
    return switch (observer) {
      case MIN_MAX -> new MinMaxObserver(granularity, 0);
      case MOVING_AVERAGE -> new MinMaxObserver(granularity, averagingConstant);
      case PERCENTILE ->
          new HistogramObserver(HistogramObserver.Method.PERCENTILE, percentile, symmetric);
      case MSE -> new HistogramObserver(HistogramObserver.Method.MSE, percentile, symmetric);
      case KL -> new HistogramObserver(HistogramObserver.Method.KL, percentile, symmetric);
      default -> throw new IllegalStateException(observer);
    };
  }

  /** Checks a block's shape against the columns seen before (-1: none yet). */
  static void checkBlock(float[] x, int rows, int cols, int previousCols) {
    if (rows < 0 || cols <= 0 || (long) rows * cols > x.length) {
      throw new IllegalArgumentException(
          "a block of " + rows + " x " + cols + " needs that many values, found " + x.length);
    }
    if (previousCols >= 0 && previousCols != cols) {
      throw new IllegalArgumentException(
          "observed " + previousCols + " features before, now " + cols);
    }
  }
}
