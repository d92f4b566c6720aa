package dev.compress.pruning.structured;

import dev.compress.api.graph.GraphIndex;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.layers.LinearLayers;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The dependency groups of a graph: one {@link ChannelTrace} per linear layer's output channels,
 * traces that meet on a value (or that one ties to the other) joined into one group, following
 * DepGraph (Fang et al. 2023): per-op rules, group = closure of the rules from a root. A group is
 * prunable when every trace in it closed on linear layers' inputs and every tie is met; the others
 * are listed with the reason (one line naming the node and op).
 *
 * @param groups the prunable groups, in graph order of their first source
 * @param refused for each root layer whose channels cannot be pruned, why
 * @param unfollowable the subset of {@link #refused} where the rules could not follow the structure
 *     (as opposed to a refusal by design: a norm over the hidden width, a graph output)
 */
public record DependencyGroups(
    List<DependencyGroup> groups, Map<String, String> refused, Map<String, String> unfollowable) {

  /** Analyses {@code model}'s graph (its main graph; nothing is changed). */
  public static DependencyGroups of(ModelGraph model) {
    GraphIndex ix = GraphIndex.of(model.graph());
    long opset = model.opsetImports().getOrDefault("", 13L);
    List<LinearLayer> layers = LinearLayers.of(model.graph());
    IdentityHashMap<Node, LinearLayer> byNode = new IdentityHashMap<>();
    layers.forEach(l -> byNode.put(l.node(), l));
    Map<String, String> refused = new LinkedHashMap<>();
    Map<String, String> unfollowable = new LinkedHashMap<>();
    List<ChannelTrace> traces = new ArrayList<>();
    Map<String, String> follows = new LinkedHashMap<>();
    for (LinearLayer l : layers) {
      try {
        traces.add(ChannelTrace.of(ix, byNode, opset, l));
      } catch (TraceRefusal r) {
        if (r.kind == TraceRefusal.Kind.FOLLOWS) {
          follows.put(l.name(), r.getMessage());
          continue;
        }
        refused.put(l.name(), r.getMessage());
        if (r.kind == TraceRefusal.Kind.UNFOLLOWABLE) {
          unfollowable.put(l.name(), r.getMessage());
        }
      }
    }
    // union-find over traces meeting on a value or tied to one another
    int n = traces.size();
    int[] parent = new int[n];
    for (int i = 0; i < n; i++) {
      parent[i] = i;
    }
    Map<String, List<Integer>> byValue = new HashMap<>();
    for (int i = 0; i < n; i++) {
      for (String v : traces.get(i).values.keySet()) {
        byValue.computeIfAbsent(v, k -> new ArrayList<>()).add(i);
      }
    }
    Map<Integer, String> broken = new HashMap<>();
    for (int i = 0; i < n; i++) {
      ChannelTrace t = traces.get(i);
      for (String v : t.values.keySet()) {
        for (int j : byValue.get(v)) {
          if (!traces.get(j).values.get(v).compatible(t.values.get(v))) {
            broken.put(
                i, "layer '" + t.root.name() + "': value '" + v + "' is reached on two axes");
          }
          union(parent, i, j);
        }
      }
      for (ChannelTrace.Tie tie : t.ties) {
        boolean met = false;
        for (int j : byValue.getOrDefault(tie.value(), List.of())) {
          if (traces.get(j).values.get(tie.value()).compatible(tie.axis())) {
            union(parent, i, j);
            met = true;
          }
        }
        if (!met) {
          broken.put(
              i,
              "layer '"
                  + t.root.name()
                  + "': cannot follow its channels through node '"
                  + tie.node().name()
                  + "' ("
                  + tie.node().qualifiedOpType()
                  + "): its operand '"
                  + tie.value()
                  + "' would need the same channels removed, and no prunable layer produces them");
        }
      }
    }
    Map<Integer, List<ChannelTrace>> members = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      members.computeIfAbsent(find(parent, i), k -> new ArrayList<>()).add(traces.get(i));
    }
    List<DependencyGroup> groups = new ArrayList<>();
    for (var e : members.entrySet()) {
      List<ChannelTrace> ts = e.getValue();
      String why = null;
      for (int i = 0; i < n; i++) {
        if (find(parent, i) == e.getKey() && broken.containsKey(i)) {
          why = broken.get(i);
        }
      }
      ChannelTrace first = ts.get(0);
      for (ChannelTrace t : ts) {
        if (t.units != first.units || t.unitSize != first.unitSize) {
          why =
              "layer '"
                  + t.root.name()
                  + "': "
                  + t.units
                  + " units of "
                  + t.unitSize
                  + " in a group with "
                  + first.units
                  + " units of "
                  + first.unitSize;
        }
      }
      if (why == null && ts.stream().allMatch(t -> t.sinks.isEmpty())) {
        why = "layer '" + first.root.name() + "': its channels reach no linear layer";
      }
      if (why != null) {
        for (ChannelTrace t : ts) {
          refused.put(t.root.name(), why);
          unfollowable.put(t.root.name(), why);
        }
        continue;
      }
      groups.add(merge(ts));
    }
    Set<String> passed = new java.util.HashSet<>();
    groups.forEach(g -> g.through().forEach(t -> passed.add(t.layer().name())));
    follows.forEach(
        (name, why) -> {
          if (!passed.contains(name)) {
            refused.put(name, why);
          }
        });
    return new DependencyGroups(groups, refused, unfollowable);
  }

  private static DependencyGroup merge(List<ChannelTrace> ts) {
    List<LinearLayer> sources = new ArrayList<>();
    Map<Node, ChannelTrace.Sink> sinks = new IdentityHashMap<>();
    List<ChannelTrace.Sink> sinkList = new ArrayList<>();
    Set<String> constKeys = new LinkedHashSet<>();
    List<ChannelTrace.ConstSlice> consts = new ArrayList<>();
    Set<String> shapeKeys = new LinkedHashSet<>();
    List<ChannelTrace.ShapeEdit> shapes = new ArrayList<>();
    Map<Node, ChannelTrace.Through> through = new IdentityHashMap<>();
    List<ChannelTrace.Through> throughList = new ArrayList<>();
    for (ChannelTrace t : ts) {
      sources.add(t.root);
      for (ChannelTrace.Through d : t.through) {
        if (through.putIfAbsent(d.layer().node(), d) == null) {
          throughList.add(d);
        }
      }
      for (ChannelTrace.Sink s : t.sinks) {
        if (sinks.putIfAbsent(s.layer().node(), s) == null) {
          sinkList.add(s);
        }
      }
      for (ChannelTrace.ConstSlice c : t.consts) {
        if (constKeys.add(System.identityHashCode(c.node()) + "#" + c.input())) {
          consts.add(c);
        }
      }
      for (ChannelTrace.ShapeEdit s : t.shapes) {
        if (shapeKeys.add(
            System.identityHashCode(s.reader()) + "#" + s.value() + "#" + s.index())) {
          shapes.add(s);
        }
      }
    }
    ChannelTrace first = ts.get(0);
    DependencyGroup.Kind kind =
        sources.stream().anyMatch(s -> s.kind() == LinearLayer.Kind.CONV)
            ? DependencyGroup.Kind.CHANNELS
            : shapes.isEmpty() && first.unitSize == 1
                ? DependencyGroup.Kind.NEURONS
                : DependencyGroup.Kind.HEADS;
    return new DependencyGroup(
        sinkList.get(0).layer().name(),
        kind,
        first.units,
        first.unitSize,
        sources,
        sinkList,
        consts,
        shapes,
        throughList);
  }

  private static int find(int[] p, int i) {
    while (p[i] != i) {
      p[i] = p[p[i]];
      i = p[i];
    }
    return i;
  }

  private static void union(int[] p, int a, int b) {
    p[find(p, a)] = find(p, b);
  }
}
