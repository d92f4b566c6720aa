package dev.compress.distillation;

import ai.djl.ndarray.NDArray;
import dev.compress.api.CompressionException;
import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.GraphBuilder;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.pass.ProgressListener;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.runtime.ort.OrtExecutor;
import dev.compress.training.ParameterSelection;
import dev.compress.training.TrainableFactory;
import dev.compress.training.TrainableModel;
import dev.compress.training.data.BatchSource;
import dev.compress.training.loop.TrainConfig;
import dev.compress.training.loop.TrainResult;
import dev.compress.training.loop.Trainer;
import dev.compress.training.loss.Losses;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.GZIPOutputStream;

/**
 * Small image classifiers built as ONNX graphs with the api's {@link GraphBuilder}, for the
 * Fashion-MNIST distillation bench and its fast test:
 *
 * <pre>
 * image (N, 1, S, S)
 *   -> Conv 3x3 pad 1 (c1) -> Relu -> MaxPool 2x2       (N, c1, S/2, S/2)
 *   -> Conv 3x3 pad 1 (c2) -> Relu -> MaxPool 2x2       (N, c2, S/4, S/4)
 *   -> Flatten -> Gemm (hidden) -> Relu -> Gemm (classes) -> logits (N, classes)
 * </pre>
 *
 * Weights are He-normal (std {@code sqrt(2 / fan_in)}; the last layer {@code sqrt(1 / fan_in)}),
 * biases zero, drawn from one seeded {@link Random}. Plus the supervised half of the bench:
 * training a model alone on labelled images with the project's {@link Trainer} (cross-entropy),
 * top-1 in ONNX Runtime, and IDX files written for tests.
 */
public final class SmallCnn {
  /** The image input. */
  public static final String INPUT = "image";

  /** The logits output. */
  public static final String OUTPUT = "logits";

  /** The labels' batch key (the calibration loader's and the loss plan's). */
  public static final String LABELS = "labels";

  private SmallCnn() {}

  /** The Fashion-MNIST teacher: 16 and 32 channels, 128 hidden (206,922 parameters at 28x28). */
  public static ModelGraph teacher(int side, int classes, long seed) {
    return build("teacher", side, classes, 16, 32, 128, seed);
  }

  /** The Fashion-MNIST student: 8 and 16 channels, 24 hidden (20,322 parameters at 28x28). */
  public static ModelGraph student(int side, int classes, long seed) {
    return build("student", side, classes, 8, 16, 24, seed);
  }

  /** The network above with the given widths; {@code side} a multiple of 4. */
  public static ModelGraph build(
      String name, int side, int classes, int c1, int c2, int hidden, long seed) {
    if (side % 4 != 0) {
      throw new IllegalArgumentException("side must be a multiple of 4, found " + side);
    }
    Random r = new Random(seed);
    GraphBuilder b = GraphBuilder.create(name).opset("", 17).producer("compress-tests");
    String x = b.input(INPUT, DataType.FLOAT, "N", 1, side, side);
    x = convBlock(b, "/conv1", x, 1, c1, r);
    x = convBlock(b, "/conv2", x, c1, c2, r);
    String flat = b.op("Flatten", "/flatten/Flatten", List.of(x), Attribute.of("axis", 1L));
    int features = c2 * (side / 4) * (side / 4);
    String h = gemm(b, "/fc1", flat, features, hidden, 2, r);
    h = b.op("Relu", "/fc1/Relu", List.of(h));
    b.nodeTo(
        "",
        "Gemm",
        "/fc2/Gemm",
        List.of(
            h,
            b.initializer(he("fc2.weight", r, 1, classes, hidden)),
            b.initializer(zeros("fc2.bias", classes))),
        List.of(OUTPUT),
        Attribute.of("transB", 1L));
    b.output(OUTPUT, DataType.FLOAT, "N", classes);
    return b.build();
  }

  private static String convBlock(GraphBuilder b, String p, String x, int in, int out, Random r) {
    String w = b.initializer(he(p.substring(1) + ".weight", r, 2, out, in, 3, 3));
    String bias = b.initializer(zeros(p.substring(1) + ".bias", out));
    String y =
        b.op(
            "Conv",
            p + "/Conv",
            List.of(x, w, bias),
            Attribute.ofInts("kernel_shape", 3, 3),
            Attribute.ofInts("pads", 1, 1, 1, 1));
    y = b.op("Relu", p + "/Relu", List.of(y));
    return b.op(
        "MaxPool",
        p + "/MaxPool",
        List.of(y),
        Attribute.ofInts("kernel_shape", 2, 2),
        Attribute.ofInts("strides", 2, 2));
  }

  private static String gemm(
      GraphBuilder b, String p, String x, int in, int out, double gain, Random r) {
    return b.op(
        "Gemm",
        p + "/Gemm",
        List.of(
            x,
            b.initializer(he(p.substring(1) + ".weight", r, gain, out, in)),
            b.initializer(zeros(p.substring(1) + ".bias", out))),
        Attribute.of("transB", 1L));
  }

  /**
   * Normal weights of std {@code sqrt(gain / fan_in)}, fan_in the product of dims after the first.
   */
  private static Tensor he(String name, Random r, double gain, long... shape) {
    int n = (int) Tensor.elementCount(shape);
    long fanIn = n / shape[0];
    double std = Math.sqrt(gain / fanIn);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (r.nextGaussian() * std);
    }
    return Tensor.ofFloats(name, shape, v);
  }

  private static Tensor zeros(String name, int n) {
    return Tensor.ofFloats(name, new long[] {n}, new float[n]);
  }

  /** The number of float parameters (every initializer) of {@code model}. */
  public static long parameters(ModelGraph model) {
    return model.graph().initializers().values().stream().mapToLong(Tensor::elementCount).sum();
  }

  /**
   * Trains every parameter of {@code model} alone on {@code data} ({@link #INPUT} images and {@link
   * #LABELS}) with cross-entropy, and writes the trained weights back into {@code model}.
   */
  public static TrainResult trainAlone(
      ModelGraph model, BatchSource data, TrainConfig config, ProgressListener progress)
      throws CompressionException {
    try (TrainableModel m =
        TrainableFactory.installedDefault()
            .create(model, ParameterSelection.all(), dev.compress.api.exec.Device.CPU)) {
      TrainResult r =
          new Trainer(config, progress)
              .fit(
                  m,
                  data,
                  (tm, nd, batch) -> {
                    NDArray logits = tm.forward(nd, Map.of(INPUT, batch.get(INPUT))).get(OUTPUT);
                    return Losses.crossEntropy(logits, batch.get(LABELS));
                  });
      m.writeTo(model);
      return r;
    }
  }

  /** The logits of {@code model} in ONNX Runtime for {@code images} {@code (n, 1, S, S)}. */
  public static float[][] ortLogits(ModelGraph model, float[][] images, int side)
      throws CompressionException {
    float[][] out = new float[images.length][];
    try (OrtExecutor ort = OrtExecutor.builder().setModel(model).optIntraOpThreads(2).build()) {
      int batch = 500;
      for (int from = 0; from < images.length; from += batch) {
        int n = Math.min(batch, images.length - from);
        float[] x = new float[n * side * side];
        for (int i = 0; i < n; i++) {
          System.arraycopy(images[from + i], 0, x, i * side * side, side * side);
        }
        Tensor in = Tensor.ofFloats(INPUT, new long[] {n, 1, side, side}, x);
        float[] y = ort.forward(Map.of(INPUT, in)).get(OUTPUT).toFloatArray();
        int classes = y.length / n;
        for (int i = 0; i < n; i++) {
          out[from + i] = Arrays.copyOfRange(y, i * classes, (i + 1) * classes);
        }
      }
    }
    return out;
  }

  /** Top-1 accuracy of {@code logits} against {@code labels}. */
  public static double top1(float[][] logits, int[] labels) {
    int right = 0;
    for (int i = 0; i < logits.length; i++) {
      int best = 0;
      for (int c = 1; c < logits[i].length; c++) {
        if (logits[i][c] > logits[i][best]) {
          best = c;
        }
      }
      right += best == labels[i] ? 1 : 0;
    }
    return (double) right / logits.length;
  }

  /** Writes images (values in [0, 1], {@code rows x cols} each) as a gzipped IDX ubyte file. */
  public static Path writeIdxImages(Path file, float[][] images, int rows, int cols)
      throws IOException {
    ByteBuffer b = ByteBuffer.allocate(16 + images.length * rows * cols);
    b.putInt(0x00000803).putInt(images.length).putInt(rows).putInt(cols);
    for (float[] img : images) {
      for (float v : img) {
        b.put((byte) Math.round(Math.max(0, Math.min(1, v)) * 255));
      }
    }
    return Files.write(file, gzip(b.array()));
  }

  /** Writes labels as a gzipped IDX label file ({@code 0x00000801}). */
  public static Path writeIdxLabels(Path file, int[] labels) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(8 + labels.length);
    b.putInt(0x00000801).putInt(labels.length);
    for (int y : labels) {
      b.put((byte) y);
    }
    return Files.write(file, gzip(b.array()));
  }

  private static byte[] gzip(byte[] data) throws IOException {
    ByteArrayOutputStream bos = new ByteArrayOutputStream();
    try (OutputStream out = new GZIPOutputStream(bos)) {
      out.write(data);
    }
    return bos.toByteArray();
  }
}
