package dev.compress.runtime.calibration;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.calibration.CalibrationIdentity;
import dev.compress.api.calibration.CalibrationLoader;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.calibration.CalibrationSpec;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.io.BuiltinModels;
import dev.compress.api.io.safetensors.SafetensorsFile;
import dev.compress.api.io.safetensors.SafetensorsReader;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * {@code calibration.kind: tensors}: ready model inputs from a safetensors file.
 *
 * <p>The file holds one tensor per model input, named after the input, with a leading sample
 * dimension of the same size {@code N} in every tensor: {@code input_ids (N, seq)}, {@code
 * pixel_values (N, 3, 224, 224)}. Tensors the model does not take are ignored. Element types must
 * be the ones the model declares, and fixed dimensions after the first must match. Sample indices
 * {@code 0..N-1} are shuffled with the seed when {@code shuffle} is set ({@link
 * SampleSelection#take}); the first {@code samples} are batched, {@code batchSize} per batch.
 *
 * <p>The identity's SHA-256 runs over the samples used, in order; for each sample, the bytes of its
 * row of every input tensor, in the model's input order. {@code sequenceLength} does not apply and
 * is recorded as 0. Registered as a {@link CalibrationLoader} service.
 */
public final class TensorFileCalibrationLoader implements CalibrationLoader {
  /** For {@link java.util.ServiceLoader}. */
  public TensorFileCalibrationLoader() {}

  @Override
  public boolean supports(CalibrationSpec spec) {
    return "tensors".equals(spec.kind());
  }

  @Override
  public CalibrationSet load(
      CalibrationSpec spec, ModelGraph model, Path modelFile, String modelSpec)
      throws CompressionException {
    if (!supports(spec)) {
      throw new IllegalArgumentException("not a tensors calibration spec: kind " + spec.kind());
    }
    String source = spec.source();
    if (BuiltinModels.isBuiltin(source)) {
      throw new ConfigException(
          "calibration.source: kind tensors needs a safetensors file; there is no built-in tensor"
              + " data (found "
              + source
              + ")");
    }
    Path file = Path.of(source);
    if (!Files.exists(file)) {
      throw new ConfigException("calibration.source: file not found: " + source);
    }
    SafetensorsFile st;
    try {
      st = SafetensorsReader.read(file);
    } catch (IOException e) {
      throw new CompressionException(
          "calibration.source: cannot read " + source + ": " + e.getMessage(), e);
    }

    List<ValueInfo> feeds = model.graph().feedInputs();
    if (feeds.isEmpty()) {
      throw new ConfigException("calibration.kind: tensors, but the model declares no inputs");
    }
    List<String> problems = new ArrayList<>();
    long n = -1;
    for (ValueInfo v : feeds) {
      Tensor t = st.tensors().get(v.name());
      if (t == null) {
        problems.add(
            "calibration.source: "
                + source
                + " has no tensor '"
                + v.name()
                + "' for model input "
                + v.typeString()
                + "; it holds "
                + st.tensors().keySet());
        continue;
      }
      String label = "calibration.source: tensor '" + v.name() + "' in " + source;
      if (t.dtype() == DataType.STRING || t.dtype().isPacked()) {
        problems.add(label + " is " + t.dtype() + "; packed and string tensors cannot be fed");
        continue;
      }
      if (v.elemType().isPresent() && v.elemType().get() != t.dtype()) {
        problems.add(label + " is " + t.dtype() + " but the model declares " + v.typeString());
      }
      if (t.rank() < 1) {
        problems.add(label + " is a scalar; it needs a leading sample dimension");
        continue;
      }
      if (v.shape() != null) {
        if (v.shape().size() != t.rank()) {
          problems.add(
              label
                  + " has shape "
                  + t.shapeString()
                  + " but the model declares "
                  + v.typeString());
        } else {
          for (int d = 1; d < t.rank(); d++) {
            long want = v.shape().get(d).value();
            if (want >= 0 && want != t.dim(d)) {
              problems.add(
                  label
                      + " has shape "
                      + t.shapeString()
                      + " but the model declares "
                      + v.typeString());
              break;
            }
          }
        }
      }
      if (n < 0) {
        n = t.dim(0);
      } else if (t.dim(0) != n) {
        problems.add(
            label + " has " + t.dim(0) + " samples (first dimension) but other inputs have " + n);
      }
    }
    if (problems.isEmpty() && spec.samples() > n) {
      problems.add(
          "calibration.samples: "
              + spec.samples()
              + " requested but "
              + source
              + " has only "
              + n
              + " samples");
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }

    List<Integer> all = IntStream.range(0, Math.toIntExact(n)).boxed().toList();
    List<Integer> used = SampleSelection.take(all, spec.samples(), spec.shuffle(), spec.seed());
    MessageDigest md = TextSamples.newSha256();
    for (int i : used) {
      for (ValueInfo v : feeds) {
        md.update(row(st.tensor(v.name()), i));
      }
    }
    List<Map<String, Tensor>> batches = new ArrayList<>();
    for (int from = 0; from < used.size(); from += spec.batchSize()) {
      List<Integer> chunk = used.subList(from, Math.min(used.size(), from + spec.batchSize()));
      Map<String, Tensor> batch = new LinkedHashMap<>();
      for (ValueInfo v : feeds) {
        batch.put(v.name(), gather(st.tensor(v.name()), chunk));
      }
      batches.add(batch);
    }
    CalibrationIdentity identity =
        new CalibrationIdentity(
            source,
            "tensors",
            used.size(),
            0,
            spec.seed(),
            spec.shuffle(),
            HexFormat.of().formatHex(md.digest()));
    return new CalibrationSet(batches, identity);
  }

  /** The bytes of sample {@code i} (a read-only view). */
  private static ByteBuffer row(Tensor t, int i) {
    long rowBytes = t.byteSize() / t.dim(0);
    ByteBuffer data = t.data();
    return data.slice(Math.toIntExact(i * rowBytes), Math.toIntExact(rowBytes));
  }

  /** Rows {@code idx} of {@code t}, stacked: {@code (idx.size(), t.shape[1:]...)}. */
  private static Tensor gather(Tensor t, List<Integer> idx) {
    long rowBytes = t.byteSize() / t.dim(0);
    ByteBuffer out =
        ByteBuffer.allocate(Math.toIntExact(rowBytes * idx.size())).order(ByteOrder.LITTLE_ENDIAN);
    for (int i : idx) {
      out.put(row(t, i));
    }
    out.flip();
    long[] shape = Arrays.copyOf(t.shape(), t.rank());
    shape[0] = idx.size();
    return Tensor.of(t.name(), t.dtype(), shape, out);
  }
}
