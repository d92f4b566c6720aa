package dev.compress.training.distill;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.compress.training.loss.Losses;

/**
 * Teacher-student losses on engine arrays, differentiable through the student's arrays (the
 * teacher's are constants). Each returns a scalar; shapes are checked and a mismatch names both.
 *
 * <ul>
 *   <li>{@link #softTargets}: Hinton, Vinyals and Dean 2015, "Distilling the Knowledge in a Neural
 *       Network": {@code lambda * CE(y, s) + (1 - lambda) * T^2 * KL(softmax(t/T) ||
 *       softmax(s/T))}, KL summed over classes and averaged over rows (PyTorch's {@code
 *       batchmean}); the {@code T^2} keeps the soft gradients' scale independent of {@code T}.
 *   <li>{@link #hiddenMse} / {@link #hiddenCosine}: hidden states of paired layers, per token,
 *       counting only tokens the attention mask keeps (TinyBERT's MSE, Jiao et al. 2020;
 *       DistilBERT's cosine on the last hidden states, Sanh et al. 2019).
 *   <li>{@link #pooledMse} / {@link #pooledCosine}: sentence embeddings, the mean of the hidden
 *       states over the attention mask (sentence-transformers' mean pooling, sum over tokens
 *       divided by {@code max(count, 1e-9)}); MSE over all elements as sentence-transformers'
 *       {@code MSELoss} in its layer-reduction recipe (Reimers and Gurevych 2020).
 * </ul>
 */
public final class DistillationLosses {
  private DistillationLosses() {}

  /**
   * Hinton's soft-target loss over logits {@code [..., classes]} (leading axes are rows).
   *
   * @param labels class indices {@code [...]} (integer), or null for the soft part alone
   * @param temperature {@code T > 0}
   * @param hardWeight {@code lambda} in {@code [0, 1]}; must be 0 when {@code labels} is null
   */
  public static NDArray softTargets(
      NDArray student, NDArray teacher, NDArray labels, float temperature, float hardWeight) {
    sameShape("student logits", student, "teacher logits", teacher);
    if (labels == null && hardWeight > 0) {
      throw new IllegalArgumentException(
          "hard-label weight " + hardWeight + " needs labels, and the data has none");
    }
    NDArray loss = Losses.klDivergence(teacher, student, temperature);
    if (labels == null || hardWeight == 0) {
      return loss;
    }
    NDArray ce = Losses.crossEntropy(student, labels);
    return ce.mul(hardWeight).add(loss.mul(1 - hardWeight));
  }

  /**
   * Mean squared error of hidden states {@code [batch, tokens, dim]} over the tokens {@code mask}
   * {@code [batch, tokens]} keeps: {@code sum(mask * (s - t)^2) / (kept tokens * dim)}.
   */
  public static NDArray hiddenMse(NDArray student, NDArray teacher, NDArray mask) {
    sameShape("student hidden state", student, "teacher hidden state", teacher);
    NDArray m = tokenMask(mask, student);
    long dim = student.getShape().get(2);
    NDArray sq = student.sub(teacher.stopGradient()).square().mul(m);
    return sq.sum().div(m.sum().mul(dim).maximum(1e-9f));
  }

  /** {@code 1 - cos(s, t)} per token of {@code [batch, tokens, dim]}, averaged over kept tokens. */
  public static NDArray hiddenCosine(NDArray student, NDArray teacher, NDArray mask) {
    sameShape("student hidden state", student, "teacher hidden state", teacher);
    NDArray m = tokenMask(mask, student).squeeze(2); // (batch, tokens)
    NDArray cos = cosine(student, teacher.stopGradient(), 2);
    return m.sub(cos.mul(m)).sum().div(m.sum().maximum(1e-9f));
  }

  /** The mean of {@code hidden [batch, tokens, dim]} over the tokens {@code mask} keeps. */
  public static NDArray meanPool(NDArray hidden, NDArray mask) {
    NDArray m = tokenMask(mask, hidden);
    return hidden.mul(m).sum(new int[] {1}).div(m.sum(new int[] {1}).maximum(1e-9f));
  }

  /** Mean squared error of the mean-pooled embeddings, over batch and dimensions. */
  public static NDArray pooledMse(NDArray student, NDArray teacher, NDArray mask) {
    sameShape("student hidden state", student, "teacher hidden state", teacher);
    NDArray s = meanPool(student, mask);
    NDArray t = meanPool(teacher.stopGradient(), mask);
    return s.sub(t).square().mean();
  }

  /** {@code 1 - cos} of the mean-pooled embeddings, averaged over the batch. */
  public static NDArray pooledCosine(NDArray student, NDArray teacher, NDArray mask) {
    sameShape("student hidden state", student, "teacher hidden state", teacher);
    NDArray cos = cosine(meanPool(student, mask), meanPool(teacher.stopGradient(), mask), 1);
    return cos.neg().add(1).mean();
  }

  /** Cosine along {@code axis}, with the norms' product floored at 1e-8 as PyTorch does. */
  private static NDArray cosine(NDArray a, NDArray b, int axis) {
    int[] ax = {axis};
    NDArray dot = a.mul(b).sum(ax);
    NDArray na = a.square().sum(ax).sqrt();
    NDArray nb = b.square().sum(ax).sqrt();
    return dot.div(na.mul(nb).maximum(1e-8f));
  }

  /** {@code mask [batch, tokens]} as float {@code [batch, tokens, 1]}, checked against hidden. */
  private static NDArray tokenMask(NDArray mask, NDArray hidden) {
    Shape h = hidden.getShape();
    if (h.dimension() != 3) {
      throw new IllegalArgumentException("a hidden state must be [batch, tokens, dim], found " + h);
    }
    Shape m = mask.getShape();
    if (m.dimension() != 2 || m.get(0) != h.get(0) || m.get(1) != h.get(1)) {
      throw new IllegalArgumentException(
          "attention mask " + m + " does not match the hidden state " + h);
    }
    return mask.toType(DataType.FLOAT32, false).expandDims(2);
  }

  private static void sameShape(String an, NDArray a, String bn, NDArray b) {
    if (!a.getShape().equals(b.getShape())) {
      throw new IllegalArgumentException(
          an + " " + a.getShape() + " and " + bn + " " + b.getShape() + " differ in shape");
    }
  }
}
