package dev.compress.linalg;

import static org.bytedeco.openblas.global.openblas.CblasLeft;
import static org.bytedeco.openblas.global.openblas.CblasLower;
import static org.bytedeco.openblas.global.openblas.CblasNoTrans;
import static org.bytedeco.openblas.global.openblas.CblasNonUnit;
import static org.bytedeco.openblas.global.openblas.CblasRowMajor;
import static org.bytedeco.openblas.global.openblas.CblasTrans;
import static org.bytedeco.openblas.global.openblas.CblasUpper;
import static org.bytedeco.openblas.global.openblas.LAPACKE_dgeqrf;
import static org.bytedeco.openblas.global.openblas.LAPACKE_dgesdd;
import static org.bytedeco.openblas.global.openblas.LAPACKE_dgesvd;
import static org.bytedeco.openblas.global.openblas.LAPACKE_dorgqr;
import static org.bytedeco.openblas.global.openblas.LAPACKE_dpotrf;
import static org.bytedeco.openblas.global.openblas.LAPACKE_dpotri;
import static org.bytedeco.openblas.global.openblas.LAPACKE_dsyevd;
import static org.bytedeco.openblas.global.openblas.LAPACKE_dsyevr;
import static org.bytedeco.openblas.global.openblas.LAPACKE_dtrtri;
import static org.bytedeco.openblas.global.openblas.LAPACK_COL_MAJOR;
import static org.bytedeco.openblas.global.openblas.LAPACK_ROW_MAJOR;
import static org.bytedeco.openblas.global.openblas.cblas_dgemm;
import static org.bytedeco.openblas.global.openblas.cblas_dsyrk;
import static org.bytedeco.openblas.global.openblas.cblas_dtrsm;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.openblas.global.openblas;

/**
 * The only class that calls native code: OpenBLAS's LAPACKE and CBLAS entry points through the
 * {@code org.bytedeco.openblas} binding, which is the LAPACK that ND4J's CPU backend itself calls
 * ({@code CpuLapack}). ND4J itself is not a dependency: only this binding and its natives are
 * (OpenBLAS 0.3.30; the 0.3.19 that ND4J 1.0.0-M2.1 ships computes wrong results with its SkylakeX
 * kernels on some AVX-512 Xeons, which {@code CholeskyTest} and {@code SvdTest} catch).
 *
 * <p>Why not ND4J's {@code Nd4j.getBlasWrapper().lapack()}: it offers only potrf, getrf, geqrf,
 * syev and gesvd (no gesdd, syevd, potri, trtri or trsm); its potrf zeroes the other triangle with
 * one indexed {@code put} per row (85-290 ms against 23-41 ms for {@link Linalg#cholesky} at
 * 1024x1024, copies included); its gesvd takes 11-12 s at 1024x1024 where gesdd takes 0.6 s; its
 * syev takes 1.0 s where syevd takes 0.4 s; and initializing ND4J costs 0.6-2.5 s and a page of log
 * lines (measured with ND4J 1.0.0-M2.1). Calling the same native routines directly on heap arrays
 * avoids all of that and never leaves native memory behind.
 *
 * <p>Layout trick used throughout: a row-major {@code n x n} buffer read as column-major is the
 * transpose. For symmetric and triangular work this means "row-major lower" equals "column-major
 * upper", so factorizations run on the caller's layout with no transposing copy (LAPACKE's own
 * row-major path transposes in and out, which triples the time of a 4096x4096 Cholesky).
 *
 * <p>Every method returns LAPACK's {@code info} (0 on success, {@code > 0} routine-specific) and
 * throws {@link IllegalStateException} for negative codes, which mean a bug here (an invalid
 * argument) or a failed workspace allocation.
 */
final class OpenBlasLapack {
  private static final byte UPPER = 'U';
  private static final byte LOWER = 'L';

  static {
    try {
      Loader.load(openblas.class);
    } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
      UnsatisfiedLinkError wrapped =
          new UnsatisfiedLinkError(
              "compress-linalg could not load OpenBLAS for platform "
                  + Loader.getPlatform()
                  + " ("
                  + e.getMessage()
                  + "). HINT: the OpenBLAS native jar for this platform must be on the classpath;"
                  + " linux-x86_64 is the default, build with -Pnative-macos-arm64,"
                  + " -Pnative-linux-arm64 or -Pnative-windows for the others.");
      wrapped.initCause(e);
      throw wrapped;
    }
  }

  private OpenBlasLapack() {}

  /**
   * Cholesky of the symmetric matrix whose lower triangle (row-major) is in {@code a}; on return
   * the lower triangle holds {@code L} with {@code A = L L^T}. The strict upper triangle is left as
   * it was. Returns LAPACK's info: {@code i > 0} means the leading minor of order {@code i} is not
   * positive definite.
   */
  static int potrfLower(double[] a, int n) {
    // column-major upper == row-major lower
    return check("dpotrf", LAPACKE_dpotrf(LAPACK_COL_MAJOR, UPPER, n, a, n));
  }

  /**
   * Given {@code L} in the lower triangle of {@code a} (row-major), overwrites that lower triangle
   * with the lower triangle of {@code (L L^T)^{-1}}.
   */
  static int potriLower(double[] a, int n) {
    return check("dpotri", LAPACKE_dpotri(LAPACK_COL_MAJOR, UPPER, n, a, n));
  }

  /** Inverts the lower-triangular (row-major) matrix in {@code a} in place. */
  static int trtriLower(double[] a, int n) {
    return check("dtrtri", LAPACKE_dtrtri(LAPACK_COL_MAJOR, UPPER, (byte) 'N', n, a, n));
  }

  /**
   * Solves {@code op(T) X = B} in place of {@code b} ({@code (n, nrhs)} row-major) for the
   * triangular {@code t} ({@code (n, n)} row-major). Singularity is the caller's to check.
   */
  static void trsm(double[] t, int n, boolean lower, boolean transpose, double[] b, int nrhs) {
    cblas_dtrsm(
        CblasRowMajor,
        CblasLeft,
        lower ? CblasLower : CblasUpper,
        transpose ? CblasTrans : CblasNoTrans,
        CblasNonUnit,
        n,
        nrhs,
        1.0,
        t,
        Math.max(1, n),
        b,
        Math.max(1, nrhs));
  }

  /**
   * Eigen-decomposition of the symmetric matrix whose lower triangle (row-major) is in {@code a}
   * (divide and conquer, dsyevd). Eigenvalues go to {@code w} ascending; on return row {@code j} of
   * {@code a} (row-major) is the eigenvector of {@code w[j]}. Info {@code > 0}: no convergence.
   */
  static int syevd(double[] a, int n, double[] w) {
    return check("dsyevd", LAPACKE_dsyevd(LAPACK_COL_MAJOR, (byte) 'V', UPPER, n, a, n, w));
  }

  /**
   * The {@code k} largest eigenpairs of the symmetric matrix whose lower triangle (row-major) is in
   * {@code a} (MRRR, dsyevr, index range). Eigenvalues go to {@code w[0..k)} ascending, and row
   * {@code j} of the row-major {@code (k, n)} array {@code z} is the eigenvector of {@code w[j]}.
   * {@code a} is destroyed.
   */
  static int syevrTop(double[] a, int n, int k, double[] w, double[] z) {
    int[] found = new int[1];
    int[] support = new int[2 * Math.max(1, k)];
    int info =
        LAPACKE_dsyevr(
            LAPACK_COL_MAJOR,
            (byte) 'V',
            (byte) 'I',
            UPPER,
            n,
            a,
            n,
            0.0,
            0.0,
            n - k + 1,
            n,
            0.0, // abstol 0: LAPACK picks eps*|T|, the accurate choice for MRRR
            found,
            w,
            z,
            n,
            support);
    check("dsyevr", info);
    if (info == 0 && found[0] != k) {
      throw new IllegalStateException("dsyevr returned " + found[0] + " eigenpairs, asked " + k);
    }
    return info;
  }

  /**
   * Thin SVD of the row-major {@code (m, n)} matrix {@code a} (not modified), {@code r = min(m,
   * n)}: singular values to {@code s} (descending), row-major {@code (m, r)} left vectors to {@code
   * u} and row-major {@code (r, n)} right vectors transposed to {@code vt}. Uses divide and conquer
   * (dgesdd) and falls back to QR iteration (dgesvd) when it does not converge.
   */
  static int gesdd(double[] a, int m, int n, double[] s, double[] u, double[] vt) {
    int r = Math.min(m, n);
    // The buffer read column-major is A^T (n x m). LAPACK returns A^T = U' S V'^T with U' (n x r)
    // and V'^T (r x m), both column-major; read row-major, U' is V^T (r x n) and V'^T is U (m x r).
    int info = LAPACKE_dgesdd(LAPACK_COL_MAJOR, (byte) 'S', n, m, a.clone(), n, s, vt, n, u, r);
    check("dgesdd", info);
    if (info > 0) {
      double[] superb = new double[Math.max(1, r - 1)];
      info =
          LAPACKE_dgesvd(
              LAPACK_COL_MAJOR, (byte) 'S', (byte) 'S', n, m, a.clone(), n, s, vt, n, u, r, superb);
      check("dgesvd", info);
    }
    return info;
  }

  /**
   * Replaces the row-major {@code (m, l)} matrix in {@code y} ({@code m >= l}) by an orthonormal
   * basis of its column space (Householder QR, dgeqrf + dorgqr).
   */
  static void orthonormalize(double[] y, int m, int l) {
    double[] tau = new double[l];
    // (m, l) with l small: LAPACKE's row-major transpose is cheap next to the products around it.
    check("dgeqrf", LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, m, l, y, l, tau));
    check("dorgqr", LAPACKE_dorgqr(LAPACK_ROW_MAJOR, m, l, l, y, l, tau));
  }

  /**
   * {@code C = op(A) op(B)} for row-major heap arrays; {@code op(A)} is {@code (m, k)} and {@code
   * op(B)} is {@code (k, n)}.
   */
  static double[] gemm(
      double[] a, boolean transA, double[] b, boolean transB, int m, int n, int k) {
    double[] c = new double[m * n];
    if (m == 0 || n == 0 || k == 0) {
      return c;
    }
    cblas_dgemm(
        CblasRowMajor,
        transA ? CblasTrans : CblasNoTrans,
        transB ? CblasTrans : CblasNoTrans,
        m,
        n,
        k,
        1.0,
        a,
        transA ? m : k,
        b,
        transB ? k : n,
        0.0,
        c,
        n);
    return c;
  }

  /**
   * {@code C = op(A) op(B)} where {@code A} is already native (reused across many products) and
   * {@code B}, {@code C} are heap arrays.
   */
  static double[] gemm(
      DoublePointer a, int lda, boolean transA, double[] b, boolean transB, int m, int n, int k) {
    double[] c = new double[m * n];
    try (DoublePointer pb = new DoublePointer(b);
        DoublePointer pc = new DoublePointer((long) m * n)) {
      cblas_dgemm(
          CblasRowMajor,
          transA ? CblasTrans : CblasNoTrans,
          transB ? CblasTrans : CblasNoTrans,
          m,
          n,
          k,
          1.0,
          a,
          lda,
          pb,
          transB ? k : n,
          0.0,
          pc,
          n);
      pc.get(c);
    }
    return c;
  }

  /**
   * The lower triangle (row-major) of the Gram matrix of the row-major {@code (m, n)} matrix {@code
   * a}: {@code A^T A} ({@code n x n}) when {@code ofColumns}, else {@code A A^T} ({@code m x m}).
   * The strict upper triangle is zero.
   */
  static double[] syrkLower(double[] a, int m, int n, boolean ofColumns) {
    int size = ofColumns ? n : m;
    double[] c = new double[size * size];
    cblas_dsyrk(
        CblasRowMajor,
        CblasLower,
        ofColumns ? CblasTrans : CblasNoTrans,
        size,
        ofColumns ? m : n,
        1.0,
        a,
        n,
        0.0,
        c,
        size);
    return c;
  }

  private static int check(String routine, int info) {
    if (info == -1010 || info == -1011) {
      throw new IllegalStateException(routine + ": native workspace allocation failed");
    }
    if (info < 0) {
      throw new IllegalStateException(
          routine + ": argument " + (-info) + " is invalid (a bug in compress-linalg)");
    }
    return info;
  }
}
