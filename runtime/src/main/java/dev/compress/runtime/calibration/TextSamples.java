package dev.compress.runtime.calibration;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.io.BuiltinModels;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Reads text samples, one per line, from a file or a {@link BuiltinTextData built-in set}, and
 * hashes the samples a run used.
 */
public final class TextSamples {
  private TextSamples() {}

  /**
   * Reads every sample of {@code source}: one per line, UTF-8 (malformed bytes are an error), each
   * line stripped of surrounding whitespace, blank lines skipped.
   *
   * @param source {@code builtin:NAME} (see {@link BuiltinTextData}) or a file path
   * @param key the config key that named the source, e.g. {@code calibration.source}; every message
   *     starts with it
   * @return the samples in file order (at least one)
   * @throws ConfigException for an unknown built-in name, a missing file, a directory, text that is
   *     not UTF-8, or a source without samples
   * @throws CompressionException when the file exists but cannot be read
   */
  public static List<String> read(String source, String key) throws CompressionException {
    if (BuiltinModels.isBuiltin(source)) {
      BuiltinTextData.Dataset d =
          BuiltinTextData.find(source)
              .orElseThrow(
                  () ->
                      new ConfigException(
                          key
                              + ": unknown built-in data '"
                              + source
                              + "'; known: "
                              + BuiltinTextData.names()));
      InputStream in = TextSamples.class.getClassLoader().getResourceAsStream(d.resource());
      if (in == null) {
        throw new CompressionException(
            key + ": classpath resource " + d.resource() + " of " + source + " is missing");
      }
      return readAll(in, source, key);
    }
    Path file = Path.of(source);
    if (!Files.exists(file)) {
      throw new ConfigException(key + ": file not found: " + source);
    }
    if (!Files.isRegularFile(file)) {
      throw new ConfigException(key + ": " + source + " is not a regular file");
    }
    try {
      return readAll(Files.newInputStream(file), source, key);
    } catch (IOException e) {
      throw new CompressionException(key + ": cannot read " + source + ": " + e.getMessage(), e);
    }
  }

  private static List<String> readAll(InputStream stream, String source, String key)
      throws CompressionException {
    List<String> out = new ArrayList<>();
    int lineNo = 0;
    try (BufferedReader r =
        new BufferedReader(
            new InputStreamReader(
                stream,
                StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)))) {
      String line;
      while ((line = r.readLine()) != null) {
        lineNo++;
        String s = line.strip();
        if (!s.isEmpty()) {
          out.add(s);
        }
      }
    } catch (CharacterCodingException e) {
      throw new ConfigException(
          key + ": " + source + " is not UTF-8 text (bad bytes after line " + lineNo + ")");
    } catch (IOException e) {
      throw new CompressionException(key + ": cannot read " + source + ": " + e.getMessage(), e);
    }
    if (out.isEmpty()) {
      throw new ConfigException(key + ": " + source + " has no samples (every line is blank)");
    }
    return List.copyOf(out);
  }

  /**
   * SHA-256 (lowercase hex) over the samples in order, each as its UTF-8 bytes followed by one
   * {@code '\n'}: the same as {@code sha256sum} of a file holding exactly these samples, one per
   * line.
   */
  public static String sha256(List<String> samples) {
    MessageDigest md = newSha256();
    for (String s : samples) {
      md.update(s.getBytes(StandardCharsets.UTF_8));
      md.update((byte) '\n');
    }
    return HexFormat.of().formatHex(md.digest());
  }

  static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 unavailable", e);
    }
  }
}
