package dev.compress.quantization.observer;

import java.util.ArrayList;
import java.util.List;

/**
 * Min-max observer, plain or moving-average.
 *
 * <ul>
 *   <li><b>Plain</b> ({@code averagingConstant} 0): the running minimum and maximum of everything
 *       observed.
 *   <li><b>Moving average</b> ({@code averagingConstant} c in (0, 1]): the first block sets the
 *       range to its own extremes; each later block moves it by {@code min += c * (blockMin -
 *       min)}, {@code max += c * (blockMax - max)}, as PyTorch's {@code
 *       MovingAverageMinMaxObserver} (default c = 0.01) does, which damps the effect of one
 *       outlier-heavy batch.
 * </ul>
 *
 * Granularity: per tensor, per channel (column extremes over all tokens) or per token (row extremes
 * of the latest block; the averaging constant does not apply).
 */
public final class MinMaxObserver implements Observer {
  private final ActivationGranularity granularity;
  private final float averagingConstant;
  private int cols = -1;
  private float[] min;
  private float[] max;
  private List<Range> lastRows;

  /**
   * An observer.
   *
   * @param granularity which values share a range
   * @param averagingConstant 0 for running extremes, else the moving-average constant in (0, 1]
   */
  public MinMaxObserver(ActivationGranularity granularity, double averagingConstant) {
    if (!(averagingConstant >= 0 && averagingConstant <= 1)) {
      throw new IllegalArgumentException(
          "averagingConstant must be in [0, 1], found " + averagingConstant);
    }
    this.granularity = granularity;
    this.averagingConstant = (float) averagingConstant;
  }

  @Override
  public ActivationGranularity granularity() {
    return granularity;
  }

  @Override
  public void observe(float[] x, int rows, int cols) {
    Observers.checkBlock(x, rows, cols, this.cols);
    this.cols = cols;
    if (rows == 0) {
      return;
    }
    int n = granularity == ActivationGranularity.PER_CHANNEL ? cols : 1;
    float[] bmin = new float[n];
    float[] bmax = new float[n];
    java.util.Arrays.fill(bmin, Float.POSITIVE_INFINITY);
    java.util.Arrays.fill(bmax, Float.NEGATIVE_INFINITY);
    List<Range> rowRanges =
        granularity == ActivationGranularity.PER_TOKEN ? new ArrayList<>() : null;
    for (int r = 0; r < rows; r++) {
      float rmin = Float.POSITIVE_INFINITY;
      float rmax = Float.NEGATIVE_INFINITY;
      for (int c = 0; c < cols; c++) {
        float v = x[r * cols + c];
        if (!Float.isFinite(v)) {
          throw new IllegalArgumentException(
              "activation at token " + r + ", feature " + c + " is " + v);
        }
        int k = n == 1 ? 0 : c;
        if (v < bmin[k]) {
          bmin[k] = v;
        }
        if (v > bmax[k]) {
          bmax[k] = v;
        }
        rmin = Math.min(rmin, v);
        rmax = Math.max(rmax, v);
      }
      if (rowRanges != null) {
        rowRanges.add(new Range(rmin, rmax));
      }
    }
    if (rowRanges != null) {
      lastRows = List.copyOf(rowRanges);
    }
    if (min == null) {
      min = bmin;
      max = bmax;
      return;
    }
    for (int k = 0; k < n; k++) {
      if (averagingConstant == 0f) {
        min[k] = Math.min(min[k], bmin[k]);
        max[k] = Math.max(max[k], bmax[k]);
      } else {
        min[k] += averagingConstant * (bmin[k] - min[k]);
        max[k] += averagingConstant * (bmax[k] - max[k]);
      }
    }
  }

  @Override
  public List<Range> ranges() {
    if (min == null) {
      throw new IllegalStateException("nothing observed");
    }
    if (granularity == ActivationGranularity.PER_TOKEN) {
      return lastRows;
    }
    List<Range> out = new ArrayList<>(min.length);
    for (int k = 0; k < min.length; k++) {
      out.add(new Range(min[k], max[k]));
    }
    return out;
  }
}
