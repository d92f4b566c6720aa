package dev.compress.lowrank;

import dev.compress.api.graph.GraphEditor;
import dev.compress.api.graph.Node;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.tensor.Tensor;
import dev.compress.linalg.Matrix;
import java.util.List;

/**
 * Writes rank-{@code k} factors in place of a linear layer's weight: {@code y = x W^T (+ b)}
 * becomes {@code y = (x Wv^T) Wu^T (+ b)}, two products whose weights hold {@code k (m + n)} values
 * instead of {@code m n}.
 *
 * <p>A MatMul {@code x W[in, out]} gets a new MatMul {@code x Wv^T[in, k]} in front and now reads
 * {@code Wu^T[k, out]}; its bias Add (if any) is untouched. A Gemm gets the same MatMul in front
 * and reads {@code Wu} in its own layout ({@code [out, k]} with {@code transB = 1}, else {@code [k,
 * out]}), keeping its bias C, alpha and beta. The original weight is removed when nothing else
 * reads it.
 */
public final class FactorWriter {
  private FactorWriter() {}

  /**
   * Rewrites {@code layer} to read {@code f}.
   *
   * @return the name of the inserted MatMul
   */
  public static String write(GraphEditor ed, LinearLayer layer, LowRankFactors f) {
    Node node = layer.node();
    int k = f.rank();
    long m = layer.outFeatures();
    long n = layer.inFeatures();
    String inName = ed.freshName(layer.weight() + "_lowrank_in");
    String outName = ed.freshName(layer.weight() + "_lowrank_out");
    ed.putInitializer(
        Tensor.ofFloats(inName, new long[] {n, k}, f.wv().transpose().toFloatArray()));
    boolean outIn =
        layer.kind() == LinearLayer.Kind.GEMM && layer.layout() == LinearLayer.WeightLayout.OUT_IN;
    Matrix second = outIn ? f.wu() : f.wu().transpose();
    long[] shape = outIn ? new long[] {m, k} : new long[] {k, m};
    ed.putInitializer(Tensor.ofFloats(outName, shape, second.toFloatArray()));
    String mid = ed.freshName(layer.output() + "_lowrank");
    String firstName = ed.freshName(layer.name() + "_lowrank_in");
    Node first = Node.of(firstName, "MatMul", List.of(layer.input(), inName), List.of(mid));
    ed.insertBefore(node, first);
    ed.setInput(node, 0, mid);
    ed.setInput(node, 1, outName);
    ed.removeUnread(List.of(layer.weight()));
    return firstName;
  }
}
