package dev.compress.training.data;

import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@link BatchSource} over examples held as host tensors: each example is a map from name to a
 * tensor whose first axis has length 1. A batch concatenates them along that axis; tensors of rank
 * 2 or more whose second axis differs between examples (token sequences of different lengths) are
 * padded with zeros at the end of that axis to the longest in the batch, which is the padding BERT
 * style encoders expect ({@code input_ids} 0 is {@code [PAD]}, {@code attention_mask} 0 masks it).
 */
public final class TensorExamples implements BatchSource {
  private final List<Map<String, Tensor>> examples;

  private TensorExamples(List<Map<String, Tensor>> examples) {
    if (examples.isEmpty()) {
      throw new IllegalArgumentException("no training examples");
    }
    this.examples = List.copyOf(examples);
  }

  /**
   * Splits batches (e.g. a {@link dev.compress.api.calibration.CalibrationSet}'s, from tokenized
   * sentences, images or tensor files) into single examples along their first axis.
   *
   * @throws IllegalArgumentException when the tensors of one batch disagree on the first axis, or
   *     batches disagree on the names
   */
  public static TensorExamples fromBatches(List<Map<String, Tensor>> batches) {
    List<Map<String, Tensor>> out = new ArrayList<>();
    for (Map<String, Tensor> b : batches) {
      long n = -1;
      for (Tensor t : b.values()) {
        if (t.rank() == 0) {
          throw new IllegalArgumentException("tensor '" + t.name() + "' has no batch axis");
        }
        if (n >= 0 && t.dim(0) != n) {
          throw new IllegalArgumentException(
              "tensors of one batch disagree on the first axis: '"
                  + t.name()
                  + "' has "
                  + t.dim(0)
                  + ", others "
                  + n);
        }
        n = t.dim(0);
      }
      if (!out.isEmpty() && !out.get(0).keySet().equals(b.keySet())) {
        throw new IllegalArgumentException(
            "batches disagree on names: " + out.get(0).keySet() + " vs " + b.keySet());
      }
      for (int i = 0; i < n; i++) {
        Map<String, Tensor> ex = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : b.entrySet()) {
          ex.put(e.getKey(), row(e.getValue(), i));
        }
        out.add(ex);
      }
    }
    return new TensorExamples(out);
  }

  /** Splits whole tensors (all with the same first axis) into examples. */
  public static TensorExamples of(Map<String, Tensor> tensors) {
    return fromBatches(List.of(tensors));
  }

  /** The examples' names. */
  public java.util.Set<String> names() {
    return examples.get(0).keySet();
  }

  /** Example {@code i}. */
  public Map<String, Tensor> example(int i) {
    return examples.get(i);
  }

  /** The examples at {@code indices} as a new source (e.g. a held-out split). */
  public TensorExamples subset(int[] indices) {
    List<Map<String, Tensor>> out = new ArrayList<>();
    for (int i : indices) {
      out.add(examples.get(i));
    }
    return new TensorExamples(out);
  }

  @Override
  public int size() {
    return examples.size();
  }

  @Override
  public Map<String, Tensor> batch(int[] indices) {
    if (indices.length == 0) {
      throw new IllegalArgumentException("empty batch");
    }
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (String name : examples.get(0).keySet()) {
      List<Tensor> parts = new ArrayList<>(indices.length);
      for (int i : indices) {
        parts.add(examples.get(i).get(name));
      }
      out.put(name, stack(name, parts));
    }
    return out;
  }

  private static Tensor row(Tensor t, int i) {
    long[] shape = t.shape();
    int rowBytes = Math.toIntExact(t.byteSize() / shape[0]);
    ByteBuffer src = t.data();
    src.position(i * rowBytes).limit((i + 1) * rowBytes);
    ByteBuffer dst = ByteBuffer.allocate(rowBytes).order(ByteOrder.LITTLE_ENDIAN);
    dst.put(src).flip();
    shape[0] = 1;
    return Tensor.of(t.name(), t.dtype(), shape, dst);
  }

  private static Tensor stack(String name, List<Tensor> parts) {
    Tensor first = parts.get(0);
    DataType type = first.dtype();
    long[] shape = first.shape();
    long maxLen = shape.length >= 2 ? shape[1] : 0;
    for (Tensor t : parts) {
      long[] s = t.shape();
      boolean sameTail =
          s.length == shape.length
              && (s.length < 3 || Arrays.equals(s, 2, s.length, shape, 2, shape.length));
      if (t.dtype() != type || !sameTail || (s.length < 2 && !Arrays.equals(s, shape))) {
        throw new IllegalArgumentException(
            "examples of '"
                + name
                + "' do not stack: "
                + first.dtype()
                + Arrays.toString(shape)
                + " vs "
                + t.dtype()
                + Arrays.toString(s));
      }
      if (s.length >= 2) {
        maxLen = Math.max(maxLen, s[1]);
      }
    }
    long[] out = shape.clone();
    out[0] = parts.size();
    if (shape.length >= 2) {
      out[1] = maxLen;
    }
    int exampleBytes = Math.toIntExact(type.byteSize(Tensor.elementCount(out) / parts.size()));
    ByteBuffer dst =
        ByteBuffer.allocate(Math.multiplyExact(exampleBytes, parts.size()))
            .order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < parts.size(); i++) {
      dst.position(i * exampleBytes); // zero padding where an example is shorter
      dst.put(parts.get(i).data());
    }
    dst.position(0);
    return Tensor.of(name, type, out, dst);
  }
}
