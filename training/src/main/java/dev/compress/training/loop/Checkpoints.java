package dev.compress.training.loop;

import dev.compress.api.CompressionException;
import dev.compress.api.io.safetensors.SafetensorsFile;
import dev.compress.api.io.safetensors.SafetensorsReader;
import dev.compress.api.io.safetensors.SafetensorsWriter;
import dev.compress.api.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The checkpoint folder of a run: {@code checkpoint/} (resumable: {@code parameters.safetensors}
 * with the loop state in its metadata, {@code optimizer.safetensors}) and {@code best/} (the
 * parameters of the best validation). Each is written into a fresh temporary folder and renamed
 * into place, so an interrupted write leaves the previous checkpoint intact: a reader finds either
 * the new folder or the old one ({@code checkpoint.old} between the two renames).
 */
final class Checkpoints {
  static final String FORMAT = "compress-training-checkpoint-1";

  /** The loop state saved with the parameters. */
  record State(
      long step, long microBatches, long seed, double bestMetric, long bestStep, int badEvals) {
    Map<String, String> toMetadata() {
      Map<String, String> m = new LinkedHashMap<>();
      m.put("format", FORMAT);
      m.put("step", Long.toString(step));
      m.put("microBatches", Long.toString(microBatches));
      m.put("seed", Long.toString(seed));
      m.put("bestMetric", Double.toString(bestMetric));
      m.put("bestStep", Long.toString(bestStep));
      m.put("badEvals", Integer.toString(badEvals));
      return m;
    }

    static State fromMetadata(Path file, Map<String, String> m) throws CompressionException {
      if (!FORMAT.equals(m.get("format"))) {
        throw new CompressionException(
            file + " is not a training checkpoint (metadata format '" + m.get("format") + "')");
      }
      try {
        return new State(
            Long.parseLong(m.get("step")),
            Long.parseLong(m.get("microBatches")),
            Long.parseLong(m.get("seed")),
            Double.parseDouble(m.get("bestMetric")),
            Long.parseLong(m.get("bestStep")),
            Integer.parseInt(m.get("badEvals")));
      } catch (RuntimeException e) {
        throw new CompressionException(file + ": malformed checkpoint metadata " + m, e);
      }
    }
  }

  /** A loaded resumable checkpoint. */
  record Loaded(State state, Map<String, Tensor> parameters, Map<String, Tensor> optimizer) {}

  private final Path dir;

  Checkpoints(Path dir) {
    this.dir = dir;
  }

  Path dir() {
    return dir;
  }

  /** Writes the resumable checkpoint atomically. */
  void save(State s, Map<String, Tensor> params, Map<String, Tensor> optimizer)
      throws CompressionException {
    replace(
        "checkpoint",
        tmp -> {
          SafetensorsWriter.write(
              tmp.resolve("parameters.safetensors"), params.values(), s.toMetadata());
          SafetensorsWriter.write(tmp.resolve("optimizer.safetensors"), optimizer.values());
        });
  }

  /** Writes the best parameters atomically. */
  void saveBest(long step, double metric, Map<String, Tensor> params) throws CompressionException {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("step", Long.toString(step));
    m.put("metric", Double.toString(metric));
    replace(
        "best",
        tmp -> SafetensorsWriter.write(tmp.resolve("parameters.safetensors"), params.values(), m));
  }

  /** The resumable checkpoint, if the folder holds one. */
  Optional<Loaded> load() throws CompressionException {
    Path c = dir.resolve("checkpoint");
    if (!Files.isDirectory(c)) {
      c = dir.resolve("checkpoint.old");
      if (!Files.isDirectory(c)) {
        return Optional.empty();
      }
    }
    SafetensorsFile p = read(c.resolve("parameters.safetensors"));
    SafetensorsFile o = read(c.resolve("optimizer.safetensors"));
    return Optional.of(
        new Loaded(
            State.fromMetadata(p.path(), p.metadata()), heap(p.tensors()), heap(o.tensors())));
  }

  /** The best parameters, if saved. */
  Optional<Map<String, Tensor>> loadBest() throws CompressionException {
    Path f = dir.resolve("best").resolve("parameters.safetensors");
    return Files.isRegularFile(f) ? Optional.of(heap(read(f).tensors())) : Optional.empty();
  }

  private static SafetensorsFile read(Path f) throws CompressionException {
    try {
      return SafetensorsReader.read(f);
    } catch (IOException e) {
      throw new CompressionException("cannot read checkpoint " + f + ": " + e.getMessage(), e);
    }
  }

  /** Copies mapped tensors to the heap, so the files can be replaced while they are in use. */
  private static Map<String, Tensor> heap(Map<String, Tensor> in) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (Tensor t : in.values()) {
      java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate((int) t.byteSize());
      b.put(t.data()).flip();
      out.put(t.name(), Tensor.of(t.name(), t.dtype(), t.shape(), b));
    }
    return out;
  }

  interface Writer {
    void write(Path tmp) throws IOException;
  }

  private void replace(String name, Writer w) throws CompressionException {
    Path target = dir.resolve(name);
    Path old = dir.resolve(name + ".old");
    Path tmp = dir.resolve(name + ".tmp-" + System.nanoTime());
    try {
      Files.createDirectories(tmp);
      w.write(tmp);
      deleteTree(old);
      if (Files.exists(target)) {
        Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
      }
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      deleteTree(old);
    } catch (IOException e) {
      try {
        deleteTree(tmp);
      } catch (IOException ignored) {
        // the original error matters
      }
      throw new CompressionException("cannot write the " + name + " in " + dir + ": " + e, e);
    }
  }

  private static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> s = Files.walk(p)) {
      for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(q);
      }
    }
  }
}
