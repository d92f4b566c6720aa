package dev.compress.training.optim;

import ai.djl.ndarray.NDArray;

/**
 * Adam with decoupled weight decay (Loshchilov and Hutter, "Decoupled Weight Decay Regularization",
 * ICLR 2019), in PyTorch's order: {@code w *= 1 - lr*wd}; {@code m = b1*m + (1-b1)*g}; {@code v =
 * b2*v + (1-b2)*g^2}; {@code w -= lr * (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps)}. With {@code
 * weightDecay = 0} this is Adam (Kingma and Ba, 2015).
 */
public final class AdamW extends Optimizer {
  private final float beta1;
  private final float beta2;
  private final float eps;
  private final float weightDecay;

  /**
   * @throws IllegalArgumentException naming the argument out of range
   */
  public AdamW(double beta1, double beta2, double eps, double weightDecay) {
    super(2);
    if (!(beta1 >= 0 && beta1 < 1)) {
      throw new IllegalArgumentException("beta1 must be in [0, 1), found " + beta1);
    }
    if (!(beta2 >= 0 && beta2 < 1)) {
      throw new IllegalArgumentException("beta2 must be in [0, 1), found " + beta2);
    }
    if (!(eps > 0)) {
      throw new IllegalArgumentException("eps must be > 0, found " + eps);
    }
    if (!(weightDecay >= 0)) {
      throw new IllegalArgumentException("weightDecay must be >= 0, found " + weightDecay);
    }
    this.beta1 = (float) beta1;
    this.beta2 = (float) beta2;
    this.eps = (float) eps;
    this.weightDecay = (float) weightDecay;
  }

  @Override
  String[] slotNames() {
    return new String[] {"m", "v"};
  }

  @Override
  void update(NDArray w, NDArray g, NDArray[] s, double lr, long t, boolean decay) {
    if (decay && weightDecay > 0) {
      w.muli((float) (1 - lr * weightDecay));
    }
    s[0].muli(beta1).addi(g.mul(1 - beta1));
    s[1].muli(beta2).addi(g.square().muli(1 - beta2));
    double c1 = 1 - Math.pow(beta1, t);
    double c2 = 1 - Math.pow(beta2, t);
    NDArray denom = s[1].div((float) c2).sqrt().addi(eps);
    w.subi(s[0].mul((float) (lr / c1)).divi(denom));
  }
}
