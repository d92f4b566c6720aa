package dev.compress.training;

import dev.compress.api.ConfigException;
import dev.compress.api.graph.Graph;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.layers.LinearLayers;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Which initializers of a graph become trainable parameters; every other initializer is frozen. The
 * same selectors as passes: linear layers by {@code targets}/{@code ignore} (node names, exact or
 * {@code re:REGEX}), plus initializers by name (exact or {@code re:REGEX}, e.g. LayerNorm scales).
 *
 * @param layers linear layers whose weights are trained (their initializer weights; weights held in
 *     {@code Constant} nodes stay frozen); empty: none
 * @param biases whether the selected layers' bias initializers are trained too
 * @param initializers selectors of further initializers to train
 * @param allFloat train every float initializer with more than one element (weights, biases, norm
 *     scales, embeddings; scalar constants such as epsilons stay frozen)
 */
public record ParameterSelection(
    Optional<LayerSelection> layers, boolean biases, List<String> initializers, boolean allFloat) {

  /** Nothing trainable: a frozen forward (e.g. a teacher). */
  public static ParameterSelection none() {
    return new ParameterSelection(Optional.empty(), false, List.of(), false);
  }

  /** Every float initializer with more than one element. */
  public static ParameterSelection all() {
    return new ParameterSelection(Optional.empty(), false, List.of(), true);
  }

  /** The weights and biases of the linear layers {@code layers} selects. */
  public static ParameterSelection linear(LayerSelection layers) {
    return new ParameterSelection(Optional.of(layers), true, List.of(), false);
  }

  /** Initializers by name ({@code re:REGEX} allowed). */
  public static ParameterSelection initializers(List<String> names) {
    return new ParameterSelection(Optional.empty(), false, names, false);
  }

  /** Validates the initializer selectors through {@link LayerSelection}'s rules. */
  public ParameterSelection {
    layers = layers == null ? Optional.empty() : layers;
    initializers = initializers == null ? List.of() : List.copyOf(initializers);
    new LayerSelection(initializers, List.of()); // same selector syntax and messages
  }

  /** This selection plus initializers by name. */
  public ParameterSelection plusInitializers(List<String> names) {
    List<String> all = new ArrayList<>(initializers);
    all.addAll(names);
    return new ParameterSelection(layers, biases, all, allFloat);
  }

  /**
   * The selected initializer names in graph order.
   *
   * @throws ConfigException listing every selector that matches nothing, and every selected
   *     initializer that is not floating point
   */
  public List<String> resolve(Graph graph) throws ConfigException {
    Set<String> out = new LinkedHashSet<>();
    List<String> problems = new ArrayList<>();
    Set<String> fed = new java.util.HashSet<>();
    graph.inputs().forEach(v -> fed.add(v.name()));
    if (layers.isPresent()) {
      for (LinearLayer l : layers.get().select(LinearLayers.of(graph))) {
        if (!l.weightFromConstantNode() && graph.initializers().containsKey(l.weight())) {
          out.add(l.weight());
        }
        if (biases) {
          l.bias().filter(b -> graph.initializers().containsKey(b)).ifPresent(out::add);
        }
      }
    }
    for (int i = 0; i < initializers.size(); i++) {
      String s = initializers.get(i);
      boolean any = false;
      for (String name : graph.initializers().keySet()) {
        if (LayerSelection.matches(s, name)) {
          out.add(name);
          any = true;
        }
      }
      if (!any) {
        problems.add("initializers[" + i + "] '" + s + "' matches no initializer");
      }
    }
    if (allFloat) {
      for (Tensor t : graph.initializers().values()) {
        if (isFloat(t.dtype()) && t.elementCount() > 1) {
          out.add(t.name());
        }
      }
    }
    List<String> ordered = new ArrayList<>();
    for (String name : graph.initializers().keySet()) {
      if (!out.contains(name)) {
        continue;
      }
      Tensor t = graph.initializers().get(name);
      if (!isFloat(t.dtype())) {
        problems.add("initializer '" + name + "' is " + t.dtype() + ", not trainable");
      } else if (fed.contains(name)) {
        problems.add("initializer '" + name + "' is also a graph input, not trainable");
      } else {
        ordered.add(name);
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return ordered;
  }

  static boolean isFloat(DataType t) {
    return t == DataType.FLOAT || t == DataType.FLOAT16 || t == DataType.DOUBLE;
  }
}
