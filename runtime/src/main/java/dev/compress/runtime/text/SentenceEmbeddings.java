package dev.compress.runtime.text;

import dev.compress.api.tensor.Tensor;
import java.nio.ByteBuffer;

/**
 * Sentence embeddings from an encoder's hidden states, as sentence-transformers computes them for
 * all-MiniLM-L6-v2: the mean of the token vectors over the attention mask, then L2 normalization.
 * Sums run in double precision.
 */
public final class SentenceEmbeddings {
  private SentenceEmbeddings() {}

  /**
   * Mean of the hidden states over the real tokens of each sentence.
   *
   * @param hidden f32 {@code (batch, sequence, width)}
   * @param attentionMask integer {@code (batch, sequence)}, nonzero for real tokens
   * @return {@code (batch, width)}; a sentence without real tokens gets zeros
   */
  public static float[][] meanPool(Tensor hidden, Tensor attentionMask) {
    if (hidden.rank() != 3 || attentionMask.rank() != 2) {
      throw new IllegalArgumentException(
          "expected hidden (batch, seq, width) and mask (batch, seq), found "
              + hidden.shapeString()
              + " and "
              + attentionMask.shapeString());
    }
    int b = (int) hidden.dim(0);
    int t = (int) hidden.dim(1);
    int w = (int) hidden.dim(2);
    if (attentionMask.dim(0) != b || attentionMask.dim(1) != t) {
      throw new IllegalArgumentException(
          "mask " + attentionMask.shapeString() + " does not match hidden " + hidden.shapeString());
    }
    float[] h = hidden.toFloatArray();
    long[] mask = attentionMask.toLongArray();
    float[][] out = new float[b][w];
    double[] acc = new double[w];
    for (int i = 0; i < b; i++) {
      java.util.Arrays.fill(acc, 0);
      long count = 0;
      for (int j = 0; j < t; j++) {
        if (mask[i * t + j] == 0) {
          continue;
        }
        count++;
        int base = (i * t + j) * w;
        for (int k = 0; k < w; k++) {
          acc[k] += h[base + k];
        }
      }
      // sentence-transformers clamps the count at 1e-9; a fully masked row stays zero either way.
      double n = Math.max(count, 1e-9);
      for (int k = 0; k < w; k++) {
        out[i][k] = (float) (acc[k] / n);
      }
    }
    return out;
  }

  /** Each row divided by its L2 norm (at least 1e-12, as {@code torch.nn.functional.normalize}). */
  public static float[][] l2Normalize(float[][] rows) {
    float[][] out = new float[rows.length][];
    for (int i = 0; i < rows.length; i++) {
      double ss = 0;
      for (float v : rows[i]) {
        ss += (double) v * v;
      }
      double norm = Math.max(Math.sqrt(ss), 1e-12);
      out[i] = new float[rows[i].length];
      for (int k = 0; k < rows[i].length; k++) {
        out[i][k] = (float) (rows[i][k] / norm);
      }
    }
    return out;
  }

  /** {@link #l2Normalize}({@link #meanPool}(hidden, mask)): the sentence embeddings. */
  public static float[][] embed(Tensor hidden, Tensor attentionMask) {
    return l2Normalize(meanPool(hidden, attentionMask));
  }

  /** Cosine similarity of two vectors of equal length. */
  public static double cosine(float[] a, float[] b) {
    if (a.length != b.length) {
      throw new IllegalArgumentException("lengths differ: " + a.length + " vs " + b.length);
    }
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += (double) a[i] * b[i];
      na += (double) a[i] * a[i];
      nb += (double) b[i] * b[i];
    }
    return dot / Math.max(Math.sqrt(na) * Math.sqrt(nb), 1e-30);
  }

  /** The embeddings as an f32 tensor {@code (batch, width)}. */
  public static Tensor toTensor(String name, float[][] rows) {
    int w = rows.length == 0 ? 0 : rows[0].length;
    ByteBuffer buf =
        ByteBuffer.allocate(rows.length * w * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (float[] r : rows) {
      for (float v : r) {
        buf.putFloat(v);
      }
    }
    buf.flip();
    return Tensor.of(
        name, dev.compress.api.tensor.DataType.FLOAT, new long[] {rows.length, w}, buf);
  }
}
