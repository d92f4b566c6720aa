package dev.compress.api.pipeline;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.io.IOContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactoryBuilder;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import dev.compress.api.ConfigException;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.events.AliasEvent;
import org.yaml.snakeyaml.events.CollectionEndEvent;
import org.yaml.snakeyaml.events.CollectionStartEvent;
import org.yaml.snakeyaml.events.Event;
import org.yaml.snakeyaml.events.NodeEvent;
import org.yaml.snakeyaml.events.ScalarEvent;

/**
 * Reads pipeline YAML into a tree with Jackson's scalar rules (so {@code 8} is a number, {@code
 * true} a boolean, {@code "8"} a string), plus what Jackson's YAML parser leaves out:
 *
 * <ul>
 *   <li><b>Aliases</b> ({@code *name}) are replaced by a copy of the node anchored {@code &name}
 *       (Jackson alone reads an alias as the string {@code name}). The expansion is bounded: a
 *       document whose aliases expand to more than {@link #MAX_NODES} nodes (a "billion laughs"
 *       document) is refused as soon as the bound is passed, and an alias to an anchor that is not
 *       defined before it, or to a node that contains the alias, is an error.
 *   <li><b>Merge keys</b> ({@code <<: *base}, or {@code <<: [*a, *b]}) copy the keys of the merged
 *       mappings that the mapping does not set itself (YAML 1.1 semantics: explicit keys win, then
 *       earlier merged mappings over later ones).
 *   <li><b>Errors</b> are one line {@code FILE:LINE:COLUMN: problem}, followed by the offending
 *       source line and a caret under the column.
 * </ul>
 *
 * Duplicate keys in one mapping are errors. Thread-safe: every read uses its own parser.
 */
final class PipelineYaml {
  /** The most nodes (scalars, lists, mappings) a document may expand to, aliases included. */
  static final int MAX_NODES = 100_000;

  /** The largest document read, in code points. */
  static final int MAX_CODE_POINTS = 3 * 1024 * 1024;

  private static final YAMLFactory FACTORY =
      new AliasExpandingFactory(
          YAMLFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION));

  private PipelineYaml() {}

  /**
   * Parses one YAML document.
   *
   * @param text the document
   * @param source the file name for messages ({@code <yaml>} for text given directly)
   * @return the tree; a {@code MissingNode} for an empty document
   * @throws ConfigException one problem: {@code source:line:column: ...}, with the source line and
   *     a caret on the next two lines
   */
  static JsonNode read(String text, String source) throws ConfigException {
    try (JsonParser p = FACTORY.createParser(text)) {
      p.setCodec(SpecBinder.YAML);
      JsonNode tree = SpecBinder.YAML.readTree(p);
      if (tree == null) {
        return SpecBinder.YAML.missingNode();
      }
      return merge(tree, source, text);
    } catch (Located e) {
      throw error(source, text, e.line, e.column, e.getMessage());
    } catch (StreamConstraintsException e) {
      throw new ConfigException(source + ": " + e.getOriginalMessage());
    } catch (JsonProcessingException e) {
      if (e.getCause() instanceof Located l) {
        throw error(source, text, l.line, l.column, l.getMessage());
      }
      return rethrow(e, source, text);
    } catch (IOException e) {
      throw new ConfigException(source + ": cannot read YAML: " + e.getMessage());
    }
  }

  private static JsonNode rethrow(JsonProcessingException e, String source, String text)
      throws ConfigException {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof MarkedYAMLException m && m.getProblemMark() != null) {
        String problem = m.getProblem() == null ? "not valid YAML" : m.getProblem();
        if (m.getContext() != null && m.getContextMark() != null) {
          problem +=
              " ("
                  + m.getContext()
                  + " that starts at line "
                  + (m.getContextMark().getLine() + 1)
                  + ")";
        }
        Mark mark = m.getProblemMark();
        throw error(source, text, mark.getLine() + 1, mark.getColumn() + 1, problem);
      }
    }
    JsonLocation loc = e.getLocation();
    String msg = e.getOriginalMessage() == null ? e.toString() : e.getOriginalMessage();
    msg = msg.lines().findFirst().orElse(msg);
    if (loc != null && loc.getLineNr() > 0) {
      throw error(source, text, loc.getLineNr(), loc.getColumnNr(), msg);
    }
    throw new ConfigException(source + ": invalid YAML: " + msg);
  }

  /** {@code source:line:col: problem}, then the source line and a caret (1-based line/column). */
  static ConfigException error(String source, String text, int line, int column, String problem) {
    String head =
        source + ":" + line + ":" + column + ": " + problem.lines().findFirst().orElse(problem);
    List<String> lines = text.lines().toList();
    if (line < 1 || line > lines.size()) {
      return new ConfigException(head);
    }
    String src = lines.get(line - 1).replace('\t', ' ');
    if (src.length() > 200) {
      src = src.substring(0, 200) + "...";
    }
    int col = Math.max(1, Math.min(column, src.length() + 1));
    return new ConfigException(head + "\n  " + src + "\n  " + " ".repeat(col - 1) + "^");
  }

  // ---- merge keys ----

  private static JsonNode merge(JsonNode node, String source, String text) throws ConfigException {
    if (node instanceof ArrayNode a) {
      for (int i = 0; i < a.size(); i++) {
        a.set(i, merge(a.get(i), source, text));
      }
      return a;
    }
    if (!(node instanceof ObjectNode o)) {
      return node;
    }
    for (Map.Entry<String, JsonNode> e : o.properties()) {
      e.setValue(merge(e.getValue(), source, text));
    }
    JsonNode m = o.get("<<");
    if (m == null) {
      return o;
    }
    List<JsonNode> sources = new ArrayList<>();
    if (m.isObject()) {
      sources.add(m);
    } else if (m.isArray() && allObjects(m)) {
      m.forEach(sources::add);
    } else {
      throw new ConfigException(
          source
              + ": a merge key (<<) takes a mapping or a list of mappings, e.g. <<: *base; found "
              + RecordBinder.describe(m));
    }
    Map<String, JsonNode> merged = new LinkedHashMap<>();
    for (JsonNode s : sources) {
      s.properties().forEach(e -> merged.putIfAbsent(e.getKey(), e.getValue()));
    }
    ObjectNode out = o.objectNode();
    merged.forEach(
        (k, v) -> {
          if (!o.has(k)) {
            out.set(k, v);
          }
        });
    o.properties()
        .forEach(
            e -> {
              if (!e.getKey().equals("<<")) {
                out.set(e.getKey(), e.getValue());
              }
            });
    return out;
  }

  private static boolean allObjects(JsonNode a) {
    for (JsonNode x : a) {
      if (!x.isObject()) {
        return false;
      }
    }
    return !a.isEmpty();
  }

  // ---- aliases ----

  /** A problem at a place in the document (1-based). */
  private static final class Located extends IOException {
    private static final long serialVersionUID = 1L;
    final int line;
    final int column;

    Located(Mark at, String message) {
      super(message);
      this.line = at == null ? 0 : at.getLine() + 1;
      this.column = at == null ? 0 : at.getColumn() + 1;
    }
  }

  private static final class AliasExpandingFactory extends YAMLFactory {
    private static final long serialVersionUID = 1L;

    AliasExpandingFactory(YAMLFactoryBuilder b) {
      super(b.loaderOptions(loaderOptions()));
    }

    private static LoaderOptions loaderOptions() {
      LoaderOptions o = new LoaderOptions();
      o.setCodePointLimit(MAX_CODE_POINTS);
      o.setAllowDuplicateKeys(false);
      return o;
    }

    @Override
    protected YAMLParser _createParser(Reader r, IOContext ctxt) throws IOException {
      return new AliasExpandingParser(
          ctxt, _parserFeatures, _yamlParserFeatures, _loaderOptions, _objectCodec, r);
    }

    @Override
    protected YAMLParser _createParser(
        char[] data, int offset, int len, IOContext ctxt, boolean recyclable) throws IOException {
      return _createParser(new StringReader(new String(data, offset, len)), ctxt);
    }
  }

  /**
   * Replays the events of an anchored node in place of each alias to it. Events pass through {@link
   * #getEvent()} one at a time; each anchored node's events are recorded while they pass (a
   * collection's from its start to its end), and an alias queues a copy of them.
   */
  private static final class AliasExpandingParser extends YAMLParser {
    private final Map<String, List<Event>> anchors = new HashMap<>();
    private final Deque<Recording> recording = new ArrayDeque<>();
    private final Deque<Event> replay = new ArrayDeque<>();
    private int nodes;
    private Mark lastAlias; // where the expansion being replayed was asked for

    private record Recording(String anchor, List<Event> events, int[] depth) {}

    AliasExpandingParser(
        IOContext ctxt,
        int parserFeatures,
        int formatFeatures,
        LoaderOptions options,
        com.fasterxml.jackson.core.ObjectCodec codec,
        Reader reader) {
      super(ctxt, parserFeatures, formatFeatures, options, codec, reader);
    }

    @Override
    protected Event getEvent() throws IOException {
      boolean replayed = !replay.isEmpty();
      Event e = replayed ? replay.poll() : super.getEvent();
      if (e instanceof AliasEvent a) {
        lastAlias = a.getStartMark();
        List<Event> target = anchors.get(a.getAnchor());
        if (target == null) {
          boolean open = recording.stream().anyMatch(r -> r.anchor().equals(a.getAnchor()));
          throw new Located(
              a.getStartMark(),
              open
                  ? "alias *" + a.getAnchor() + " refers to a node that contains it (a cycle)"
                  : "alias *" + a.getAnchor() + " has no anchor &" + a.getAnchor() + " before it");
        }
        for (int i = target.size() - 1; i >= 0; i--) {
          replay.addFirst(target.get(i));
        }
        return getEvent();
      }
      if (e instanceof ScalarEvent || e instanceof CollectionStartEvent) {
        if (++nodes > MAX_NODES) {
          throw new Located(
              replayed && lastAlias != null ? lastAlias : e.getStartMark(),
              "YAML aliases expand to more than "
                  + MAX_NODES
                  + " nodes (nested aliases multiply, e.g. a 'billion laughs' document); refused");
        }
      }
      for (Recording r : recording) {
        r.events().add(e);
      }
      if (!replayed && e instanceof NodeEvent n && n.getAnchor() != null) {
        if (e instanceof CollectionStartEvent) {
          List<Event> events = new ArrayList<>();
          events.add(e);
          recording.push(new Recording(n.getAnchor(), events, new int[] {0}));
        } else {
          anchors.put(n.getAnchor(), List.of(e));
        }
      }
      // Track nesting of each open recording; a recording ends with its collection's end.
      for (Iterator<Recording> it = recording.iterator(); it.hasNext(); ) {
        Recording r = it.next();
        if (e instanceof CollectionStartEvent) {
          r.depth()[0]++;
        } else if (e instanceof CollectionEndEvent && --r.depth()[0] == 0) {
          anchors.put(r.anchor(), List.copyOf(r.events()));
          it.remove();
        }
      }
      return e;
    }
  }
}
