package dev.compress.evaluation.sensitivity;

import dev.compress.api.ConfigException;
import java.util.Arrays;
import java.util.Locale;

/** What a unit of the analysis is. */
public enum Granularity {
  /** Every linear layer on its own. */
  LAYER,
  /**
   * The linear layers of one transformer block together (block number from the layer name; a layer
   * outside every block is a unit of its own).
   */
  BLOCK;

  /** The name on the command line. */
  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * The granularity named {@code name}.
   *
   * @throws ConfigException naming {@code key} for another name
   */
  public static Granularity parse(String name, String key) throws ConfigException {
    for (Granularity g : values()) {
      if (g.id().equals(name == null ? "" : name.trim().toLowerCase(Locale.ROOT))) {
        return g;
      }
    }
    throw new ConfigException(
        key
            + " must be one of "
            + Arrays.stream(values()).map(Granularity::id).toList()
            + ", found '"
            + name
            + "' (attention-head groups are not units yet: a probe's targets select whole layers)");
  }
}
