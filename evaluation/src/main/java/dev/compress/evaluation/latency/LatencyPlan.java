package dev.compress.evaluation.latency;

/**
 * How long to time: untimed warm-up runs, then timed rounds until {@code iterations} rounds are
 * done or, when {@code budgetMillis > 0}, until the budget is spent (but never fewer than {@link
 * #MIN_ROUNDS} rounds, so percentiles exist).
 *
 * @param warmup untimed runs of each workload (>= 0)
 * @param iterations the most timed rounds (> 0); each round runs every workload once
 * @param budgetMillis wall-clock budget for the timed rounds of one measurement; 0 for none
 */
public record LatencyPlan(int warmup, int iterations, long budgetMillis) {
  /** Rounds run even when the budget is spent sooner. */
  public static final int MIN_ROUNDS = 3;

  /** Validates the arguments. */
  public LatencyPlan {
    if (warmup < 0 || iterations <= 0 || budgetMillis < 0) {
      throw new IllegalArgumentException(
          "need warmup >= 0, iterations > 0, budgetMillis >= 0; found "
              + warmup
              + ", "
              + iterations
              + ", "
              + budgetMillis);
    }
  }

  /** {@code iterations} timed rounds after {@code max(2, iterations / 10)} warm-up runs. */
  public static LatencyPlan iterations(int iterations) {
    return new LatencyPlan(Math.max(2, iterations / 10), iterations, 0);
  }

  /** A short description, e.g. {@code 2 warm-up + 20 timed runs} or {@code ... within 5 s}. */
  public String describe() {
    String s = warmup + " warm-up + up to " + iterations + " timed runs per model";
    return budgetMillis > 0 ? s + " within " + budgetMillis / 1000.0 + " s" : s;
  }
}
