/**
 * Plain truncated SVD factorization of linear weights: {@link dev.compress.lowrank.svd.SvdPass}.
 */
package dev.compress.lowrank.svd;
