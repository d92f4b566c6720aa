package dev.compress.evaluation.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A chart axis with round ticks ("nice numbers", Heckbert 1990, Graphics Gems: steps of 1, 2 or 5
 * times a power of ten), covering the data with a little padding, and kept inside {@code [0, 1]}
 * for a metric bounded there (cosine, accuracy, agreement) as long as the data is.
 *
 * @param lo the axis minimum (the first tick)
 * @param hi the axis maximum (the last tick)
 * @param step the distance between ticks
 * @param ticks the tick values, {@code lo} to {@code hi}
 * @param labels the ticks printed with as many decimals as the step needs
 */
record NiceAxis(double lo, double hi, double step, List<Double> ticks, List<String> labels) {
  /** About this many ticks per axis. */
  static final int TICKS = 5;

  NiceAxis {
    ticks = List.copyOf(ticks);
    labels = List.copyOf(labels);
  }

  /**
   * An axis over {@code values} (non-finite ones ignored).
   *
   * @param unitInterval whether the quantity lies in {@code [0, 1]}: the axis then does not leave
   *     it unless a value does
   * @param fromZero whether the axis starts at 0 (bar lengths)
   */
  static NiceAxis of(List<Double> values, boolean unitInterval, boolean fromZero) {
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    for (double v : values) {
      if (Double.isFinite(v)) {
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
    }
    if (min > max) { // no finite value
      min = 0;
      max = 1;
    }
    if (fromZero) {
      min = Math.min(0, min);
    }
    double dataMin = min;
    double dataMax = max;
    if (max - min <= Math.abs(max) * 1e-12) { // one value: a small window around it
      double d = max == 0 ? 1 : Math.abs(max) * 0.01;
      min = fromZero && min == 0 ? 0 : min - d;
      max += d;
    } else {
      double pad = (max - min) * 0.05;
      min = fromZero && min == 0 ? 0 : min - pad;
      max += pad;
    }
    double step = nice((max - min) / (TICKS - 1));
    double lo = Math.floor(min / step) * step;
    double hi = Math.ceil(max / step) * step;
    if (unitInterval) {
      if (dataMin >= 0) {
        lo = Math.max(lo, 0);
      }
      if (dataMax <= 1) {
        hi = Math.min(hi, 1);
      }
    }
    int decimals = Math.max(0, (int) -Math.floor(Math.log10(step) + 1e-9));
    List<Double> ticks = new ArrayList<>();
    List<String> labels = new ArrayList<>();
    long first = Math.round(lo / step);
    long last = Math.round(hi / step);
    for (long k = first; k <= last; k++) {
      double v = round(k * step, decimals);
      ticks.add(v);
      labels.add(String.format(Locale.ROOT, "%." + decimals + "f", v));
    }
    return new NiceAxis(round(lo, decimals), round(hi, decimals), step, ticks, labels);
  }

  /** The 1, 2 or 5 times a power of ten nearest {@code x}. */
  static double nice(double x) {
    double exp = Math.floor(Math.log10(x));
    double f = x / Math.pow(10, exp);
    double nf = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
    return nf * Math.pow(10, exp);
  }

  private static double round(double v, int decimals) {
    return java.math.BigDecimal.valueOf(v)
        .setScale(decimals, java.math.RoundingMode.HALF_EVEN)
        .doubleValue();
  }
}
