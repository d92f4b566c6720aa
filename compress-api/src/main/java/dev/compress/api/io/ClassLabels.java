package dev.compress.api.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.zip.GZIPInputStream;

/**
 * A file of class labels, one non-negative integer per sample, read by the image calibration data
 * ({@code calibration.labels}) and the evaluation's classification task ({@code evaluate.labels}):
 * an IDX label file ({@code 0x00000801}, {@link IdxFile#labels}), a JSON array of integers ({@code
 * .json}), or one integer per line (anything else). A trailing {@code .gz} is decompressed.
 */
public final class ClassLabels {
  private ClassLabels() {}

  /**
   * Reads the labels of {@code file}.
   *
   * @param key the config key that names the file, for messages
   * @throws ConfigException naming {@code key} for a missing file, a value that is not a
   *     non-negative integer, or a malformed file
   */
  public static int[] read(Path file, String key) throws CompressionException {
    if (!Files.isRegularFile(file)) {
      throw new ConfigException(key + ": file not found: " + file);
    }
    int[] y;
    if (IdxFile.looksLikeIdx(file)) {
      try {
        y = IdxFile.read(file).labels();
      } catch (CompressionException e) {
        throw new ConfigException(key + ": " + e.getMessage());
      }
    } else if (baseName(file).endsWith(".json")) {
      JsonNode a;
      try {
        a = new ObjectMapper().readTree(bytes(file, key));
      } catch (IOException e) {
        throw new ConfigException(key + ": " + file + " is not valid JSON: " + e.getMessage());
      }
      if (a == null || !a.isArray()) {
        throw new ConfigException(key + ": " + file + " must hold an array of integers");
      }
      y = new int[a.size()];
      for (int i = 0; i < y.length; i++) {
        if (!a.get(i).isIntegralNumber() || !a.get(i).canConvertToInt()) {
          throw new ConfigException(key + ": " + file + "[" + i + "] is not an integer");
        }
        y[i] = a.get(i).intValue();
      }
    } else {
      List<Integer> out = new ArrayList<>();
      for (String l : new String(bytes(file, key), StandardCharsets.UTF_8).lines().toList()) {
        if (!l.isBlank()) {
          try {
            out.add(Integer.parseInt(l.trim()));
          } catch (NumberFormatException e) {
            throw new ConfigException(
                key + ": " + file + ": not an integer label: '" + l.trim() + "'");
          }
        }
      }
      y = out.stream().mapToInt(Integer::intValue).toArray();
    }
    for (int v : y) {
      if (v < 0) {
        throw new ConfigException(key + ": labels must be >= 0, found " + v);
      }
    }
    return y;
  }

  private static String baseName(Path p) {
    String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
    return n.endsWith(".gz") ? n.substring(0, n.length() - 3) : n;
  }

  private static byte[] bytes(Path file, String key) throws CompressionException {
    try (InputStream raw = Files.newInputStream(file);
        InputStream in =
            file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gz")
                ? new GZIPInputStream(raw)
                : raw) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new CompressionException(key + ": cannot read " + file + ": " + e.getMessage(), e);
    }
  }
}
