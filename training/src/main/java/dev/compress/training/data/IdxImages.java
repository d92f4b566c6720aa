package dev.compress.training.data;

import dev.compress.api.ConfigException;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Labelled images from IDX files (the MNIST / Fashion-MNIST format, read as the evaluation's
 * classification task reads them): images {@code 0x00000803} (unsigned bytes, scaled by 1/255) or
 * {@code 0x00000D03} (big-endian float32), labels {@code 0x00000801}. Images become a float tensor
 * {@code (n, 1, rows, cols)} under the model's input name, labels an int64 {@code (n)} tensor.
 */
public final class IdxImages {
  private IdxImages() {}

  /**
   * Reads up to {@code limit} images and labels (all when {@code limit <= 0}).
   *
   * @throws ConfigException naming the file when it is not a matching IDX file
   */
  public static TensorExamples read(
      Path images, Path labels, String inputName, String labelName, int limit)
      throws ConfigException {
    ByteBuffer img = bytes(images);
    ByteBuffer lab = bytes(labels);
    int im = img.getInt();
    if (im != 0x803 && im != 0xD03) {
      throw new ConfigException(
          images
              + " is not an IDX image file (magic 0x00000803 or 0x00000D03), found 0x"
              + Integer.toHexString(im));
    }
    if (lab.getInt() != 0x801) {
      throw new ConfigException(labels + " is not an IDX label file (magic 0x00000801)");
    }
    int n = img.getInt();
    int rows = img.getInt();
    int cols = img.getInt();
    int ln = lab.getInt();
    if (ln != n) {
      throw new ConfigException(
          images + " holds " + n + " images but " + labels + " holds " + ln + " labels");
    }
    if (limit > 0) {
      n = Math.min(n, limit);
    }
    int pixels = rows * cols;
    long need = (long) n * pixels * (im == 0x803 ? 1 : 4);
    if (img.remaining() < need || lab.remaining() < n) {
      throw new ConfigException(images + " or " + labels + " is truncated");
    }
    ByteBuffer x =
        ByteBuffer.allocate(Math.multiplyExact(n * pixels, 4)).order(ByteOrder.LITTLE_ENDIAN);
    for (long i = 0; i < (long) n * pixels; i++) {
      x.putFloat(im == 0x803 ? (img.get() & 0xff) / 255f : img.getFloat());
    }
    x.flip();
    ByteBuffer y = ByteBuffer.allocate(n * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      y.putLong(lab.get() & 0xff);
    }
    y.flip();
    Map<String, Tensor> all = new LinkedHashMap<>();
    all.put(inputName, Tensor.of(inputName, DataType.FLOAT, new long[] {n, 1, rows, cols}, x));
    all.put(labelName, Tensor.of(labelName, DataType.INT64, new long[] {n}, y));
    return TensorExamples.of(all);
  }

  private static ByteBuffer bytes(Path p) throws ConfigException {
    try {
      return ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.BIG_ENDIAN);
    } catch (IOException e) {
      throw new ConfigException("cannot read " + p + ": " + e.getMessage());
    }
  }
}
