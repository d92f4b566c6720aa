package dev.compress.linalg;

import java.util.Random;
import org.bytedeco.javacpp.DoublePointer;

/**
 * Dense linear algebra on {@link Matrix}: Cholesky and what is built from it (inverse, Cholesky
 * factor of the inverse, triangular solves), symmetric eigendecomposition and truncated SVD.
 *
 * <p>All work is done in double precision by OpenBLAS's LAPACK (see {@code OpenBlasLapack} for why
 * the calls bypass ND4J's own wrapper). The methods are thread-safe and keep no state; inputs are
 * never modified.
 *
 * <p>Errors: a non-square or mismatched input throws {@link IllegalArgumentException} naming the
 * shapes; NaN or infinite input throws {@link IllegalArgumentException} naming the first bad
 * element; a matrix that is not positive definite throws {@link NotPositiveDefiniteException}; a
 * singular triangular factor or a result that overflows throws {@link ArithmeticException}. No
 * method returns NaN silently.
 *
 * <p>Symmetric inputs: like LAPACK, {@link #cholesky}, {@link #choleskyOfInverse} and {@link #eigh}
 * read only the lower triangle (diagonal included); the strict upper triangle is ignored.
 */
public final class Linalg {
  /** Extra sketch columns for {@link SvdMethod#RANDOMIZED} (Halko et al. recommend 5-10). */
  public static final int OVERSAMPLING = 10;

  /** Power iterations for {@link SvdMethod#RANDOMIZED}; each one costs two passes over A. */
  public static final int POWER_ITERATIONS = 2;

  /**
   * {@link SvdMethod#AUTO} uses the exact SVD while {@code min(m, n)} is at most this. Measured
   * with {@code LinalgBench} on 2 shared cores, rank 64, square inputs: exact takes 15-26 ms at
   * 256, 90-130 ms at 512, 0.6-1.6 s at 1024; randomized 10, 21-39 and 60-300 ms. Randomized is
   * faster at every size, but up to 512 the exact answer costs little, so it wins.
   */
  public static final int AUTO_EXACT_MAX_DIM = 512;

  private Linalg() {}

  // ---------------------------------------------------------------------------------- Cholesky

  /**
   * The lower Cholesky factor {@code L} of a symmetric positive definite matrix: {@code A = L L^T},
   * with a positive diagonal and zeros above it. Reads the lower triangle of {@code spd}.
   *
   * @throws NotPositiveDefiniteException if {@code spd} is not positive definite
   * @throws IllegalArgumentException if {@code spd} is not square or holds NaN/infinity
   */
  public static Matrix cholesky(Matrix spd) {
    int n = requireSquare("cholesky", "spd", spd);
    requireFinite("cholesky", "spd", spd);
    double[] l = spd.toArray();
    if (n > 0) {
      int info = OpenBlasLapack.potrfLower(l, n);
      if (info > 0) {
        throw new NotPositiveDefiniteException("cholesky", n, info);
      }
    }
    zeroStrictUpper(l, n);
    return Matrix.wrap(n, n, l);
  }

  /**
   * {@code A^{-1}} from the lower Cholesky factor {@code L} of {@code A} (LAPACK dpotri). Reads the
   * lower triangle of {@code lower}; the result is exactly symmetric.
   *
   * @throws ArithmeticException if {@code L} has a zero on its diagonal, or the inverse overflows
   * @throws IllegalArgumentException if {@code lower} is not square or holds NaN/infinity
   */
  public static Matrix choleskyInverse(Matrix lower) {
    int n = requireSquare("choleskyInverse", "lower", lower);
    requireFinite("choleskyInverse", "lower", lower);
    double[] a = lower.toArray();
    if (n > 0) {
      int info = OpenBlasLapack.potriLower(a, n);
      if (info > 0) {
        throw singularFactor("choleskyInverse", n, info - 1);
      }
    }
    mirrorLowerToUpper(a, n);
    requireFiniteResult("choleskyInverse", a, n);
    return Matrix.wrap(n, n, a);
  }

  /** {@code A^{-1}} of a symmetric positive definite matrix, via its Cholesky factor. */
  public static Matrix inverseSpd(Matrix spd) {
    return choleskyInverse(cholesky(spd));
  }

  /**
   * The Cholesky factor of {@code A^{-1}}, computed without forming {@code A^{-1}}: with {@code
   * upper}, the upper-triangular {@code R} with {@code A^{-1} = R^T R} (what GPTQ uses, as {@code
   * torch.linalg.cholesky(H.inverse(), upper=True)}); otherwise the lower {@code R^T}, {@code
   * A^{-1} = R^T (R^T)^T}.
   *
   * <p>Method: with {@code J} the reversal permutation, factor {@code J A J = M M^T}; then {@code R
   * = J M^{-1} J} is upper triangular with a positive diagonal and {@code R^T R = A^{-1}}. One
   * Cholesky and one triangular inverse (about {@code 2n^3/3} flops) instead of Cholesky, inverse
   * and a second Cholesky of the inverse ({@code 4n^3/3}), and no refactoring of a possibly
   * ill-conditioned inverse. Reads the lower triangle of {@code spd}.
   *
   * @throws NotPositiveDefiniteException if {@code spd} is not positive definite
   * @throws ArithmeticException if the factor of the inverse overflows
   * @throws IllegalArgumentException if {@code spd} is not square or holds NaN/infinity
   */
  public static Matrix choleskyOfInverse(Matrix spd, boolean upper) {
    int n = requireSquare("choleskyOfInverse", "spd", spd);
    requireFinite("choleskyOfInverse", "spd", spd);
    int len = n * n;
    // J A J reverses both index orders, which for a row-major buffer is reversing the array. That
    // would move A's lower triangle to the upper one, which potrf does not read; so reverse A^T
    // instead, equal to A by symmetry but with the lower triangle where potrf reads.
    double[] m = Matrix.transpose(spd.data(), n, n);
    for (int i = 0, j = len - 1; i < j; i++, j--) {
      double t = m[i];
      m[i] = m[j];
      m[j] = t;
    }
    if (n > 0) {
      int info = OpenBlasLapack.potrfLower(m, n);
      if (info > 0) {
        throw notPositiveDefiniteOfInverse(spd, n, info);
      }
      info = OpenBlasLapack.trtriLower(m, n);
      if (info > 0) { // cannot happen after a successful potrf, whose pivots are positive
        throw singularFactor("choleskyOfInverse", n, info - 1);
      }
    }
    zeroStrictUpper(m, n);
    double[] r = new double[len]; // R = J M^{-1} J: reverse again, lower becomes upper
    for (int i = 0; i < len; i++) {
      r[i] = m[len - 1 - i];
    }
    requireFiniteResult("choleskyOfInverse", r, n);
    return upper ? Matrix.wrap(n, n, r) : Matrix.wrap(n, n, Matrix.transpose(r, n, n));
  }

  // ---------------------------------------------------------------------- triangular, products

  /**
   * Solves {@code op(T) X = B} for {@code X}, where {@code T} is triangular and {@code op(T)} is
   * {@code T} or {@code T^T}. Only the named triangle of {@code t} is read.
   *
   * @param t the {@code (n, n)} triangular matrix
   * @param b the {@code (n, r)} right-hand sides
   * @param lower whether {@code T} is lower (else upper) triangular
   * @param transpose whether to solve with {@code T^T}
   * @return {@code X}, {@code (n, r)}
   * @throws ArithmeticException if {@code T} has a zero on its diagonal or {@code X} overflows
   * @throws IllegalArgumentException on a shape mismatch or NaN/infinite input
   */
  public static Matrix solveTriangular(Matrix t, Matrix b, boolean lower, boolean transpose) {
    int n = requireSquare("solveTriangular", "t", t);
    if (b.rows() != n) {
      throw new IllegalArgumentException(
          "solveTriangular: t is "
              + t.shape()
              + " but b is "
              + b.shape()
              + "; b needs "
              + n
              + " rows");
    }
    requireFinite("solveTriangular", "t", t);
    requireFinite("solveTriangular", "b", b);
    double[] td = t.data();
    for (int i = 0; i < n; i++) {
      if (td[i * n + i] == 0.0) {
        throw singularFactor("solveTriangular", n, i);
      }
    }
    double[] x = b.toArray();
    if (n > 0 && b.cols() > 0) {
      OpenBlasLapack.trsm(td, n, lower, transpose, x, b.cols());
    }
    for (int i = 0; i < x.length; i++) {
      if (!Double.isFinite(x[i])) {
        throw new ArithmeticException(
            "solveTriangular: the solution overflows (element ("
                + i / b.cols()
                + ", "
                + i % b.cols()
                + ")); t ("
                + t.shape()
                + ") is singular to working precision");
      }
    }
    return Matrix.wrap(n, b.cols(), x);
  }

  /**
   * The product {@code A B} (BLAS dgemm).
   *
   * @throws IllegalArgumentException if {@code a.cols() != b.rows()}, naming both shapes
   */
  public static Matrix multiply(Matrix a, Matrix b) {
    if (a.cols() != b.rows()) {
      throw new IllegalArgumentException(
          "multiply: a is " + a.shape() + " but b is " + b.shape() + "; a.cols must equal b.rows");
    }
    return Matrix.wrap(
        a.rows(),
        b.cols(),
        OpenBlasLapack.gemm(a.data(), false, b.data(), false, a.rows(), b.cols(), a.cols()));
  }

  // --------------------------------------------------------------------------------- eigen

  /**
   * Eigendecomposition of a symmetric matrix (LAPACK dsyevd, divide and conquer): eigenvalues
   * ascending, orthonormal eigenvectors as columns. Reads the lower triangle of {@code sym}.
   *
   * @throws ArithmeticException if the algorithm does not converge
   * @throws IllegalArgumentException if {@code sym} is not square or holds NaN/infinity
   */
  public static SymmetricEigen eigh(Matrix sym) {
    int n = requireSquare("eigh", "sym", sym);
    requireFinite("eigh", "sym", sym);
    double[] a = sym.toArray();
    double[] w = new double[n];
    if (n > 0 && OpenBlasLapack.syevd(a, n, w) > 0) {
      throw new ArithmeticException(
          "eigh: dsyevd did not converge on the " + sym.shape() + " input");
    }
    // a holds the eigenvectors as rows; the public contract is columns
    double[] v = Matrix.transpose(a, n, n);
    fixColumnSigns(v, n, n, null, 0);
    return new SymmetricEigen(w, Matrix.wrap(n, n, v));
  }

  // ----------------------------------------------------------------------------------- SVD

  /**
   * The top {@code k} singular triplets of {@code a}, choosing the method automatically: {@link
   * SvdMethod#EXACT} when {@code min(m, n) <= }{@value #AUTO_EXACT_MAX_DIM} or when the sketch
   * ({@code k + }{@value #OVERSAMPLING} columns) would be more than a quarter of {@code min(m, n)},
   * {@link SvdMethod#RANDOMIZED} otherwise. The exact SVD costs {@code O(mn min(m,n))}, the
   * randomized one {@code O(mn(k+10))} per pass over {@code a} (6 passes).
   *
   * @param k the number of triplets, {@code 1 <= k <= min(m, n)}
   * @param seed seeds the Gaussian sketch of the randomized method (results are reproducible)
   */
  public static Svd truncatedSvd(Matrix a, int k, long seed) {
    return truncatedSvd(a, k, SvdMethod.AUTO, seed);
  }

  /**
   * The top {@code k} singular triplets of {@code a} by the given method; see {@link SvdMethod} for
   * the accuracy of each.
   *
   * @param k the number of triplets, {@code 1 <= k <= min(m, n)}
   * @param seed seeds the Gaussian sketch of {@link SvdMethod#RANDOMIZED} (ignored otherwise)
   * @throws IllegalArgumentException if {@code k} is out of range or {@code a} holds NaN/infinity
   * @throws ArithmeticException if LAPACK does not converge
   */
  public static Svd truncatedSvd(Matrix a, int k, SvdMethod method, long seed) {
    int m = a.rows();
    int n = a.cols();
    int r = Math.min(m, n);
    if (k < 1 || k > r) {
      throw new IllegalArgumentException(
          "truncatedSvd: k must be in [1, min(m, n)] = [1, "
              + r
              + "] for a "
              + a.shape()
              + ", found "
              + k);
    }
    requireFinite("truncatedSvd", "a", a);
    SvdMethod chosen = method == SvdMethod.AUTO ? autoMethod(m, n, k) : method;
    return switch (chosen) {
      case EXACT -> exactSvd(a.data(), m, n, k);
      case RANDOMIZED -> randomizedSvd(a, k, seed);
      case GRAM -> gramSvd(a, k);
      case AUTO -> throw new AssertionError();
    };
  }

  /** The full thin SVD, {@code k = min(m, n)} (exact). */
  public static Svd svd(Matrix a) {
    return truncatedSvd(a, Math.min(a.rows(), a.cols()), SvdMethod.EXACT, 0L);
  }

  static SvdMethod autoMethod(int m, int n, int k) {
    int r = Math.min(m, n);
    if (r <= AUTO_EXACT_MAX_DIM || 4L * (k + OVERSAMPLING) > r) {
      return SvdMethod.EXACT;
    }
    return SvdMethod.RANDOMIZED;
  }

  private static Svd exactSvd(double[] data, int m, int n, int k) {
    int r = Math.min(m, n);
    double[] s = new double[r];
    double[] u = new double[m * r]; // (m, r)
    double[] vt = new double[r * n]; // (r, n)
    if (OpenBlasLapack.gesdd(data, m, n, s, u, vt) > 0) {
      throw new ArithmeticException(
          "truncatedSvd: the SVD of the " + m + "x" + n + " input did not converge");
    }
    return truncateAndFix(u, m, r, s, vt, n, k);
  }

  private static Svd randomizedSvd(Matrix a, int k, long seed) {
    int m = a.rows();
    int n = a.cols();
    int l = Math.min(k + OVERSAMPLING, Math.min(m, n));
    // Gaussian test matrix; java.util.Random's nextGaussian is specified, so the sketch (and the
    // result) is the same on every JDK.
    Random rnd = new Random(seed);
    double[] omega = new double[n * l]; // (n, l)
    for (int i = 0; i < omega.length; i++) {
      omega[i] = rnd.nextGaussian();
    }
    double[] q;
    double[] b;
    // A is read 2 + 2*POWER_ITERATIONS times: copy it to native memory once.
    try (DoublePointer pa = new DoublePointer(a.data())) {
      q = OpenBlasLapack.gemm(pa, n, false, omega, false, m, l, n); // (m, l) = A Omega
      OpenBlasLapack.orthonormalize(q, m, l);
      for (int it = 0; it < POWER_ITERATIONS; it++) {
        // Re-orthonormalize after every product: without it the columns collapse onto the top
        // singular vector in floating point (Halko et al., Alg. 4.4).
        double[] z = OpenBlasLapack.gemm(pa, n, true, q, false, n, l, m); // (n, l) = A^T Q
        OpenBlasLapack.orthonormalize(z, n, l);
        q = OpenBlasLapack.gemm(pa, n, false, z, false, m, l, n); // (m, l) = A Z
        OpenBlasLapack.orthonormalize(q, m, l);
      }
      // B = Q^T A = (A^T Q)^T; compute A^T Q (n, l) then transpose, so A stays untransposed.
      b = Matrix.transpose(OpenBlasLapack.gemm(pa, n, true, q, false, n, l, m), n, l); // (l, n)
    }
    double[] sb = new double[l];
    double[] ub = new double[l * l]; // (l, l)
    double[] vt = new double[l * n]; // (l, n)
    if (OpenBlasLapack.gesdd(b, l, n, sb, ub, vt) > 0) {
      throw new ArithmeticException(
          "truncatedSvd: the SVD of the projected matrix did not converge");
    }
    double[] u = OpenBlasLapack.gemm(q, false, ub, false, m, l, l); // (m, l) = Q Ub
    return truncateAndFix(u, m, l, sb, vt, n, k);
  }

  private static Svd gramSvd(Matrix a, int k) {
    int m = a.rows();
    int n = a.cols();
    boolean ofColumns = n <= m; // eigen-decompose the smaller Gram matrix
    int size = ofColumns ? n : m;
    double[] g = OpenBlasLapack.syrkLower(a.data(), m, n, ofColumns);
    double[] w = new double[size];
    double[] z = new double[k * size]; // (k, size): eigenvectors as rows, ascending eigenvalues
    if (OpenBlasLapack.syevrTop(g, size, k, w, z) > 0) {
      throw new ArithmeticException("truncatedSvd: dsyevr did not converge on the Gram matrix");
    }
    // Reorder to descending.
    double[] s = new double[k];
    double[] vecs = new double[k * size];
    for (int j = 0; j < k; j++) {
      int src = k - 1 - j;
      s[j] = Math.sqrt(Math.max(0.0, w[src]));
      System.arraycopy(z, src * size, vecs, j * size, size);
    }
    double[] u;
    double[] vt;
    if (ofColumns) {
      vt = vecs; // (k, n)
      u = OpenBlasLapack.gemm(a.data(), false, vt, true, m, k, n); // (m, k) = A V, then / s
      for (int i = 0; i < m; i++) {
        for (int j = 0; j < k; j++) {
          u[i * k + j] = s[j] > 0 ? u[i * k + j] / s[j] : 0.0;
        }
      }
    } else {
      u = Matrix.transpose(vecs, k, m); // (m, k)
      vt = OpenBlasLapack.gemm(vecs, false, a.data(), false, k, n, m); // (k, n) = U^T A, then / s
      for (int j = 0; j < k; j++) {
        double inv = s[j] > 0 ? 1.0 / s[j] : 0.0;
        for (int c = 0; c < n; c++) {
          vt[j * n + c] *= inv;
        }
      }
    }
    return truncateAndFix(u, m, k, s, vt, n, k);
  }

  /**
   * Keeps the first {@code k} of {@code r} triplets of {@code u (m, r)}, {@code s}, {@code vt (r,
   * n)} and fixes the signs.
   */
  private static Svd truncateAndFix(
      double[] u, int m, int r, double[] s, double[] vt, int n, int k) {
    double[] uk = new double[m * k];
    for (int i = 0; i < m; i++) {
      System.arraycopy(u, i * r, uk, i * k, k);
    }
    double[] vtk = java.util.Arrays.copyOf(vt, k * n); // the first k rows are contiguous
    fixColumnSigns(uk, m, k, vtk, n);
    return new Svd(Matrix.wrap(m, k, uk), java.util.Arrays.copyOf(s, k), Matrix.wrap(k, n, vtk));
  }

  /**
   * Flips each column {@code j} of the row-major {@code (rows, k)} array {@code v} so that its
   * largest-magnitude entry is positive; when {@code partnerRows} is given, flips its row {@code j}
   * (of length {@code partnerCols}) along with it.
   */
  private static void fixColumnSigns(
      double[] v, int rows, int k, double[] partnerRows, int partnerCols) {
    for (int j = 0; j < k; j++) {
      double best = 0;
      int at = 0;
      for (int i = 0; i < rows; i++) {
        double x = Math.abs(v[i * k + j]);
        if (x > best) {
          best = x;
          at = i;
        }
      }
      if (v[at * k + j] < 0) {
        for (int i = 0; i < rows; i++) {
          v[i * k + j] = -v[i * k + j];
        }
        if (partnerRows != null) {
          for (int c = 0; c < partnerCols; c++) {
            partnerRows[j * partnerCols + c] = -partnerRows[j * partnerCols + c];
          }
        }
      }
    }
  }

  // ------------------------------------------------------------------------------- checks

  private static int requireSquare(String op, String name, Matrix a) {
    if (!a.isSquare()) {
      throw new IllegalArgumentException(op + ": " + name + " must be square, found " + a.shape());
    }
    return a.rows();
  }

  private static void requireFinite(String op, String name, Matrix a) {
    double[] d = a.data();
    for (int i = 0; i < d.length; i++) {
      if (!Double.isFinite(d[i])) {
        throw new IllegalArgumentException(
            op
                + ": "
                + name
                + " ("
                + a.shape()
                + ") holds "
                + d[i]
                + " at ("
                + i / a.cols()
                + ", "
                + i % a.cols()
                + ")");
      }
    }
  }

  private static void requireFiniteResult(String op, double[] a, int n) {
    for (int i = 0; i < a.length; i++) {
      if (!Double.isFinite(a[i])) {
        throw new ArithmeticException(
            op
                + ": the result overflows at ("
                + i / n
                + ", "
                + i % n
                + "); the "
                + n
                + "x"
                + n
                + " input is singular to working precision. HINT: add damping to the diagonal.");
      }
    }
  }

  /**
   * The error for a failed factorization of {@code J A J}, whose info counts a trailing minor of
   * {@code A}: an error path, so refactor {@code A} itself to name its failing leading minor.
   */
  private static NotPositiveDefiniteException notPositiveDefiniteOfInverse(
      Matrix spd, int n, int reversedInfo) {
    double[] a = spd.toArray();
    int info = OpenBlasLapack.potrfLower(a, n);
    if (info > 0) {
      return new NotPositiveDefiniteException("choleskyOfInverse", n, info);
    }
    // Borderline: positive definite in one elimination order but not the other.
    return new NotPositiveDefiniteException(
        "choleskyOfInverse",
        n,
        n,
        "is not numerically positive definite: its trailing principal minor of order "
            + reversedInfo
            + " has a non-positive pivot");
  }

  private static ArithmeticException singularFactor(String op, int n, int index) {
    return new ArithmeticException(
        op
            + ": the "
            + n
            + "x"
            + n
            + " triangular factor is singular: its diagonal element ("
            + index
            + ", "
            + index
            + ") is zero");
  }

  private static void zeroStrictUpper(double[] a, int n) {
    for (int i = 0; i < n; i++) {
      java.util.Arrays.fill(a, i * n + i + 1, (i + 1) * n, 0.0);
    }
  }

  private static void mirrorLowerToUpper(double[] a, int n) {
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < i; j++) {
        a[j * n + i] = a[i * n + j];
      }
    }
  }
}
