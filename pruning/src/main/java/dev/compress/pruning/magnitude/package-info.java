/**
 * Unstructured magnitude pruning ({@code magnitude-pruning}, Han et al. 2015): {@link
 * dev.compress.pruning.magnitude.MagnitudePruningConfig}, {@link
 * dev.compress.pruning.magnitude.MagnitudePruningPass} and its provider.
 */
package dev.compress.pruning.magnitude;
