package dev.compress.quantization.gptq;

import dev.compress.calibration.hessian.SecondOrderSweep;
import dev.compress.quantization.grid.GroupQuantizedWeight;
import dev.compress.quantization.grid.MinMaxGrid;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * GPTQ for one layer (Frantar, Ashkboos, Hoefler, Alistarh 2022, "GPTQ: Accurate Post-Training
 * Quantization for Generative Pre-trained Transformers", arXiv:2210.17323), following the reference
 * implementation's {@code fasterquant} step by step so that results match it. Steps 2, 5-7 are the
 * shared second-order machinery ({@link SecondOrderSweep}); GPTQ is its column step, quantizing
 * each column to the grid (steps 1, 3, 8):
 *
 * <ol>
 *   <li>per-channel grid fitted on the original weight (before dead columns are zeroed);
 *   <li>dead columns ({@code H_ii = 0}): {@code H_ii = 1}, {@code W[:, i] = 0};
 *   <li>static groups: every group's grid fitted up front on the unpermuted weight;
 *   <li>act-order: columns permuted by descending {@code diag(H)} (stable for ties), un-permuted at
 *       the end together with {@code g_idx};
 *   <li>damping {@code lambda = dampPercent * mean(diag H)} on the diagonal; when the Cholesky
 *       factorization fails, {@code dampPercent} is escalated by 10x up to {@code maxDampPercent}
 *       (an extension; the reference has no escalation), then the layer fails naming itself;
 *   <li>{@code U} = upper Cholesky factor of {@code H^-1} ({@code Linalg.choleskyOfInverse});
 *   <li>columns in blocks of {@code blockSize}: for column {@code j}, {@code q = quant(w)}, {@code
 *       e = (w - q) / U_jj}, {@code W1[:, j:] -= e U[j, j:]}; after the block {@code W[:, end:] -=
 *       E U[block, end:]} (lazy batch update);
 *   <li>non-static groups: the grid is refitted when the (permuted) column index is a multiple of
 *       the group size, on {@code W[:, j:j+group]} as of the start of the current block, exactly as
 *       the reference reads {@code W} (not the in-block copy) there.
 * </ol>
 *
 * <p>Arithmetic is f64 for the weight updates and the Hessian; the grid itself ({@link MinMaxGrid})
 * is f32 as in the reference, applied to the f32 value of each updated weight.
 */
public final class GptqQuantizer {
  private GptqQuantizer() {}

  /**
   * The quantized layer.
   *
   * @param weight codes, grid and {@code g_idx} in the original column order
   * @param dampPercent the damping actually used (larger than configured after escalation)
   * @param loss the reference's quantization loss {@code sum (w - q)^2 / U_jj^2 / 2}
   * @param deadColumns columns with {@code H_ii = 0}, zeroed
   */
  public record Result(
      GroupQuantizedWeight weight, double dampPercent, double loss, int deadColumns) {}

  /** Thrown when the Hessian stays singular after damping escalation. */
  public static final class SingularHessianException extends ArithmeticException {
    private static final long serialVersionUID = 1L;

    SingularHessianException(String message) {
      super(message);
    }
  }

  /**
   * Quantizes one layer.
   *
   * @param layer the layer name, for messages
   * @param w the weight, row-major {@code (rows, cols)} = {@code (out, in)}; not modified
   * @param hessian {@code (cols, cols)} row-major, {@code 2/n sum x x^T}; overwritten
   * @param config bits, groups, symmetry, act-order, damping, block size
   * @throws SingularHessianException naming the layer when damping escalation does not help
   * @throws IllegalArgumentException on a size mismatch, non-finite values, or a group size that
   *     does not divide {@code cols}
   */
  public static Result quantize(
      String layer, float[] w, int rows, int cols, double[] hessian, GptqConfig config) {
    if (w.length != (long) rows * cols || hessian.length != (long) cols * cols) {
      throw new IllegalArgumentException(
          layer
              + ": weight "
              + w.length
              + " / Hessian "
              + hessian.length
              + " values for "
              + rows
              + " x "
              + cols);
    }
    int group = config.effectiveGroupSize(cols);
    if (cols % group != 0) {
      throw new IllegalArgumentException(
          layer + ": groupSize " + group + " does not divide its " + cols + " input features");
    }
    for (int i = 0; i < w.length; i++) {
      if (!Float.isFinite(w[i])) {
        throw new IllegalArgumentException(
            layer + ": weight at row " + i / cols + ", column " + i % cols + " is " + w[i]);
      }
    }
    for (double h : hessian) {
      if (!Double.isFinite(h)) {
        throw new IllegalArgumentException(
            layer + ": the Hessian holds " + h + " (non-finite activations?)");
      }
    }
    int bits = config.bits();
    int maxq = MinMaxGrid.maxq(bits);
    boolean sym = config.symmetric();
    boolean grouped = config.groupSize() != 0;
    int groups = cols / group;

    double[] wd = new double[w.length]; // (rows, cols), f64 working copy
    for (int i = 0; i < w.length; i++) {
      wd[i] = w[i];
    }
    // Per-channel grid on the original weight, before dead columns are zeroed (as the reference).
    MinMaxGrid.Params[] channel = grouped ? null : fitRows(wd, rows, cols, 0, cols, bits, sym);

    int dead = SecondOrderSweep.zeroDeadColumns(hessian, wd, rows, cols);
    MinMaxGrid.Params[][] fixed = null; // [group][row]
    if (grouped && config.staticGroups()) {
      fixed = new MinMaxGrid.Params[groups][];
      for (int g = 0; g < groups; g++) {
        fixed[g] = fitRows(wd, rows, cols, g * group, group, bits, sym);
      }
    }
    int[] perm = IntStream.range(0, cols).toArray();
    if (config.actOrder()) {
      double[] diag = new double[cols];
      for (int i = 0; i < cols; i++) {
        diag[i] = hessian[i * cols + i];
      }
      perm =
          IntStream.range(0, cols)
              .boxed()
              .sorted(Comparator.comparingDouble((Integer i) -> -diag[i]))
              .mapToInt(Integer::intValue)
              .toArray();
      wd = permuteColumns(wd, rows, cols, perm);
      hessian = permuteSymmetric(hessian, cols, perm);
    }

    double damp;
    double[] u;
    try {
      SecondOrderSweep.Factor f =
          SecondOrderSweep.dampedInverseCholesky(
              hessian, cols, config.dampPercent(), config.maxDampPercent());
      damp = f.damp();
      u = f.u();
    } catch (SecondOrderSweep.NotPositiveDefiniteException e) {
      throw new SingularHessianException(
          "layer '"
              + layer
              + "': the Hessian is not positive definite even with damping "
              + e.damp()
              + " x mean(diag H) (escalated from dampPercent "
              + config.dampPercent()
              + " up to maxDampPercent "
              + config.maxDampPercent()
              + "): "
              + e.getMessage()
              + ". HINT: check the calibration data for constant or non-finite activations");
    }
    hessian = null; // the factor is all that is needed from here on

    byte[] codes = new byte[rows * cols]; // permuted order
    float[] scales = new float[rows * groups];
    int[] zeros = new int[rows * groups];
    int[] gIdxPerm = new int[cols];
    MinMaxGrid.Params[][] current = {channel};
    int[] nextGroup = {0};
    MinMaxGrid.Params[][] fixedGrids = fixed;
    int[] permuted = perm;
    // step 7-8: one column on GPTQ's grid; the sweep does the error feedback
    SecondOrderSweep.ColumnStep quantizeColumn =
        (c, x, wNow, q) -> {
          int g;
          if (!grouped) {
            g = 0;
          } else if (fixedGrids != null) {
            g = permuted[c] / group;
            current[0] = fixedGrids[g];
          } else {
            if (c % group == 0) {
              current[0] = fitRows(wNow, rows, cols, c, group, bits, sym); // W as of block start
              for (int r = 0; r < rows; r++) {
                scales[r * groups + nextGroup[0]] = current[0][r].scale();
                zeros[r * groups + nextGroup[0]] = current[0][r].zero();
              }
              nextGroup[0]++;
            }
            g = c / group;
          }
          gIdxPerm[c] = g;
          for (int r = 0; r < rows; r++) {
            MinMaxGrid.Params p = current[0][r];
            int code = MinMaxGrid.quantize((float) x[r], p, maxq);
            codes[r * cols + c] = (byte) code;
            q[r] = MinMaxGrid.dequantize(code, p.scale(), p.zero());
          }
        };
    double loss = SecondOrderSweep.sweep(wd, rows, cols, u, config.blockSize(), quantizeColumn);
    if (!grouped) {
      for (int r = 0; r < rows; r++) {
        scales[r] = channel[r].scale();
        zeros[r] = channel[r].zero();
      }
    } else if (fixed != null) {
      for (int g = 0; g < groups; g++) {
        for (int r = 0; r < rows; r++) {
          scales[r * groups + g] = fixed[g][r].scale();
          zeros[r * groups + g] = fixed[g][r].zero();
        }
      }
    }
    // Un-permute codes and g_idx: original column perm[j] was processed at position j.
    byte[] out = codes;
    int[] gIdx = gIdxPerm;
    if (config.actOrder()) {
      out = new byte[codes.length];
      gIdx = new int[cols];
      for (int j = 0; j < cols; j++) {
        int o = perm[j];
        gIdx[o] = gIdxPerm[j];
        for (int r = 0; r < rows; r++) {
          out[r * cols + o] = codes[r * cols + j];
        }
      }
    }
    GroupQuantizedWeight q =
        GroupQuantizedWeight.of(rows, cols, bits, group, sym, out, scales, zeros, gIdx);
    return new Result(q, damp, loss, dead);
  }

  /** The grid of every row over columns {@code [from, from + width)}, fitted on f32 values. */
  static MinMaxGrid.Params[] fitRows(
      double[] w, int rows, int cols, int from, int width, int bits, boolean sym) {
    MinMaxGrid.Params[] p = new MinMaxGrid.Params[rows];
    int to = Math.min(cols, from + width);
    for (int r = 0; r < rows; r++) {
      float min = Float.POSITIVE_INFINITY;
      float max = Float.NEGATIVE_INFINITY;
      for (int c = r * cols + from; c < r * cols + to; c++) {
        float x = (float) w[c];
        min = Math.min(min, x);
        max = Math.max(max, x);
      }
      p[r] = MinMaxGrid.fit(min, max, bits, sym);
    }
    return p;
  }

  private static double[] permuteColumns(double[] w, int rows, int cols, int[] perm) {
    double[] out = new double[w.length];
    for (int r = 0; r < rows; r++) {
      int base = r * cols;
      for (int j = 0; j < cols; j++) {
        out[base + j] = w[base + perm[j]];
      }
    }
    return out;
  }

  private static double[] permuteSymmetric(double[] h, int n, int[] perm) {
    double[] out = new double[h.length];
    for (int i = 0; i < n; i++) {
      int src = perm[i] * n;
      for (int j = 0; j < n; j++) {
        out[i * n + j] = h[src + perm[j]];
      }
    }
    return out;
  }
}
