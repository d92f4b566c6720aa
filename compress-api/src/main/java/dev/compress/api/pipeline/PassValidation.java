package dev.compress.api.pipeline;

import dev.compress.api.graph.ModelGraph;
import dev.compress.api.layers.LinearLayer;
import java.util.List;

/**
 * Optional hook a {@link dev.compress.api.pass.Pass} implements so that {@code compress validate}
 * and the runner can check, before anything runs, that every selected layer suits the pass (e.g. a
 * group size that does not divide a layer's input features). The runner calls it once per pass on
 * the model as loaded, with the layers the pass's selection picks, and reports the problems of all
 * passes together.
 */
public interface PassValidation {
  /**
   * Checks the selected layers without changing anything.
   *
   * @param model the model as loaded (before any pass ran)
   * @param selected the layers this pass's selection picks, in graph order
   * @return one line per problem, naming the layer and the value found (e.g. {@code layer
   *     '/fc1/MatMul': groupSize 128 does not divide in_features 300}); empty when all is well. The
   *     runner prefixes each with the pass's key path ({@code passes[1]}).
   */
  List<String> validate(ModelGraph model, List<LinearLayer> selected);
}
