package dev.compress.pruning.structured;

import dev.compress.api.layers.LinearLayer;
import java.util.List;

/**
 * Units that can only be removed together: whole attention heads (the q/k/v output columns of a
 * head, their bias entries, the output projection's input rows, the reshape entries holding the
 * head count) or FFN neurons (the first linear's output column and bias, the second's input row).
 *
 * @param name the group name: its first sink's layer name (the output projection or the FFN's
 *     second linear)
 * @param kind heads or neurons
 * @param units how many units the group has now
 * @param unitSize channels per unit at the sources (a head's width, 1 for a neuron)
 * @param sources the layers whose output columns are the units
 * @param sinks the layers whose input rows are the units
 * @param consts constants sliced with the units (biases)
 * @param shapes reshape entries that hold the unit count
 */
public record DependencyGroup(
    String name,
    Kind kind,
    long units,
    long unitSize,
    List<LinearLayer> sources,
    List<ChannelTrace.Sink> sinks,
    List<ChannelTrace.ConstSlice> consts,
    List<ChannelTrace.ShapeEdit> shapes) {

  /** What one unit is. */
  public enum Kind {
    /** An attention head: a block of channels split off by a reshape. */
    HEADS,
    /** One FFN neuron (one channel). */
    NEURONS
  }

  /** Copies the lists. */
  public DependencyGroup {
    sources = List.copyOf(sources);
    sinks = List.copyOf(sinks);
    consts = List.copyOf(consts);
    shapes = List.copyOf(shapes);
  }

  /** Multiply-accumulates per token that one unit costs in the group's linear layers. */
  public long flopsPerUnit() {
    long f = 0;
    for (LinearLayer s : sources) {
      f += s.inFeatures() * unitSize;
    }
    for (ChannelTrace.Sink s : sinks) {
      f += s.unitSize() * s.layer().outFeatures();
    }
    return f;
  }

  /** Parameters one unit holds: its weight columns and rows and its bias entries. */
  public long paramsPerUnit() {
    return flopsPerUnit() + consts.size() * unitSize;
  }

  /** The layer names the group touches (sources, then sinks). */
  public List<String> layerNames() {
    java.util.List<String> l = new java.util.ArrayList<>();
    sources.forEach(s -> l.add(s.name()));
    sinks.forEach(s -> l.add(s.layer().name()));
    return l;
  }

  /** "heads" or "neurons", for report keys. */
  public String unitName() {
    return kind == Kind.HEADS ? "heads" : "neurons";
  }
}
