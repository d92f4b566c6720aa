package dev.compress.training.optim;

import ai.djl.ndarray.NDArray;

/**
 * Stochastic gradient descent with momentum (Polyak's heavy ball, or Nesterov), as PyTorch's SGD
 * without dampening: {@code g += wd*w}; {@code b = mu*b + g} ({@code b = g} on the first step);
 * {@code w -= lr * (nesterov ? g + mu*b : b)}.
 */
public final class Sgd extends Optimizer {
  private final float momentum;
  private final float weightDecay;
  private final boolean nesterov;

  /**
   * @throws IllegalArgumentException naming the argument out of range
   */
  public Sgd(double momentum, double weightDecay, boolean nesterov) {
    super(1);
    if (!(momentum >= 0 && momentum < 1)) {
      throw new IllegalArgumentException("momentum must be in [0, 1), found " + momentum);
    }
    if (!(weightDecay >= 0)) {
      throw new IllegalArgumentException("weightDecay must be >= 0, found " + weightDecay);
    }
    this.momentum = (float) momentum;
    this.weightDecay = (float) weightDecay;
    this.nesterov = nesterov;
  }

  @Override
  String[] slotNames() {
    return new String[] {"momentum"};
  }

  @Override
  void update(NDArray w, NDArray g, NDArray[] s, double lr, long t, boolean decay) {
    NDArray d = decay && weightDecay > 0 ? g.add(w.mul(weightDecay)) : g;
    s[0].muli(momentum).addi(d);
    NDArray dir = nesterov ? d.add(s[0].mul(momentum)) : s[0];
    w.subi(dir.mul((float) lr));
  }
}
