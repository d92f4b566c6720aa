package dev.compress.quantization.qat;

/** How the step sizes (scales) of {@code qat} behave during training. */
public enum StepSize {
  /** The initial grid stays; only the float weights learn (plain straight-through estimator). */
  FIXED,
  /** Each scale is a trained parameter with LSQ's gradient scale (Esser et al. 2020). */
  LSQ
}
