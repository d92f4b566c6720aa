package dev.compress.api;

/**
 * Root of the toolkit's checked exceptions. Messages are one line that names the file, config key
 * or layer involved and what was found, so front ends can print them as they are.
 */
public class CompressionException extends Exception {
  private static final long serialVersionUID = 1L;

  /** Creates an exception with a one-line message. */
  public CompressionException(String message) {
    super(message);
  }

  /** Creates an exception with a one-line message and its cause. */
  public CompressionException(String message, Throwable cause) {
    super(message, cause);
  }
}
