package dev.compress.evaluation.task;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.CorruptCheckpointException;
import dev.compress.api.io.ClassLabels;
import dev.compress.api.io.IdxFile;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.zip.GZIPInputStream;

/**
 * Inputs for a classifier and, optionally, their labels, read from the formats the image
 * calibration loader reads (a trailing {@code .gz} is decompressed first):
 *
 * <ul>
 *   <li><b>IDX</b> ({@code .idx}, {@code -ubyte}): magic {@code 0x000008NN} (unsigned bytes, scaled
 *       by 1/255) or {@code 0x00000DNN} (big-endian float32); the first dimension counts samples.
 *       Labels: an IDX file of unsigned bytes with one dimension ({@code 0x00000801}, as MNIST's
 *       {@code t10k-labels-idx1-ubyte}).
 *   <li><b>JSON</b>: {@code {"inputs": [[...], ...], "labels": [...]}} (labels optional), or an
 *       array of inputs.
 *   <li><b>CSV</b>: one sample per line; when the first line is a header whose first column is
 *       {@code label}, that column holds the labels, otherwise every column is a feature and a
 *       non-numeric first line is skipped.
 * </ul>
 *
 * A separate labels file (IDX, a JSON array, or one integer per line; {@link ClassLabels})
 * overrides labels in the data. IDX files are read by the api's one IDX reader ({@link IdxFile}),
 * as the image calibration data and the training module's labelled images are.
 *
 * @param inputs one feature row per sample
 * @param labels one label per sample, or null when unlabelled
 * @param sha256 SHA-256 over the little-endian float32 features of every sample, followed by the
 *     little-endian int32 labels when labelled
 */
public record LabelledInputs(float[][] inputs, int[] labels, String sha256) {

  /**
   * Reads {@code data} and, when not empty, {@code labelsFile}.
   *
   * @param key the config key or option of the data, for messages
   * @throws ConfigException for a missing file, a malformed one, or a count mismatch
   */
  public static LabelledInputs read(String data, String labelsFile, String key)
      throws CompressionException {
    Path file = existing(data, key);
    String name = baseName(file);
    float[][] x;
    int[] y = null;
    if (name.endsWith(".json")) {
      com.fasterxml.jackson.databind.JsonNode root = json(file, key);
      com.fasterxml.jackson.databind.JsonNode in = root.isArray() ? root : root.get("inputs");
      if (in == null || !in.isArray()) {
        throw new ConfigException(key + ": " + data + " must hold an array or {\"inputs\": [...]}");
      }
      x = new float[in.size()][];
      for (int i = 0; i < in.size(); i++) {
        x[i] = floats(in.get(i), key + ": " + data + " inputs[" + i + "]");
      }
      if (root.isObject() && root.has("labels")) {
        y = ints(root.get("labels"), key + ": " + data + " labels");
      }
    } else if (name.endsWith(".csv")) {
      List<String> lines = lines(file, key);
      boolean labelled =
          !lines.isEmpty() && lines.get(0).split(",")[0].trim().equalsIgnoreCase("label");
      int start = !lines.isEmpty() && !numeric(lines.get(0)) ? 1 : 0;
      List<float[]> rows = new ArrayList<>();
      List<Integer> labs = new ArrayList<>();
      for (int i = start; i < lines.size(); i++) {
        String line = lines.get(i).trim();
        if (line.isEmpty()) {
          continue;
        }
        String[] f = line.split(",");
        int from = labelled ? 1 : 0;
        float[] row = new float[f.length - from];
        try {
          if (labelled) {
            labs.add(Integer.parseInt(f[0].trim()));
          }
          for (int j = from; j < f.length; j++) {
            row[j - from] = Float.parseFloat(f[j].trim());
          }
        } catch (NumberFormatException e) {
          throw new ConfigException(
              key + ": " + data + " line " + (i + 1) + ": not a number: " + e.getMessage());
        }
        rows.add(row);
      }
      x = rows.toArray(float[][]::new);
      if (labelled) {
        y = labs.stream().mapToInt(Integer::intValue).toArray();
      }
    } else {
      x = idxImages(file, key);
    }
    if (x.length == 0) {
      throw new ConfigException(key + ": " + data + " holds no samples");
    }
    for (float[] r : x) {
      if (r.length != x[0].length) {
        throw new ConfigException(
            key + ": " + data + " rows differ in length (" + x[0].length + " vs " + r.length + ")");
      }
    }
    if (labelsFile != null && !labelsFile.isEmpty()) {
      y = readLabels(labelsFile, key.replaceAll("[^.]*$", "labels"));
    }
    if (y != null && y.length != x.length) {
      throw new ConfigException(key + ": " + x.length + " samples but " + y.length + " labels");
    }
    if (y != null) {
      for (int v : y) {
        if (v < 0) {
          throw new ConfigException(key + ": labels must be >= 0, found " + v);
        }
      }
    }
    return new LabelledInputs(x, y, sha(x, y));
  }

  /** The first {@code n} samples. */
  public LabelledInputs first(int n) {
    if (n >= inputs.length) {
      return this;
    }
    float[][] x = java.util.Arrays.copyOf(inputs, n);
    int[] y = labels == null ? null : java.util.Arrays.copyOf(labels, n);
    return new LabelledInputs(x, y, sha(x, y));
  }

  static int[] readLabels(String source, String key) throws CompressionException {
    return ClassLabels.read(existing(source, key), key);
  }

  private static float[][] idxImages(Path file, String key) throws CompressionException {
    IdxFile idx;
    try {
      idx = IdxFile.read(file);
    } catch (CorruptCheckpointException e) {
      throw new ConfigException(key + ": " + e.getMessage());
    }
    float[][] x = new float[idx.count()][];
    for (int i = 0; i < x.length; i++) {
      x[i] = idx.floats(i);
    }
    return x;
  }

  private static Path existing(String source, String key) throws ConfigException {
    Path p = Path.of(source);
    if (!Files.isRegularFile(p)) {
      throw new ConfigException(key + ": file not found: " + source);
    }
    return p;
  }

  private static String baseName(Path p) {
    String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
    return n.endsWith(".gz") ? n.substring(0, n.length() - 3) : n;
  }

  private static byte[] bytes(Path file, String key) throws CompressionException {
    try (InputStream raw = Files.newInputStream(file);
        InputStream in =
            file.getFileName().toString().endsWith(".gz") ? new GZIPInputStream(raw) : raw) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new CompressionException(key + ": cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  private static List<String> lines(Path file, String key) throws CompressionException {
    return new String(bytes(file, key), StandardCharsets.UTF_8).lines().toList();
  }

  private static com.fasterxml.jackson.databind.JsonNode json(Path file, String key)
      throws CompressionException {
    try {
      return new com.fasterxml.jackson.databind.ObjectMapper().readTree(bytes(file, key));
    } catch (IOException e) {
      throw new ConfigException(key + ": " + file + " is not valid JSON: " + e.getMessage());
    }
  }

  private static float[] floats(com.fasterxml.jackson.databind.JsonNode a, String where)
      throws ConfigException {
    if (a == null || !a.isArray()) {
      throw new ConfigException(where + " must be an array of numbers");
    }
    float[] out = new float[a.size()];
    for (int i = 0; i < out.length; i++) {
      if (!a.get(i).isNumber()) {
        throw new ConfigException(where + "[" + i + "] is not a number");
      }
      out[i] = a.get(i).floatValue();
    }
    return out;
  }

  private static int[] ints(com.fasterxml.jackson.databind.JsonNode a, String where)
      throws ConfigException {
    if (a == null || !a.isArray()) {
      throw new ConfigException(where + " must be an array of integers");
    }
    int[] out = new int[a.size()];
    for (int i = 0; i < out.length; i++) {
      if (!a.get(i).canConvertToInt() || !a.get(i).isIntegralNumber()) {
        throw new ConfigException(where + "[" + i + "] is not an integer");
      }
      out[i] = a.get(i).intValue();
    }
    return out;
  }

  private static boolean numeric(String line) {
    try {
      Float.parseFloat(line.split(",")[0].trim());
      return true;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  private static String sha(float[][] x, int[] y) {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    ByteBuffer buf = ByteBuffer.allocate(4 * x[0].length).order(ByteOrder.LITTLE_ENDIAN);
    for (float[] r : x) {
      buf.clear();
      for (float v : r) {
        buf.putFloat(v);
      }
      md.update(buf.array(), 0, buf.position());
    }
    if (y != null) {
      ByteBuffer lb = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
      for (int v : y) {
        lb.clear();
        lb.putInt(v);
        md.update(lb.array());
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }
}
