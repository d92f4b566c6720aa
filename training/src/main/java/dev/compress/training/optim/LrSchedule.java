package dev.compress.training.optim;

/**
 * Learning rate by update index: linear warmup from {@code peak/warmup} to {@code peak} over the
 * first {@code warmup} updates, then {@link Decay#COSINE} (Loshchilov and Hutter, SGDR, 2017),
 * {@link Decay#LINEAR} or {@link Decay#CONSTANT} down to {@code peak * minRatio} at {@code total}.
 *
 * @param peak the learning rate after warmup
 * @param warmup number of warmup updates (0: none)
 * @param total number of updates of the run
 * @param decay the shape after warmup
 * @param minRatio the final rate as a fraction of {@code peak}
 */
public record LrSchedule(double peak, int warmup, int total, Decay decay, double minRatio) {

  /** The decay after warmup. */
  public enum Decay {
    /** Half a cosine period from peak to the minimum. */
    COSINE,
    /** A straight line from peak to the minimum. */
    LINEAR,
    /** The peak rate throughout. */
    CONSTANT
  }

  /** Validates the fields. */
  public LrSchedule {
    if (!(peak > 0) || Double.isInfinite(peak)) {
      throw new IllegalArgumentException("lr must be > 0, found " + peak);
    }
    if (warmup < 0 || total < 1) {
      throw new IllegalArgumentException(
          "warmup must be >= 0 and total >= 1, found " + warmup + " and " + total);
    }
    if (!(minRatio >= 0 && minRatio <= 1)) {
      throw new IllegalArgumentException("minRatio must be in [0, 1], found " + minRatio);
    }
    decay = decay == null ? Decay.COSINE : decay;
  }

  /** The rate of update {@code step} (0-based). */
  public double lr(long step) {
    if (step < warmup) {
      return peak * (step + 1) / warmup;
    }
    double min = peak * minRatio;
    double span = Math.max(1, total - warmup);
    double p = Math.min(1, (step - warmup) / span);
    return switch (decay) {
      case CONSTANT -> peak;
      case LINEAR -> peak - (peak - min) * p;
      case COSINE -> min + (peak - min) * 0.5 * (1 + Math.cos(Math.PI * p));
    };
  }
}
