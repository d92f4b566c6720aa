package dev.compress.api.pipeline;

import dev.compress.api.graph.ModelGraph;
import dev.compress.api.layers.LinearLayer;
import java.util.List;

/**
 * Optional hook a {@link dev.compress.api.pass.Pass} implements so that {@code compress validate}
 * and the runner can check, before anything runs, that every selected layer suits the pass (e.g. a
 * group size that does not divide a layer's input features). The runner calls it once per pass, in
 * pipeline order, and reports the problems of all passes together.
 *
 * <p>Each pass is validated against the model as the passes before it leave it, as far as that is
 * cheap to know without running them: the layers an earlier pass compresses ({@link #compresses})
 * are no longer float layers for the later ones, so a later pass neither selects them (a selector
 * matching only them is refused as {@code run} would refuse it, unless the pass {@link
 * #skipsCompressedLayers skips compressed layers}) nor checks them. Weights and structure are
 * otherwise those of the model as loaded.
 */
public interface PassValidation {
  /**
   * Checks the selected layers without changing anything.
   *
   * @param model the model as loaded (before any pass ran); its layers that earlier passes compress
   *     are not among {@code selected}
   * @param selected the layers this pass's selection picks, in graph order
   * @return one line per problem, naming the layer and the value found (e.g. {@code layer
   *     '/fc1/MatMul': groupSize 128 does not divide in_features 300}); empty when all is well. The
   *     runner prefixes each with the pass's key path ({@code passes[1]}).
   */
  List<String> validate(ModelGraph model, List<LinearLayer> selected);

  /**
   * The layers of {@code selected} whose weights this pass leaves compressed (no longer float:
   * quantized behind {@code DequantizeLinear}, {@code MatMulNBits}, ...), by name. Default: none
   * (the pass keeps its layers float, e.g. it scales or prunes them).
   */
  default List<String> compresses(List<LinearLayer> selected) {
    return List.of();
  }

  /**
   * Whether the pass's selectors may match layers an earlier pass compressed, which it then reports
   * as skipped (the quantization passes that allow mixed precision by selector); when false a
   * selector that matches only such layers is an error, as it is when the pass runs.
   */
  default boolean skipsCompressedLayers() {
    return false;
  }
}
