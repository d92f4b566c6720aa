package dev.compress.api;

import java.util.List;

/**
 * A configuration problem: an unknown key or pass, a value out of range, a selector that matches no
 * layer. Carries every problem found, each naming the key path and the value found.
 */
public class ConfigException extends CompressionException {
  private static final long serialVersionUID = 1L;

  private final List<String> problems;

  /** One problem. */
  public ConfigException(String problem) {
    this(List.of(problem));
  }

  /** Several problems at once; the message joins them with "; ". */
  public ConfigException(List<String> problems) {
    super(String.join("; ", problems));
    this.problems = List.copyOf(problems);
  }

  /** Every problem found, each one line. */
  public List<String> problems() {
    return problems;
  }
}
