package dev.compress.training.loop;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.compress.api.CompressionException;
import dev.compress.training.TrainableModel;

/**
 * Per-update access to a {@link Trainer} run, for methods that change what is trained while it
 * trains (a rank schedule that masks parameters, a sampled sub-model per update) or add a term of
 * the parameters to the loss (a regulariser). Every method has a do-nothing default; {@link #NONE}
 * is the hook of a plain run.
 *
 * <p>Order within update {@code t} (counted from 1): {@link #beforeUpdate}; zero the gradients; for
 * each micro-batch the loss plus {@link #penalty}, back-propagated; clip; optimizer step; {@link
 * #afterUpdate} (the gradients of update {@code t} are still held: they are zeroed at the start of
 * the next update); then validation, only where {@link #validates} is true.
 */
public interface TrainingHook {
  /** The hook that does nothing. */
  TrainingHook NONE = new TrainingHook() {};

  /** Called once before the first update with the number of updates the run makes. */
  default void start(TrainableModel model, long steps) throws CompressionException {}

  /** Called before update {@code update} zeroes the gradients. */
  default void beforeUpdate(TrainableModel model, long update) throws CompressionException {}

  /**
   * A term added to the loss of each micro-batch, computed from the parameters ({@link
   * dev.compress.training.Parameter#value()}) inside the gradient recording, as an array of {@code
   * manager} (attach what you compute there); null for none.
   */
  default NDArray penalty(TrainableModel model, NDManager manager) throws CompressionException {
    return null;
  }

  /**
   * Called after the optimizer step of update {@code update}, before validation, with that update's
   * (clipped) gradients still in {@link dev.compress.training.Parameter#gradient()}; parameters may
   * be changed here through {@link dev.compress.training.Parameter#update}.
   */
  default void afterUpdate(TrainableModel model, long update) throws CompressionException {}

  /**
   * Whether the state after {@code update} may be validated (and so be kept as the best); false
   * while the trained model is not yet the one the run delivers (e.g. before a rank budget is
   * reached).
   */
  default boolean validates(long update) {
    return true;
  }
}
