package dev.compress.training.data;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.io.ClassLabels;
import dev.compress.api.io.IdxFile;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Labelled images from IDX files (the MNIST / Fashion-MNIST format, {@code .gz} or not), through
 * the api's one IDX reader ({@link IdxFile}, as the image calibration data and the evaluation's
 * classification task read them): images {@code 0x00000803} (unsigned bytes, scaled by 1/255) or
 * {@code 0x00000D03} (big-endian float32), labels {@code 0x00000801} (or any {@link ClassLabels}
 * file). Images become a float tensor {@code (n, 1, rows, cols)} under the model's input name,
 * labels an int64 {@code (n)} tensor.
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
    IdxFile img;
    int[] lab;
    try {
      img = IdxFile.read(images);
      lab = ClassLabels.read(labels, "labels");
    } catch (ConfigException e) {
      throw e;
    } catch (CompressionException e) {
      throw new ConfigException(e.getMessage());
    }
    long[] dims = img.dims();
    if (dims.length != 3) {
      throw new ConfigException(
          images + " is not an IDX image file (3 dimensions: n, rows, cols), found " + dims.length);
    }
    int n = img.count();
    if (lab.length != n) {
      throw new ConfigException(
          images + " holds " + n + " images but " + labels + " holds " + lab.length + " labels");
    }
    if (limit > 0) {
      n = Math.min(n, limit);
    }
    int pixels = img.elementsPerItem();
    ByteBuffer x =
        ByteBuffer.allocate(Math.multiplyExact(n * pixels, 4)).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      for (float v : img.floats(i)) {
        x.putFloat(v);
      }
    }
    x.flip();
    ByteBuffer y = ByteBuffer.allocate(n * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      y.putLong(lab[i]);
    }
    y.flip();
    Map<String, Tensor> all = new LinkedHashMap<>();
    all.put(
        inputName, Tensor.of(inputName, DataType.FLOAT, new long[] {n, 1, dims[1], dims[2]}, x));
    all.put(labelName, Tensor.of(labelName, DataType.INT64, new long[] {n}, y));
    return TensorExamples.of(all);
  }
}
