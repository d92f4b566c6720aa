package dev.compress.linalg;

/**
 * Thrown when a Cholesky factorization meets a matrix that is not (numerically) symmetric positive
 * definite. It names the leading principal minor that failed, which is LAPACK's {@code info}: the
 * factorization got through rows {@code 0 .. order-2} and found a non-positive pivot at row {@code
 * order-1} (0-based).
 */
public final class NotPositiveDefiniteException extends ArithmeticException {
  private static final long serialVersionUID = 1L;

  private final int size;
  private final int order;

  /**
   * @param operation the facade method that failed, for the message
   * @param size the dimension {@code n} of the {@code n x n} input
   * @param order the 1-based order of the failing leading principal minor
   */
  NotPositiveDefiniteException(String operation, int size, int order) {
    this(
        operation,
        size,
        order,
        "is not positive definite: its leading principal minor of order "
            + order
            + " is not positive (non-positive pivot at row/column "
            + (order - 1)
            + ", 0-based)");
  }

  /**
   * @param what the middle of the message, after "the NxN matrix "
   */
  NotPositiveDefiniteException(String operation, int size, int order, String what) {
    super(
        operation
            + ": the "
            + size
            + "x"
            + size
            + " matrix "
            + what
            + ". HINT: a Hessian or covariance that is only semi-definite needs damping, e.g. add 1%"
            + " of the mean diagonal to the diagonal; also check for dead (all-zero) inputs.");
    this.size = size;
    this.order = order;
  }

  /** The dimension {@code n} of the {@code n x n} input. */
  public int size() {
    return size;
  }

  /** The 1-based order of the leading principal minor that is not positive definite. */
  public int leadingMinorOrder() {
    return order;
  }

  /** The 0-based row/column where the non-positive pivot appeared ({@code order - 1}). */
  public int pivotIndex() {
    return order - 1;
  }
}
