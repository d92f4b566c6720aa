package dev.compress.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code --json} output of the commands: one JSON object on stdout, nothing else there. Every
 * document starts with {@code "schema": "compress/COMMAND/vN"}; a version changes only when a key
 * is removed or changes meaning (new keys may appear within a version).
 */
final class JsonOutput {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private JsonOutput() {}

  /** A document for {@code command} (e.g. {@code inspect}), schema version 1, keys in order. */
  static Map<String, Object> document(String command) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("schema", schema(command));
    return m;
  }

  /** The schema name of {@code command}'s output, e.g. {@code compress/inspect/v1}. */
  static String schema(String command) {
    return "compress/" + command + "/v1";
  }

  /** Prints {@code doc} (maps, lists, strings, numbers, booleans, nulls) and a newline. */
  static void print(PrintWriter out, Object doc) {
    try {
      out.println(JSON.writeValueAsString(doc));
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e); // plain maps and lists always serialize
    }
    out.flush();
  }
}
