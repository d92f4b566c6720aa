package dev.compress.runtime.calibration;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.CorruptCheckpointException;
import dev.compress.api.calibration.CalibrationIdentity;
import dev.compress.api.calibration.CalibrationLoader;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.calibration.CalibrationSpec;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.io.BuiltinModels;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.IntStream;
import java.util.zip.GZIPInputStream;

/**
 * {@code calibration.kind: images}: images from an IDX, JSON or CSV file, fed to the model's single
 * float input.
 *
 * <ol>
 *   <li>Reads the source, chosen by its file name (a trailing {@code .gz} is decompressed first):
 *       <ul>
 *         <li>IDX ({@code .idx}, {@code -idx3-ubyte}, ... ): big-endian magic {@code 0x000008NN}
 *             for unsigned bytes (scaled by {@code 1/255}) or {@code 0x00000DNN} for float32,
 *             {@code NN} the number of dimensions ({@code 0x00000803} for MNIST images), then one
 *             32-bit size per dimension; the first dimension is the number of images, the product
 *             of the others the pixels per image;
 *         <li>JSON ({@code .json}): an array of images, each an array of numbers, used as given;
 *         <li>CSV ({@code .csv}): one image per line, comma-separated numbers, used as given; a
 *             first line that is not numeric is a header and skipped.
 *       </ul>
 *       Every image must have the same number of pixels.
 *   <li>Shuffles the image indices with the seed when {@code shuffle} is set and takes the first
 *       {@code samples} ({@link SampleSelection#take}); asking for more than the source holds is an
 *       error.
 *   <li>Batches {@code batchSize} consecutive images (the last batch may be smaller), each reshaped
 *       to the model's input shape: the model must declare exactly one FLOAT input whose dimensions
 *       after the first are fixed and multiply to the pixel count ({@code [N, 1, 28, 28]} or {@code
 *       [N, 784]} for 28x28 images).
 * </ol>
 *
 * <p>The identity's SHA-256 runs over the little-endian float32 bytes of the images used, in the
 * order used; {@code sequenceLength} does not apply and is recorded as 0. Registered as a {@link
 * CalibrationLoader} service.
 */
public final class ImageCalibrationLoader implements CalibrationLoader {
  /** IDX type code for unsigned bytes. */
  private static final int IDX_UBYTE = 0x08;

  /** IDX type code for big-endian float32. */
  private static final int IDX_FLOAT = 0x0D;

  /** For {@link java.util.ServiceLoader}. */
  public ImageCalibrationLoader() {}

  @Override
  public boolean supports(CalibrationSpec spec) {
    return "images".equals(spec.kind());
  }

  @Override
  public CalibrationSet load(
      CalibrationSpec spec, ModelGraph model, Path modelFile, String modelSpec)
      throws CompressionException {
    if (!supports(spec)) {
      throw new IllegalArgumentException("not an images calibration spec: kind " + spec.kind());
    }
    String source = spec.source();
    if (BuiltinModels.isBuiltin(source)) {
      throw new ConfigException(
          "calibration.source: kind images needs an IDX, JSON or CSV file; there is no built-in"
              + " image data (found "
              + source
              + ")");
    }
    Path file = Path.of(source);
    if (!Files.isRegularFile(file)) {
      throw new ConfigException("calibration.source: file not found: " + source);
    }
    Images images = read(file, source);
    ValueInfo feed = imageFeed(model, images.pixels(), source);
    if (spec.samples() > images.count()) {
      throw new ConfigException(
          "calibration.samples: "
              + spec.samples()
              + " requested but "
              + source
              + " has only "
              + images.count()
              + " images");
    }
    long fixedBatch = feed.shape().get(0).value();
    if (fixedBatch >= 0
        && (spec.batchSize() != fixedBatch || spec.samples() % spec.batchSize() != 0)) {
      throw new ConfigException(
          "calibration.batchSize: the model declares input "
              + feed.typeString()
              + " with a fixed batch of "
              + fixedBatch
              + ", so batchSize must be "
              + fixedBatch
              + " and samples a multiple of it (found batchSize "
              + spec.batchSize()
              + ", samples "
              + spec.samples()
              + ")");
    }

    List<Integer> all = IntStream.range(0, images.count()).boxed().toList();
    List<Integer> used = SampleSelection.take(all, spec.samples(), spec.shuffle(), spec.seed());
    MessageDigest md = TextSamples.newSha256();
    int pixels = images.pixels();
    long[] shape = new long[feed.shape().size()];
    for (int d = 1; d < shape.length; d++) {
      shape[d] = feed.shape().get(d).value();
    }
    List<Map<String, Tensor>> batches = new ArrayList<>();
    for (int from = 0; from < used.size(); from += spec.batchSize()) {
      List<Integer> chunk = used.subList(from, Math.min(used.size(), from + spec.batchSize()));
      float[] data = new float[Math.multiplyExact(chunk.size(), pixels)];
      ByteBuffer bytes = ByteBuffer.allocate(pixels * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
      for (int k = 0; k < chunk.size(); k++) {
        float[] img = images.image(chunk.get(k));
        System.arraycopy(img, 0, data, k * pixels, pixels);
        bytes.clear();
        bytes.asFloatBuffer().put(img);
        md.update(bytes.array(), 0, pixels * Float.BYTES);
      }
      long[] s = shape.clone();
      s[0] = chunk.size();
      batches.add(Map.of(feed.name(), Tensor.ofFloats(feed.name(), s, data)));
    }
    CalibrationIdentity identity =
        new CalibrationIdentity(
            source,
            "images",
            used.size(),
            0,
            spec.seed(),
            spec.shuffle(),
            HexFormat.of().formatHex(md.digest()));
    return new CalibrationSet(batches, identity);
  }

  /**
   * The model's single float input, checked to take images of {@code pixels} values.
   *
   * @throws ConfigException naming {@code calibration.kind} or {@code calibration.source}
   */
  static ValueInfo imageFeed(ModelGraph model, int pixels, String source) throws ConfigException {
    List<ValueInfo> feeds = model.graph().feedInputs();
    if (feeds.size() != 1) {
      List<String> found = feeds.stream().map(v -> v.name() + " " + v.typeString()).toList();
      throw new ConfigException(
          "calibration.kind: images feeds exactly one FLOAT model input, but the model declares "
              + feeds.size()
              + " inputs "
              + found);
    }
    ValueInfo v = feeds.get(0);
    if (v.elemType().isEmpty() || v.elemType().get() != DataType.FLOAT) {
      throw new ConfigException(
          "calibration.kind: images feeds a FLOAT input, but the model declares input '"
              + v.name()
              + "' as "
              + v.typeString());
    }
    if (v.shape() == null || v.shape().isEmpty()) {
      throw new ConfigException(
          "calibration.kind: images needs input '"
              + v.name()
              + "' to have a batch dimension and fixed image dimensions, found "
              + v.typeString());
    }
    long product = 1;
    for (int d = 1; d < v.shape().size(); d++) {
      long n = v.shape().get(d).value();
      if (n < 0) {
        throw new ConfigException(
            "calibration.kind: images needs the dimensions after the first of input '"
                + v.name()
                + "' to be fixed, found "
                + v.typeString());
      }
      product = Math.multiplyExact(product, n);
    }
    if (product != pixels) {
      throw new ConfigException(
          "calibration.source: "
              + source
              + " holds images of "
              + pixels
              + " pixels but the model input '"
              + v.name()
              + "' "
              + v.typeString()
              + " takes "
              + product
              + " values per sample");
    }
    return v;
  }

  /** Decoded images: {@code count} images of {@code pixels} values each. */
  interface Images {
    int count();

    int pixels();

    float[] image(int i);
  }

  /** Images held as rows of floats (JSON, CSV). */
  record Rows(List<float[]> rows, int pixels) implements Images {
    @Override
    public int count() {
      return rows.size();
    }

    @Override
    public float[] image(int i) {
      return rows.get(i);
    }
  }

  /** Images decoded lazily from the body of an IDX file. */
  record Idx(byte[] bytes, int offset, int type, int count, int pixels) implements Images {
    @Override
    public float[] image(int i) {
      float[] out = new float[pixels];
      if (type == IDX_UBYTE) {
        int base = offset + i * pixels;
        for (int p = 0; p < pixels; p++) {
          out[p] = (bytes[base + p] & 0xFF) / 255f;
        }
      } else {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.BIG_ENDIAN);
        int base = offset + i * pixels * Float.BYTES;
        for (int p = 0; p < pixels; p++) {
          out[p] = b.getFloat(base + p * Float.BYTES);
        }
      }
      return out;
    }
  }

  /** Reads {@code file} by the format its name names. */
  static Images read(Path file, String source) throws CompressionException {
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    boolean gz = name.endsWith(".gz");
    if (gz) {
      name = name.substring(0, name.length() - 3);
    }
    byte[] bytes;
    try (InputStream in =
        gz ? new GZIPInputStream(Files.newInputStream(file)) : Files.newInputStream(file)) {
      bytes = in.readAllBytes();
    } catch (IOException e) {
      throw new CorruptCheckpointException(
          file, -1, "cannot read image data: " + e.getMessage(), e);
    }
    if (name.endsWith(".json")) {
      return readJson(file, new String(bytes, StandardCharsets.UTF_8));
    } else if (name.endsWith(".csv")) {
      return readCsv(file, new String(bytes, StandardCharsets.UTF_8));
    } else if (name.endsWith(".idx") || name.endsWith("-ubyte") || name.contains("idx")) {
      return readIdx(file, bytes);
    }
    throw new ConfigException(
        "calibration.source: kind images reads IDX (.idx, -idx3-ubyte), JSON (.json) or CSV (.csv)"
            + " files, optionally .gz; cannot tell the format of "
            + source);
  }

  static Images readIdx(Path file, byte[] bytes) throws CompressionException {
    if (bytes.length < 4) {
      throw new CorruptCheckpointException(
          file, 0, "IDX file too short for its magic number (" + bytes.length + " bytes)");
    }
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.BIG_ENDIAN);
    int magic = b.getInt(0);
    int type = (magic >>> 8) & 0xFF;
    int rank = magic & 0xFF;
    if ((magic >>> 16) != 0 || (type != IDX_UBYTE && type != IDX_FLOAT) || rank < 1) {
      throw new CorruptCheckpointException(
          file,
          0,
          String.format(
              "not a supported IDX file: magic 0x%08X (expected 0x000008NN for unsigned bytes or"
                  + " 0x00000DNN for float32, NN the number of dimensions >= 1)",
              magic));
    }
    long header = 4L + 4L * rank;
    if (bytes.length < header) {
      throw new CorruptCheckpointException(
          file,
          bytes.length,
          "truncated IDX header: " + rank + " dimensions need " + header + " bytes");
    }
    long[] dims = new long[rank];
    for (int d = 0; d < rank; d++) {
      dims[d] = Integer.toUnsignedLong(b.getInt(4 + 4 * d));
    }
    long pixels = 1;
    for (int d = 1; d < rank; d++) {
      pixels *= dims[d];
      if (pixels > Integer.MAX_VALUE) {
        break;
      }
    }
    int elem = type == IDX_UBYTE ? 1 : Float.BYTES;
    long body = bytes.length - header;
    if (pixels == 0 || pixels > Integer.MAX_VALUE || dims[0] > Integer.MAX_VALUE) {
      throw new CorruptCheckpointException(
          file, 4, "unsupported IDX dimensions " + java.util.Arrays.toString(dims));
    }
    long want;
    try {
      want = Math.multiplyExact(Math.multiplyExact(dims[0], pixels), (long) elem);
    } catch (ArithmeticException e) {
      want = Long.MAX_VALUE;
    }
    if (want != body) {
      throw new CorruptCheckpointException(
          file,
          header,
          "IDX dimensions "
              + java.util.Arrays.toString(dims)
              + " need "
              + want
              + " data bytes but the file holds "
              + body
              + (want > body ? " (truncated)" : ""));
    }
    return new Idx(bytes, (int) header, type, (int) dims[0], (int) pixels);
  }

  static Images readJson(Path file, String text) throws CompressionException {
    JsonCursor c = new JsonCursor(file, text);
    List<float[]> rows = new ArrayList<>();
    c.expect('[');
    if (!c.tryConsume(']')) {
      do {
        c.expect('[');
        List<Float> row = new ArrayList<>();
        if (!c.tryConsume(']')) {
          do {
            row.add(c.number());
          } while (c.tryConsume(','));
          c.expect(']');
        }
        rows.add(toArray(row));
      } while (c.tryConsume(','));
      c.expect(']');
    }
    c.end();
    return rows(file, rows);
  }

  static Images readCsv(Path file, String text) throws CompressionException {
    List<float[]> rows = new ArrayList<>();
    String[] lines = text.split("\r?\n", -1);
    for (int li = 0; li < lines.length; li++) {
      String line = lines[li].strip();
      if (line.isEmpty()) {
        continue;
      }
      String[] cells = line.split(",", -1);
      float[] row = new float[cells.length];
      try {
        for (int i = 0; i < cells.length; i++) {
          row[i] = Float.parseFloat(cells[i].strip());
        }
      } catch (NumberFormatException e) {
        if (rows.isEmpty() && li == firstNonBlank(lines)) {
          continue; // header
        }
        throw new CorruptCheckpointException(
            file, -1, "line " + (li + 1) + " is not a row of comma-separated numbers");
      }
      rows.add(row);
    }
    return rows(file, rows);
  }

  private static int firstNonBlank(String[] lines) {
    for (int i = 0; i < lines.length; i++) {
      if (!lines[i].isBlank()) {
        return i;
      }
    }
    return -1;
  }

  private static Images rows(Path file, List<float[]> rows) throws CompressionException {
    if (rows.isEmpty()) {
      throw new ConfigException("calibration.source: " + file + " holds no images");
    }
    int pixels = rows.get(0).length;
    for (int i = 0; i < rows.size(); i++) {
      if (rows.get(i).length != pixels || pixels == 0) {
        throw new CorruptCheckpointException(
            file,
            -1,
            "image "
                + i
                + " has "
                + rows.get(i).length
                + " values but image 0 has "
                + pixels
                + " (images must be non-empty and all the same size)");
      }
    }
    return new Rows(List.copyOf(rows), pixels);
  }

  private static float[] toArray(List<Float> row) {
    float[] out = new float[row.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = row.get(i);
    }
    return out;
  }

  /** A minimal reader for a JSON array of arrays of numbers. */
  private static final class JsonCursor {
    private final Path file;
    private final String s;
    private int pos;

    JsonCursor(Path file, String s) {
      this.file = file;
      this.s = s;
    }

    private void skipWs() {
      while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) {
        pos++;
      }
    }

    private CorruptCheckpointException error(String what) {
      String found = pos < s.length() ? "'" + s.charAt(pos) + "'" : "end of file";
      return new CorruptCheckpointException(
          file,
          pos,
          "expected "
              + what
              + " but found "
              + found
              + " (images JSON is an array of arrays of numbers)");
    }

    void expect(char ch) throws CorruptCheckpointException {
      if (!tryConsume(ch)) {
        throw error("'" + ch + "'");
      }
    }

    boolean tryConsume(char ch) {
      skipWs();
      if (pos < s.length() && s.charAt(pos) == ch) {
        pos++;
        return true;
      }
      return false;
    }

    float number() throws CorruptCheckpointException {
      skipWs();
      int start = pos;
      while (pos < s.length() && "+-0123456789.eE".indexOf(s.charAt(pos)) >= 0) {
        pos++;
      }
      if (start == pos) {
        throw error("a number");
      }
      try {
        return Float.parseFloat(s.substring(start, pos));
      } catch (NumberFormatException e) {
        pos = start;
        throw error("a number");
      }
    }

    void end() throws CorruptCheckpointException {
      skipWs();
      if (pos != s.length()) {
        throw error("end of file");
      }
    }
  }
}
