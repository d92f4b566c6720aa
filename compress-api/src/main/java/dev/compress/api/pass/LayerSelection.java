package dev.compress.api.pass;

import dev.compress.api.ConfigException;
import dev.compress.api.layers.LinearLayer;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Which linear layers a pass touches, shared by every pass: {@code targets} and {@code ignore},
 * each an exact layer name or {@code re:REGEX} (a full match against the layer name, e.g. {@code
 * re:.*attention.*}). Layer names are node names from the graph (see {@link
 * dev.compress.api.layers.LinearLayers}).
 *
 * @param targets selectors of layers to include; empty means all linear layers
 * @param ignore selectors of layers to leave out, applied after targets
 */
public record LayerSelection(List<String> targets, List<String> ignore) {
  /** Every linear layer. */
  public static final LayerSelection ALL = new LayerSelection(List.of(), List.of());

  /** Validates the regexes. */
  public LayerSelection {
    targets = targets == null ? List.of() : List.copyOf(targets);
    ignore = ignore == null ? List.of() : List.copyOf(ignore);
    List<String> problems = new ArrayList<>();
    check("targets", targets, problems);
    check("ignore", ignore, problems);
    InvalidConfigException.throwIfAny(problems);
  }

  private static void check(String key, List<String> sel, List<String> problems) {
    for (int i = 0; i < sel.size(); i++) {
      String s = sel.get(i);
      if (s == null || s.isBlank() || s.equals("re:")) {
        problems.add(key + "[" + i + "] must be a layer name or re:REGEX, found '" + s + "'");
      } else if (s.startsWith("re:")) {
        try {
          Pattern.compile(s.substring(3));
        } catch (PatternSyntaxException e) {
          problems.add(
              key + "[" + i + "] is not a valid regex: '" + s + "' (" + e.getDescription() + ")");
        }
      }
    }
  }

  /**
   * The selected layers, in graph order.
   *
   * @throws ConfigException listing every selector (in {@code targets} or {@code ignore}) that
   *     matches no layer
   */
  public List<LinearLayer> select(List<LinearLayer> layers) throws ConfigException {
    List<String> problems = new ArrayList<>();
    unmatched("targets", targets, layers, problems);
    unmatched("ignore", ignore, layers, problems);
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    List<LinearLayer> out = new ArrayList<>();
    for (LinearLayer l : layers) {
      boolean in = targets.isEmpty() || targets.stream().anyMatch(s -> matches(s, l.name()));
      boolean out2 = ignore.stream().anyMatch(s -> matches(s, l.name()));
      if (in && !out2) {
        out.add(l);
      }
    }
    return out;
  }

  private static void unmatched(
      String key, List<String> sel, List<LinearLayer> layers, List<String> problems) {
    for (int i = 0; i < sel.size(); i++) {
      String s = sel.get(i);
      if (layers.stream().noneMatch(l -> matches(s, l.name()))) {
        problems.add(key + "[" + i + "] '" + s + "' matches no linear layer");
      }
    }
  }

  /** Whether selector {@code s} matches layer name {@code name}. */
  public static boolean matches(String s, String name) {
    return s.startsWith("re:")
        ? Pattern.compile(s.substring(3)).matcher(name).matches()
        : s.equals(name);
  }
}
