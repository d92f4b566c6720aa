package dev.compress.training.loop;

import java.util.List;
import java.util.OptionalDouble;

/**
 * What a run did.
 *
 * @param startStep the update the run started from (0, or the resumed checkpoint's step)
 * @param steps the updates completed in total (including those before a resume)
 * @param earlyStopped whether validation stopped the run before {@code config.steps}
 * @param bestMetric the best validation metric, if validated
 * @param bestStep the update after which it was measured (-1 if none)
 * @param restoredBest whether the best parameters were loaded at the end
 * @param history one record per update of this run
 * @param seconds wall time of this run
 */
public record TrainResult(
    long startStep,
    long steps,
    boolean earlyStopped,
    OptionalDouble bestMetric,
    long bestStep,
    boolean restoredBest,
    List<StepRecord> history,
    double seconds) {

  /** Copies the history. */
  public TrainResult {
    history = List.copyOf(history);
  }

  /** The mean loss of the last update, NaN when none ran. */
  public double finalLoss() {
    return history.isEmpty() ? Double.NaN : history.get(history.size() - 1).loss();
  }

  /**
   * One update.
   *
   * @param step the update index, from 1
   * @param loss the mean micro-batch loss
   * @param lr the learning rate used
   * @param gradNorm the global gradient norm before clipping
   * @param metric the validation metric after this update, NaN when not validated
   */
  public record StepRecord(long step, double loss, double lr, double gradNorm, double metric) {}
}
