package dev.compress.quantization.rtn;

import dev.compress.api.ConfigException;
import dev.compress.api.graph.Graph;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.layers.LinearLayers;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.PassReport;
import java.util.ArrayList;
import java.util.List;

/**
 * Layer selection for weight quantizers that compose in one pipeline (mixed precision by selector,
 * e.g. 8 bits for the last layer and 4 bits elsewhere, as two passes).
 *
 * <p>A layer an earlier pass quantized is no longer a {@link LinearLayer} (its weight now comes
 * from a {@code DequantizeLinear}, or the node became {@code MatMulNBits}), so a plain {@link
 * LayerSelection#select} in the later pass would call a selector that names it "matches no linear
 * layer". Here a selector may match a live linear layer <i>or</i> an already-quantized one (by node
 * name): already-quantized layers the selection picks are reported as skipped, never touched again;
 * a selector that matches neither stays an error.
 */
public final class QuantizedLayers {
  private QuantizedLayers() {}

  /**
   * What a selection picks in a graph that earlier passes may have partly quantized.
   *
   * @param layers the live linear layers selected, in graph order
   * @param skipped the already-quantized layers selected, each with the reason
   */
  public record Picked(List<LinearLayer> layers, List<PassReport.Skip> skipped) {
    /** Copies the lists. */
    public Picked {
      layers = List.copyOf(layers);
      skipped = List.copyOf(skipped);
    }
  }

  /**
   * Names of the nodes of {@code graph} that are linear layers with compressed weights ({@link
   * LinearLayers#compressed}).
   */
  public static List<String> names(Graph graph) {
    return LinearLayers.compressed(graph).stream().map(LinearLayer.Compressed::name).toList();
  }

  /**
   * Applies {@code selection} to the live linear layers of {@code graph}, letting selectors match
   * already-quantized layers too.
   *
   * @throws ConfigException listing every selector that matches neither a linear layer nor an
   *     already-quantized one
   */
  public static Picked select(LayerSelection selection, Graph graph) throws ConfigException {
    List<LinearLayer> live = LinearLayers.of(graph);
    List<String> done = names(graph);
    List<String> problems = new ArrayList<>();
    unmatched("targets", selection.targets(), live, done, problems);
    unmatched("ignore", selection.ignore(), live, done, problems);
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    List<LinearLayer> layers = new ArrayList<>();
    for (LinearLayer l : live) {
      if (picks(selection, l.name())) {
        layers.add(l);
      }
    }
    List<PassReport.Skip> skipped = new ArrayList<>();
    for (String name : done) {
      if (picks(selection, name)) {
        skipped.add(new PassReport.Skip(name, "already quantized by an earlier pass"));
      }
    }
    return new Picked(layers, skipped);
  }

  private static boolean picks(LayerSelection sel, String name) {
    boolean in =
        sel.targets().isEmpty()
            || sel.targets().stream().anyMatch(s -> LayerSelection.matches(s, name));
    return in && sel.ignore().stream().noneMatch(s -> LayerSelection.matches(s, name));
  }

  private static void unmatched(
      String key,
      List<String> selectors,
      List<LinearLayer> live,
      List<String> done,
      List<String> problems) {
    for (int i = 0; i < selectors.size(); i++) {
      String s = selectors.get(i);
      if (live.stream().noneMatch(l -> LayerSelection.matches(s, l.name()))
          && done.stream().noneMatch(n -> LayerSelection.matches(s, n))) {
        problems.add(key + "[" + i + "] '" + s + "' matches no linear layer");
      }
    }
  }
}
