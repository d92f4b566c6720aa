/**
 * Canonicalization: rewriting the primitive-operator decompositions that exporters emit (layer
 * normalization, exact GELU) into single operators, so that passes see {@code norm -> linear}
 * structure and executors run one kernel. Entry point: {@link
 * dev.compress.api.canonical.Canonicalizer#canonicalize}; the matchers {@link
 * dev.compress.api.canonical.LayerNormPattern} and {@link dev.compress.api.canonical.GeluPattern}
 * are public so other views (e.g. the linear-layer view) can recognize the unfused forms.
 */
package dev.compress.api.canonical;
