package dev.compress.api;

import java.nio.file.Path;

/**
 * A checkpoint (ONNX, safetensors, external-data file) cannot be read: truncated, malformed, or
 * inconsistent. The message names the file and, where known, the byte offset or field.
 */
public class CorruptCheckpointException extends CompressionException {
  private static final long serialVersionUID = 1L;

  private final transient Path file;
  private final long offset;

  /**
   * @param file the file being read (may be null for in-memory data)
   * @param offset byte offset where the problem was found, or -1 if not applicable
   * @param detail what was found
   */
  public CorruptCheckpointException(Path file, long offset, String detail) {
    super(format(file, offset, detail));
    this.file = file;
    this.offset = offset;
  }

  /** As {@link #CorruptCheckpointException(Path, long, String)} with a cause. */
  public CorruptCheckpointException(Path file, long offset, String detail, Throwable cause) {
    super(format(file, offset, detail), cause);
    this.file = file;
    this.offset = offset;
  }

  private static String format(Path file, long offset, String detail) {
    String where = file == null ? "<memory>" : file.toString();
    return offset >= 0 ? where + " at byte " + offset + ": " + detail : where + ": " + detail;
  }

  /** The file being read, or null for in-memory data. */
  public Path file() {
    return file;
  }

  /** The byte offset of the problem, or -1. */
  public long offset() {
    return offset;
  }
}
