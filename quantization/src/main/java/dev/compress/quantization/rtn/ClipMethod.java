package dev.compress.quantization.rtn;

/** How a weight quantizer chooses each group's range. */
public enum ClipMethod {
  /** The full min-max range of the group. */
  NONE,
  /** The shrunk range minimising the p = 2.4 weight error ({@link ClipSearch}). */
  MSE
}
