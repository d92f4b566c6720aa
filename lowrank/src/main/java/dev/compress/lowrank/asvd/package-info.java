/** ASVD, activation-aware SVD factorization: {@link dev.compress.lowrank.asvd.AsvdPass}. */
package dev.compress.lowrank.asvd;
