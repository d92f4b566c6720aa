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
 * @param through depthwise Convs the units pass through (their filters go with the units)
 */
public record DependencyGroup(
    String name,
    Kind kind,
    long units,
    long unitSize,
    List<LinearLayer> sources,
    List<ChannelTrace.Sink> sinks,
    List<ChannelTrace.ConstSlice> consts,
    List<ChannelTrace.ShapeEdit> shapes,
    List<ChannelTrace.Through> through) {

  /** What one unit is. */
  public enum Kind {
    /** An attention head: a block of channels split off by a reshape. */
    HEADS,
    /** One FFN neuron (one channel). */
    NEURONS,
    /** A Conv output channel (with its BatchNormalization entries). */
    CHANNELS
  }

  /** Copies the lists. */
  public DependencyGroup {
    sources = List.copyOf(sources);
    sinks = List.copyOf(sinks);
    consts = List.copyOf(consts);
    shapes = List.copyOf(shapes);
    through = through == null ? List.of() : List.copyOf(through);
  }

  /**
   * Multiply-accumulates per token (per output position of a Conv) that one unit costs in the
   * group's linear layers; equal to the unit's weight elements.
   */
  public long flopsPerUnit() {
    long f = 0;
    for (LinearLayer s : sources) {
      f += s.inFeatures() * unitSize;
    }
    for (ChannelTrace.Sink s : sinks) {
      f += s.unitSize() * s.perChannel();
    }
    for (ChannelTrace.Through t : through) {
      f += t.unitSize() * t.perChannel();
    }
    return f;
  }

  /** Parameters one unit holds: its weight columns and rows, bias and norm entries. */
  public long paramsPerUnit() {
    long p = flopsPerUnit();
    for (ChannelTrace.ConstSlice c : consts) {
      p += c.perUnit();
    }
    return p;
  }

  /** The layer names the group touches (sources, then sinks, then depthwise Convs). */
  public List<String> layerNames() {
    java.util.List<String> l = new java.util.ArrayList<>();
    sources.forEach(s -> l.add(s.name()));
    sinks.forEach(s -> l.add(s.layer().name()));
    through.forEach(t -> l.add(t.layer().name()));
    return l;
  }

  /** "heads", "neurons" or "channels", for report keys. */
  public String unitName() {
    return kind.name().toLowerCase(java.util.Locale.ROOT);
  }
}
