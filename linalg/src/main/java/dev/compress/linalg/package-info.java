/**
 * A small facade over ND4J's LAPACK: Cholesky, inverse from a Cholesky factor, symmetric
 * eigendecomposition, truncated SVD and triangular solves, on plain {@code double[][]}/row-major
 * arrays.
 */
package dev.compress.linalg;
