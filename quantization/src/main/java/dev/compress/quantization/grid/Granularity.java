package dev.compress.quantization.grid;

/** Which weights share one scale (and zero point). */
public enum Granularity {
  /** One scale per output channel (a row of the {@code out x in} view). */
  PER_CHANNEL,
  /** One scale per group of consecutive input features within an output channel. */
  PER_GROUP
}
