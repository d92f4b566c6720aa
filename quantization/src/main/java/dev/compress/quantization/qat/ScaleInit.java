package dev.compress.quantization.qat;

/** Where the weight grid of {@code qat} starts. */
public enum ScaleInit {
  /** The round-to-nearest grid ({@code rtn-quantization}'s, with its {@code clip} option). */
  RTN,
  /** LSQ's {@code 2 * mean|w| / sqrt(Q_P)} per group (symmetric grids only). */
  LSQ
}
