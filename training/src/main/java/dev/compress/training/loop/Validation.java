package dev.compress.training.loop;

import dev.compress.api.CompressionException;
import dev.compress.training.TrainableModel;

/**
 * A held-out metric of the model as it is now (run outside any gradient recording, so nothing is
 * recorded). {@link #higherIsBetter()} says which way is an improvement.
 */
public interface Validation {
  /** The metric on the held-out data. */
  double evaluate(TrainableModel model) throws CompressionException;

  /** Whether a larger value is better (accuracy, cosine); false for losses. */
  default boolean higherIsBetter() {
    return false;
  }

  /** A validation of a loss-like metric (lower is better). */
  static Validation minimizing(Validation v) {
    return v::evaluate;
  }

  /** A validation of a score (higher is better). */
  static Validation maximizing(Validation v) {
    return new Validation() {
      @Override
      public double evaluate(TrainableModel model) throws CompressionException {
        return v.evaluate(model);
      }

      @Override
      public boolean higherIsBetter() {
        return true;
      }
    };
  }
}
