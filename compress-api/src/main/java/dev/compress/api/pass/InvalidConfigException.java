package dev.compress.api.pass;

import java.util.List;

/**
 * Thrown by config record constructors: every problem found, each naming the key relative to the
 * pass ({@code sparsity must be in [0, 1), found 1.5}). Unchecked because record constructors
 * cannot declare checked exceptions; the pipeline turns it into a {@link
 * dev.compress.api.ConfigException} with full key paths.
 */
public class InvalidConfigException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  private final List<String> problems;

  /** Several problems. */
  public InvalidConfigException(List<String> problems) {
    super(String.join("; ", problems));
    this.problems = List.copyOf(problems);
  }

  /** The problems, one line each. */
  public List<String> problems() {
    return problems;
  }

  /** Throws when {@code problems} is not empty. */
  public static void throwIfAny(List<String> problems) {
    if (!problems.isEmpty()) {
      throw new InvalidConfigException(problems);
    }
  }
}
