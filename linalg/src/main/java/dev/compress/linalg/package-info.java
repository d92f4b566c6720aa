/**
 * Dense double-precision linear algebra for the compression passes: {@link
 * dev.compress.linalg.Linalg} (Cholesky, inverse from a Cholesky factor, Cholesky factor of the
 * inverse for GPTQ, triangular solve, symmetric eigendecomposition, exact / randomized / Gram
 * truncated SVD) over the row-major {@link dev.compress.linalg.Matrix}.
 *
 * <p>The public API uses only JDK and own types. The work runs in OpenBLAS's LAPACK (the one under
 * ND4J's CPU backend), called through JavaCPP's {@code org.bytedeco.openblas} binding; tests
 * compare every operation with the pure-Java Commons Math implementation.
 */
package dev.compress.linalg;
