package dev.compress.linalg;

/**
 * How {@link Linalg#truncatedSvd(Matrix, int, SvdMethod, long)} computes the top {@code k} singular
 * triplets.
 */
public enum SvdMethod {
  /**
   * {@link #EXACT} for small problems, {@link #RANDOMIZED} for large ones; the crossover is
   * documented on {@link Linalg#truncatedSvd(Matrix, int, long)}.
   */
  AUTO,
  /** Full thin SVD (LAPACK dgesdd, falling back to dgesvd), then truncation. Exact. */
  EXACT,
  /**
   * Randomized range finder (Halko, Martinsson, Tropp 2011, "Finding structure with randomness",
   * Alg. 4.4 + 5.1): Gaussian sketch with {@value Linalg#OVERSAMPLING} extra columns, {@value
   * Linalg#POWER_ITERATIONS} power iterations with QR re-orthonormalization after every product,
   * then an exact SVD of the small projected matrix. Accurate when the spectrum decays past {@code
   * k}; on a flat spectrum the leading singular values come out a few percent low.
   */
  RANDOMIZED,
  /**
   * Top-{@code k} eigenpairs (dsyevr) of the smaller Gram matrix {@code A^T A} or {@code A A^T}.
   * Exact in exact arithmetic, but squaring the matrix squares its condition: singular values below
   * about {@code 1e-8 * s[0]} and their vectors lose all accuracy, and a zero singular value gets a
   * zero singular vector.
   */
  GRAM
}
