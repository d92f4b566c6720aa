package dev.compress.api;

/**
 * The model is readable but uses something the toolkit cannot handle (an operator an executor
 * lacks, a layer layout a pass cannot compress). The message names the node or layer.
 */
public class UnsupportedModelException extends CompressionException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a one-line message naming the node or layer. */
  public UnsupportedModelException(String message) {
    super(message);
  }
}
