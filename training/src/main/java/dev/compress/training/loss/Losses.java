package dev.compress.training.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/**
 * Generic losses, each returning a scalar (float32) array built from differentiable operations on
 * its inputs, created on the inputs' manager. Shapes: {@code (batch, ..., features)}; "rows" are
 * all leading positions, the last axis holds the features / classes.
 *
 * <p>References: Hinton, Vinyals, Dean, "Distilling the Knowledge in a Neural Network" (2015) for
 * the temperature-scaled KL term and its {@code T^2} factor.
 */
public final class Losses {
  private Losses() {}

  /** Mean over all elements of {@code (a - b)^2}. */
  public static NDArray mse(NDArray a, NDArray b) {
    requireSameShape("mse", a, b);
    return a.sub(b).square().mean();
  }

  /**
   * Mean over rows of {@code 1 - cos(a_row, b_row)} along the last axis; {@code eps} guards zero
   * rows (1e-8 as in PyTorch's {@code cosine_similarity}).
   */
  public static NDArray cosine(NDArray a, NDArray b) {
    requireSameShape("cosine", a, b);
    int last = a.getShape().dimension() - 1;
    NDArray dot = a.mul(b).sum(new int[] {last});
    NDArray na = a.square().sum(new int[] {last}).sqrt().maximum(1e-8f);
    NDArray nb = b.square().sum(new int[] {last}).sqrt().maximum(1e-8f);
    return dot.div(na.mul(nb)).neg().add(1f).mean();
  }

  /**
   * Hinton's soft-target term: {@code T^2 * KL(softmax(t/T) || softmax(s/T))} summed over the last
   * axis and averaged over rows. The teacher logits are detached (no gradient flows into them).
   *
   * @throws IllegalArgumentException for a temperature that is not positive
   */
  public static NDArray klDivergence(NDArray teacherLogits, NDArray studentLogits, double t) {
    requireSameShape("klDivergence", teacherLogits, studentLogits);
    if (!(t > 0)) {
      throw new IllegalArgumentException("temperature must be > 0, found " + t);
    }
    int last = studentLogits.getShape().dimension() - 1;
    float inv = (float) (1 / t);
    NDArray pt = teacherLogits.stopGradient().mul(inv);
    NDArray logPt = pt.logSoftmax(last);
    NDArray logPs = studentLogits.mul(inv).logSoftmax(last);
    NDArray kl = logPt.exp().mul(logPt.sub(logPs)).sum(new int[] {last});
    return kl.mean().mul((float) (t * t));
  }

  /**
   * Mean over rows of {@code -log softmax(logits)[label]}; {@code labels} holds integer class
   * indices with the logits' leading shape.
   *
   * @throws IllegalArgumentException when the shapes do not match
   */
  public static NDArray crossEntropy(NDArray logits, NDArray labels) {
    long[] l = logits.getShape().getShape();
    long[] y = labels.getShape().getShape();
    if (y.length != l.length - 1
        || !java.util.Arrays.equals(y, java.util.Arrays.copyOf(l, l.length - 1))) {
      throw new IllegalArgumentException(
          "crossEntropy: labels of shape "
              + labels.getShape()
              + " do not match logits of shape "
              + logits.getShape()
              + " (expected the logits' shape without its last axis)");
    }
    int last = l.length - 1;
    NDArray logp = logits.logSoftmax(last);
    NDArray idx = labels.toType(DataType.INT64, false).expandDims(last);
    return logp.gather(idx, last).neg().mean();
  }

  /**
   * The causal language-model loss: mean over every predicted position of {@code -log
   * softmax(logits[b, t])[ids[b, t + 1]]}, for {@code t < sequence - 1} (position {@code t}
   * predicts the next token; the last position predicts nothing). {@code logits} is {@code [batch,
   * sequence, vocab]}, {@code ids} the integer token ids {@code [batch, sequence]} the logits were
   * computed from; exp of this loss is the perplexity of the batch.
   *
   * @throws IllegalArgumentException when the shapes do not match or the sequence is shorter than 2
   */
  public static NDArray nextTokenCrossEntropy(NDArray logits, NDArray ids) {
    long[] l = logits.getShape().getShape();
    long[] y = ids.getShape().getShape();
    if (l.length != 3 || y.length != 2 || l[0] != y[0] || l[1] != y[1] || l[1] < 2) {
      throw new IllegalArgumentException(
          "nextTokenCrossEntropy: logits of shape "
              + logits.getShape()
              + " and ids of shape "
              + ids.getShape()
              + " (expected [batch, sequence >= 2, vocab] and [batch, sequence])");
    }
    return crossEntropy(logits.get(":, :-1, :"), ids.get(":, 1:"));
  }

  private static void requireSameShape(String loss, NDArray a, NDArray b) {
    if (!a.getShape().equals(b.getShape())) {
      throw new IllegalArgumentException(
          loss + ": shapes differ, " + a.getShape() + " vs " + b.getShape());
    }
  }
}
