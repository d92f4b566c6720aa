package dev.compress.api.layers;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Groups linear layers into transformer blocks by their node names, in graph order: a regex whose
 * first capture group is the block number, e.g. {@code
 * /encoder/layer.3/attention/self/query/MatMul} belongs to block {@code /encoder/layer.3}. Layers
 * whose name does not match form a block of their own (layer-by-layer order).
 */
public final class TransformerBlocks {
  /**
   * Transformer blocks as exporters name them: {@code /encoder/layer.3/...} (BERT), {@code
   * /model/layers.3/...} or {@code model.layers.3.} (Llama), {@code /transformer/h.3/} (GPT-2),
   * {@code blocks.3} (ViT); the capture group is the block number.
   */
  public static final String DEFAULT_PATTERN =
      "(?:^|[/.])(?:layer|layers|h|block|blocks)[._](\\d+)(?=[/._]|$)";

  private TransformerBlocks() {}

  /**
   * The block id of a node or layer name: its prefix up to the end of {@code pattern}'s first
   * capture group, or empty when the pattern does not match.
   */
  public static java.util.Optional<String> blockId(String name, Pattern pattern) {
    Matcher m = pattern.matcher(name);
    return m.find()
        ? java.util.Optional.of(name.substring(0, m.end(1)))
        : java.util.Optional.empty();
  }

  /**
   * One calibration unit.
   *
   * @param id the block's name prefix (up to the end of the number), or the layer name for a layer
   *     outside any block
   * @param layers its layers, in graph order
   * @param matched whether the id came from the block pattern
   */
  public record Block(String id, List<LinearLayer> layers, boolean matched) {
    /** Copies the list. */
    public Block {
      layers = List.copyOf(layers);
    }
  }

  /**
   * The blocks of {@code layers} (given in graph order), ordered by their first layer.
   *
   * @param pattern a regex with at least one capture group
   */
  public static List<Block> of(List<LinearLayer> layers, String pattern) {
    Pattern p = Pattern.compile(pattern);
    Map<String, List<LinearLayer>> byId = new LinkedHashMap<>();
    Map<String, Boolean> matched = new LinkedHashMap<>();
    for (LinearLayer l : layers) {
      Matcher m = p.matcher(l.name());
      String id;
      boolean ok = m.find();
      id = ok ? l.name().substring(0, m.end(1)) : l.name();
      byId.computeIfAbsent(id, k -> new ArrayList<>()).add(l);
      matched.putIfAbsent(id, ok);
    }
    List<Block> out = new ArrayList<>();
    byId.forEach((id, ls) -> out.add(new Block(id, ls, matched.get(id))));
    return out;
  }
}
