package dev.compress.api.layers;

import dev.compress.api.UnsupportedModelException;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.GraphIndex;
import dev.compress.api.graph.Node;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The transformer blocks of an encoder or decoder as a chain on its residual stream: each block
 * reads one hidden-state value from the previous block (the first from the embeddings) and hands
 * one value to the next; everything else a block reads is computed outside every block (the
 * attention mask, shape arithmetic) or is constant.
 *
 * <p>Block membership: blocks are ordered by their first linear layer ({@link TransformerBlocks});
 * a node belongs to the block its name names ({@link TransformerBlocks#blockId}); a node without a
 * block name (an exporter's {@code Constant_45}, a pass's inserted node) joins block {@code b} when
 * every value it reads that is not constant comes from block {@code b} and only block {@code b}
 * reads what it computes. Constant-only nodes stay outside (they go when nothing reads them).
 *
 * <p>{@link #of} refuses, naming the node, what it cannot follow: a block with more than one value
 * read after it, a block that reads another block's values besides its predecessor's output, an
 * intermediate block output that is a graph output or is read outside the next block.
 */
public final class ResidualChain {
  /**
   * One block on the residual stream.
   *
   * @param id the block's name prefix, e.g. {@code /encoder/layer.3}
   * @param nodes its nodes, in graph order
   * @param input the hidden state it reads (null for the first block of a one-block model)
   * @param output the hidden state it hands on
   */
  public record Block(String id, List<Node> nodes, String input, String output) {}

  private final List<Block> blocks;

  private ResidualChain(List<Block> blocks) {
    this.blocks = List.copyOf(blocks);
  }

  /** The blocks, in graph order. */
  public List<Block> blocks() {
    return blocks;
  }

  /**
   * Finds the blocks of {@code graph} named by {@code blockPattern}.
   *
   * @throws UnsupportedModelException when no block is found or the chain cannot be followed
   */
  public static ResidualChain of(Graph graph, String blockPattern)
      throws UnsupportedModelException {
    Pattern pattern = Pattern.compile(blockPattern);
    List<String> ids = new ArrayList<>();
    for (TransformerBlocks.Block b : TransformerBlocks.of(LinearLayers.of(graph), blockPattern)) {
      if (b.matched()) {
        ids.add(b.id());
      }
    }
    if (ids.isEmpty()) {
      throw new UnsupportedModelException(
          "layer-drop: no transformer block found: no linear layer's node name matches"
              + " blockPattern "
              + blockPattern);
    }
    Map<String, Integer> position = new HashMap<>();
    for (int i = 0; i < ids.size(); i++) {
      position.put(ids.get(i), i);
    }
    GraphIndex ix = GraphIndex.of(graph);
    Set<String> constant = constantValues(graph);
    Map<Node, Integer> owner = new IdentityHashMap<>();
    for (Node n : graph.nodes()) {
      TransformerBlocks.blockId(n.name(), pattern)
          .map(position::get)
          .ifPresent(b -> owner.put(n, b));
    }
    absorbUnnamed(graph, ix, constant, owner);

    List<List<Node>> members = new ArrayList<>();
    ids.forEach(id -> members.add(new ArrayList<>()));
    for (Node n : graph.nodes()) {
      Integer b = owner.get(n);
      if (b != null) {
        members.get(b).add(n);
      }
    }
    int count = ids.size();
    String[] outputs = new String[count];
    List<Set<String>> reads = new ArrayList<>();
    for (int b = 0; b < count; b++) {
      Set<Node> mine = Collections.newSetFromMap(new IdentityHashMap<>());
      mine.addAll(members.get(b));
      Set<String> produced = new HashSet<>();
      members.get(b).forEach(n -> produced.addAll(n.outputs()));
      Set<String> escaping = new LinkedHashSet<>();
      List<String> where = new ArrayList<>();
      for (Node n : members.get(b)) {
        for (String o : n.outputs()) {
          if (o.isEmpty()) {
            continue;
          }
          if (ix.isObservable(o)) {
            escaping.add(o);
            where.add(o + " (a graph output)");
          }
          for (Node c : ix.readers(o)) {
            if (!mine.contains(c) && escaping.add(o)) {
              where.add(o + " (read by node " + c.name() + ")");
            }
          }
        }
      }
      if (escaping.size() != 1) {
        throw new UnsupportedModelException(
            "layer-drop: block "
                + ids.get(b)
                + (escaping.isEmpty()
                    ? " hands no value on to the rest of the graph"
                    : " hands on " + escaping.size() + " values, not one residual stream: " + where)
                + "; only blocks joined by one hidden state can be dropped");
      }
      outputs[b] = escaping.iterator().next();
      Set<String> in = new LinkedHashSet<>();
      for (Node n : members.get(b)) {
        for (String v : n.inputs()) {
          if (!v.isEmpty() && !produced.contains(v) && !constant.contains(v)) {
            in.add(v);
          }
        }
      }
      reads.add(in);
    }

    List<Block> out = new ArrayList<>();
    for (int b = 0; b < count; b++) {
      String input;
      if (b > 0) {
        input = outputs[b - 1];
        if (!reads.get(b).contains(input)) {
          throw new UnsupportedModelException(
              "layer-drop: block "
                  + ids.get(b)
                  + " does not read "
                  + input
                  + ", the output of block "
                  + ids.get(b - 1)
                  + "; the residual stream cannot be followed");
        }
      } else if (count > 1) {
        Set<String> first = new LinkedHashSet<>(reads.get(0));
        first.removeAll(reads.get(1));
        if (first.size() != 1) {
          throw new UnsupportedModelException(
              "layer-drop: the input of block "
                  + ids.get(0)
                  + " is not one hidden state: it reads "
                  + first
                  + " that block "
                  + ids.get(1)
                  + " does not");
        }
        input = first.iterator().next();
      } else {
        input = null;
      }
      for (String v : reads.get(b)) {
        if (v.equals(input)) {
          continue;
        }
        Node p = ix.producer(v).orElse(null);
        Integer from = p == null ? null : owner.get(p);
        if (from != null) {
          throw new UnsupportedModelException(
              "layer-drop: block "
                  + ids.get(b)
                  + " reads "
                  + v
                  + " from node "
                  + p.name()
                  + " of block "
                  + ids.get(from)
                  + " besides the residual stream; such a block cannot be cut out");
        }
      }
      if (b < count - 1) {
        String o = outputs[b];
        if (ix.isObservable(o)) {
          throw new UnsupportedModelException(
              "layer-drop: "
                  + o
                  + ", the output of block "
                  + ids.get(b)
                  + ", is a graph output; only the last block's output may be one");
        }
      }
      out.add(new Block(ids.get(b), members.get(b), input, outputs[b]));
    }
    return new ResidualChain(out);
  }

  /** Initializers that are not graph inputs, and outputs of nodes computed from constants alone. */
  private static Set<String> constantValues(Graph graph) {
    Set<String> c = new HashSet<>(graph.initializers().keySet());
    graph.inputs().forEach(v -> c.remove(v.name()));
    for (Node n : graph.nodes()) {
      if (GraphIndex.hasSubgraph(n)) {
        continue;
      }
      boolean all = true;
      for (String in : n.inputs()) {
        all &= in.isEmpty() || c.contains(in);
      }
      if (all) {
        n.outputs().stream().filter(o -> !o.isEmpty()).forEach(c::add);
      }
    }
    return c;
  }

  /** Gives unnamed interior nodes to the one block they read from and feed. */
  private static void absorbUnnamed(
      Graph graph, GraphIndex ix, Set<String> constant, Map<Node, Integer> owner) {
    boolean changed = true;
    while (changed) {
      changed = false;
      for (Node n : graph.nodes()) {
        if (owner.containsKey(n) || GraphIndex.hasSubgraph(n)) {
          continue;
        }
        Integer block = null;
        boolean ok = true;
        for (String in : n.inputs()) {
          if (in.isEmpty() || constant.contains(in)) {
            continue;
          }
          Integer b = ix.producer(in).map(owner::get).orElse(null);
          if (b == null || (block != null && !block.equals(b))) {
            ok = false;
            break;
          }
          block = b;
        }
        if (!ok || block == null) {
          continue;
        }
        boolean read = false;
        for (String o : n.outputs()) {
          if (o.isEmpty()) {
            continue;
          }
          if (ix.isObservable(o)) {
            ok = false;
          }
          for (Node c : ix.readers(o)) {
            read = true;
            ok &= block.equals(owner.get(c));
          }
        }
        if (ok && read) {
          owner.put(n, block);
          changed = true;
        }
      }
    }
  }
}
