package dev.compress.runtime.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.compress.api.UnsupportedModelException;

/**
 * One compiled node: attributes are parsed at construction, {@link #run} only computes.
 *
 * <p>{@code in[i]} is null for an omitted optional input. The result holds one array per node
 * output (null for outputs the node does not request). Temporaries may be created freely: the
 * interpreter closes every array created during {@code run} except the returned ones. Arrays are
 * created on {@code m} or on an input's manager, never elsewhere.
 */
@FunctionalInterface
interface Kernel {
  NDArray[] run(NDArray[] in, NDManager m) throws UnsupportedModelException;
}
