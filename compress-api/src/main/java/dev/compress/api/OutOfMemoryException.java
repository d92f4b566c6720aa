package dev.compress.api;

import java.util.Locale;

/**
 * The JVM ran out of heap during one step of a run ({@code "applying passes[0]
 * (rtn-quantization)"}, {@code "loading the model"}, {@code "evaluating"}): an {@link
 * OutOfMemoryError} turned into a one-line message that names the step and the heap limit, with the
 * error as its cause. Front ends add how to raise the limit in their terms ({@link
 * #suggestedMaxHeap()}).
 */
public class OutOfMemoryException extends CompressionException {
  private static final long serialVersionUID = 1L;

  private final String step;
  private final long maxHeapBytes;

  /**
   * @param step what was running, as a phrase after "while", e.g. {@code "loading the model"}
   * @param cause the error
   */
  public OutOfMemoryException(String step, OutOfMemoryError cause) {
    this(step, Runtime.getRuntime().maxMemory(), cause);
  }

  /** As {@link #OutOfMemoryException(String, OutOfMemoryError)} with the heap limit given. */
  public OutOfMemoryException(String step, long maxHeapBytes, OutOfMemoryError cause) {
    super(
        "out of memory"
            + (cause.getMessage() == null ? "" : " (" + cause.getMessage() + ")")
            + " while "
            + step
            + ", with a maximum heap of "
            + mib(maxHeapBytes),
        cause);
    this.step = step;
    this.maxHeapBytes = maxHeapBytes;
  }

  /** The step that ran out of memory. */
  public String step() {
    return step;
  }

  /** The heap limit the JVM ran with ({@link Runtime#maxMemory()}). */
  public long maxHeapBytes() {
    return maxHeapBytes;
  }

  /**
   * A heap limit to try next, as an {@code -Xmx} value: twice the current limit, rounded up to a
   * multiple of 64 MiB ({@code "192m"}), or to whole GiB from 1 GiB on ({@code "8g"}).
   */
  public String suggestedMaxHeap() {
    return suggestedMaxHeap(maxHeapBytes);
  }

  /** {@link #suggestedMaxHeap()} for a given current limit. */
  public static String suggestedMaxHeap(long maxHeapBytes) {
    long mib = Math.max(64, Math.ceilDiv(2 * Math.max(maxHeapBytes, 1), 1L << 20));
    if (mib >= 1024) {
      return Math.ceilDiv(mib, 1024) + "g";
    }
    return Math.ceilDiv(mib, 64) * 64 + "m";
  }

  private static String mib(long bytes) {
    return String.format(Locale.ROOT, "%.0f MiB", bytes / (1024.0 * 1024));
  }
}
