package dev.compress.runtime.djl;

import dev.compress.api.UnsupportedModelException;

/** Compiles one node into a {@link Kernel}, rejecting attributes or outputs it cannot honour. */
@FunctionalInterface
interface KernelFactory {
  Kernel compile(OpNode node) throws UnsupportedModelException;
}
