/**
 * Rank allocation for the factorization passes: the rank rule (uniform keep ratio, energy
 * threshold, fixed rank, one global parameter budget) and the allocator that turns each layer's
 * spectrum into a rank. Ratios are always the fraction of parameters removed.
 */
package dev.compress.lowrank.rank;
