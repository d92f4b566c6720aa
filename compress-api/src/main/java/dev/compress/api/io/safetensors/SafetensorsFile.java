package dev.compress.api.io.safetensors;

import dev.compress.api.tensor.Tensor;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;

/**
 * The contents of a safetensors file: its tensors by name and its {@code __metadata__} strings.
 *
 * <p>Tensors read by {@link SafetensorsReader} are read-only slices of memory-mapped regions of the
 * file, not heap copies. There is nothing to close: a mapping stays valid after the reader has
 * closed the file and is released when its buffers become unreachable (the JDK offers no explicit
 * unmap on release 21). The file must not be truncated or rewritten in place while its tensors are
 * in use; replacing it by rename, as {@link SafetensorsWriter} does, is safe.
 *
 * @param path the file that was read
 * @param tensors tensors by name, in the order of their bytes in the data section (unmodifiable)
 * @param metadata the {@code __metadata__} strings in header order, empty if the file has none
 *     (unmodifiable)
 */
public record SafetensorsFile(
    Path path, Map<String, Tensor> tensors, Map<String, String> metadata) {

  /** Copies the maps, keeping their iteration order. */
  public SafetensorsFile {
    Objects.requireNonNull(path, "path");
    tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
    metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
  }

  /**
   * The tensor called {@code name}.
   *
   * @throws NoSuchElementException naming the file and the tensor when there is none
   */
  public Tensor tensor(String name) {
    Tensor t = tensors.get(name);
    if (t == null) {
      throw new NoSuchElementException(path + ": no tensor " + HeaderParser.quote(name));
    }
    return t;
  }
}
