package dev.compress.calibration.activation;

import dev.compress.api.tensor.Tensor;
import java.util.Arrays;

/**
 * One captured activation seen as token rows of its last dimension, with padded tokens left out:
 * the single place where calibration decides which rows are real tokens.
 *
 * <p>The rule: an activation {@code [..., K]} has {@code rows = elements / K} rows of {@code K}
 * features. When the batch has an {@code attention_mask} of shape {@code [b, t]} and the activation
 * has exactly {@code b * t} rows (one per token, e.g. {@code [b, t, K]}), the rows whose mask is 0
 * are padding and are dropped; otherwise every row is kept (e.g. a pooled {@code [b, K]}).
 *
 * @param values the kept rows, row-major {@code (rows, cols)}, exactly {@code rows * cols} values
 * @param rows kept rows
 * @param cols features per row (the activation's last dimension)
 * @param sequences how many sequences the rows came from: {@code b} when the mask applied or the
 *     activation has rank 3 or more (its first dimension), else 1
 */
public record TokenRows(float[] values, int rows, int cols, int sequences) {

  /** Checks the sizes. */
  public TokenRows {
    if (values.length != (long) rows * cols) {
      throw new IllegalArgumentException(values.length + " values for " + rows + " x " + cols);
    }
  }

  /**
   * The real-token rows of {@code x}.
   *
   * @param attentionMask the batch's {@code attention_mask}, or null
   */
  public static TokenRows of(Tensor x, Tensor attentionMask) {
    float[] v = x.toFloatArray();
    int cols = x.rank() == 0 ? 1 : (int) x.dim(-1);
    int rows = cols == 0 ? 0 : v.length / cols;
    boolean[] keep = realRows(rows, attentionMask);
    int sequences = x.rank() >= 3 ? (int) x.dim(0) : 1;
    if (keep == null) {
      return new TokenRows(v, rows, cols, sequences);
    }
    int kept = 0;
    for (int r = 0; r < rows; r++) {
      if (keep[r]) {
        if (kept != r) {
          System.arraycopy(v, r * cols, v, kept * cols, cols);
        }
        kept++;
      }
    }
    float[] dense = kept == rows ? v : Arrays.copyOf(v, kept * cols);
    return new TokenRows(dense, kept, cols, (int) attentionMask.dim(0));
  }

  /**
   * Which of {@code rows} token rows are real: null when the mask does not apply (no mask, not
   * {@code [b, t]}, or not {@code b * t} rows), else one flag per row.
   */
  public static boolean[] realRows(int rows, Tensor attentionMask) {
    if (attentionMask == null
        || attentionMask.rank() != 2
        || attentionMask.elementCount() != rows) {
      return null;
    }
    long[] m = attentionMask.toLongArray();
    boolean[] keep = new boolean[rows];
    for (int i = 0; i < rows; i++) {
      keep[i] = m[i] != 0;
    }
    return keep;
  }

  /**
   * As {@link #realRows(int, Tensor)} for the rows of {@code x}; all true when it does not apply.
   */
  public static boolean[] realRowsOrAll(Tensor x, Tensor attentionMask) {
    int cols = x.rank() == 0 ? 1 : (int) x.dim(-1);
    int rows = cols == 0 ? 0 : (int) (x.elementCount() / cols);
    boolean[] keep = realRows(rows, attentionMask);
    if (keep == null) {
      keep = new boolean[rows];
      Arrays.fill(keep, true);
    }
    return keep;
  }
}
