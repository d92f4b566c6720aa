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
import dev.compress.api.io.ClassLabels;
import dev.compress.api.io.IdxFile;
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
import java.util.LinkedHashMap;
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
 * <p>With {@code labels} (a file of one class label per image: IDX {@code 0x00000801}, a JSON
 * array, or one integer per line; {@link ClassLabels}) each batch also holds the int64 value {@code
 * labels} {@code (batch)}, the labels of its images: the labelled images that training losses with
 * hard labels read (the {@code distill} pass's {@code soft-targets} with {@code hardLabelWeight});
 * passes that only feed the model ignore it. The file must hold exactly one label per image of the
 * source.
 *
 * <p>The identity's SHA-256 runs over the little-endian float32 bytes of the images used, in the
 * order used, then (with labels) their little-endian int64 labels in the same order; {@code
 * sequenceLength} does not apply and is recorded as 0. {@link #check} reads only the IDX headers
 * (the whole file for JSON and CSV). Registered as a {@link CalibrationLoader} service.
 */
public final class ImageCalibrationLoader implements CalibrationLoader {
  /** The batch value that holds the labels. */
  public static final String LABELS = "labels";

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
    Path file = sourceFile(source);
    Images images = read(file, source);
    ValueInfo feed = checkShapes(spec, model, images.count(), images.pixels());
    int[] labels = labels(spec, images.count());

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
      Map<String, Tensor> batch = new LinkedHashMap<>();
      batch.put(feed.name(), Tensor.ofFloats(feed.name(), s, data));
      if (labels != null) {
        long[] y = new long[chunk.size()];
        for (int k = 0; k < y.length; k++) {
          y[k] = labels[chunk.get(k)];
        }
        batch.put(LABELS, Tensor.ofLongs(LABELS, new long[] {y.length}, y));
      }
      batches.add(batch);
    }
    if (labels != null) {
      ByteBuffer lb = ByteBuffer.allocate(Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
      for (int i : used) {
        lb.clear();
        lb.putLong(labels[i]);
        md.update(lb.array());
      }
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

  @Override
  public List<String> check(
      CalibrationSpec spec, ModelGraph model, Path modelFile, String modelSpec)
      throws CompressionException {
    try {
      Path file = sourceFile(spec.source());
      int count;
      int pixels;
      if (IdxFile.looksLikeIdx(file)) {
        IdxFile h = IdxFile.header(file);
        count = h.count();
        pixels = h.elementsPerItem();
      } else {
        Images images = read(file, spec.source());
        count = images.count();
        pixels = images.pixels();
      }
      checkShapes(spec, model, count, pixels);
      labels(spec, count);
      return List.of();
    } catch (ConfigException e) {
      return e.problems();
    } catch (CorruptCheckpointException e) {
      return List.of("calibration.source: " + e.getMessage());
    }
  }

  private static Path sourceFile(String source) throws ConfigException {
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
    return file;
  }

  /** The model's image input, checked against the source's count and pixels and the batches. */
  private static ValueInfo checkShapes(
      CalibrationSpec spec, ModelGraph model, int count, int pixels) throws ConfigException {
    String source = spec.source();
    ValueInfo feed = imageFeed(model, pixels, source);
    if (spec.samples() > count) {
      throw new ConfigException(
          "calibration.samples: "
              + spec.samples()
              + " requested but "
              + source
              + " has only "
              + count
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
    if (!spec.labels().isEmpty() && feed.name().equals(LABELS)) {
      throw new ConfigException(
          "calibration.labels: the model's image input is itself called '"
              + LABELS
              + "', the name the labels travel under; rename the input or drop labels");
    }
    return feed;
  }

  /** The labels of {@code calibration.labels}, one per image, or null without the key. */
  private static int[] labels(CalibrationSpec spec, int images) throws CompressionException {
    if (spec.labels().isEmpty()) {
      return null;
    }
    int[] y = ClassLabels.read(Path.of(spec.labels()), "calibration.labels");
    if (y.length != images) {
      throw new ConfigException(
          "calibration.labels: "
              + spec.labels()
              + " holds "
              + y.length
              + " labels but "
              + spec.source()
              + " holds "
              + images
              + " images (one label per image)");
    }
    return y;
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
  record Idx(IdxFile file) implements Images {
    @Override
    public int count() {
      return file.count();
    }

    @Override
    public int pixels() {
      return file.elementsPerItem();
    }

    @Override
    public float[] image(int i) {
      return file.floats(i);
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
    } else if (IdxFile.looksLikeIdx(file)) {
      return readIdx(file, bytes);
    }
    throw new ConfigException(
        "calibration.source: kind images reads IDX (.idx, -idx3-ubyte), JSON (.json) or CSV (.csv)"
            + " files, optionally .gz; cannot tell the format of "
            + source);
  }

  static Images readIdx(Path file, byte[] bytes) throws CompressionException {
    return new Idx(IdxFile.parse(file, bytes));
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
