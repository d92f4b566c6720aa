package dev.compress.api.io.onnx;

import dev.compress.api.CorruptCheckpointException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Set;

/**
 * Recognizes files that are not ONNX models at all before they are decoded, so a tokenizer.json or
 * a PyTorch checkpoint given by mistake is named as what it is ("not an ONNX model (JSON text
 * ...)") instead of failing deep in the protobuf decoder ("wire type 3 (protobuf groups)").
 *
 * <p>An ONNX file is a binary {@code ModelProto}: exporters write {@code ir_version} (field 1)
 * first and every tag starts with a control byte, so text never looks like one. The checks: known
 * magic numbers (zip, pickle, HDF5, GGUF, safetensors), text (no control bytes in the first bytes),
 * and a first protobuf tag whose field number {@code ModelProto} does not have. Everything else (a
 * wrong wire type, a truncated file, a model without a graph) is left to the decoder's own
 * messages.
 */
final class NotOnnx {
  private NotOnnx() {}

  /**
   * ModelProto's field numbers (ir_version 1 ... graph 7, opset_import 8, ... configuration 26).
   */
  private static final Set<Integer> MODEL_FIELDS = Set.of(1, 2, 3, 4, 5, 6, 7, 8, 14, 20, 25, 26);

  private static final int TEXT_PREFIX = 64;

  /** Throws when {@code content} (the whole file, position 0) is recognizably not ONNX. */
  static void check(Path file, ByteBuffer content) throws CorruptCheckpointException {
    int size = content.limit();
    if (size == 0) {
      return; // the decoder says "model has no graph"
    }
    String what = magic(content);
    if (what == null) {
      what = text(content);
    }
    if (what == null) {
      what = firstTag(content);
    }
    if (what != null) {
      throw new CorruptCheckpointException(
          file, -1, "not an ONNX model (" + what + "; an ONNX model is a binary ModelProto)");
    }
  }

  private static String magic(ByteBuffer b) {
    int size = b.limit();
    if (startsWith(b, 'P', 'K', 3, 4)) {
      return "a zip archive: a PyTorch .pt/.pth checkpoint, a .jar or an .npz?";
    }
    if (size >= 2 && (b.get(0) & 0xff) == 0x80 && b.get(1) >= 2 && b.get(1) <= 5) {
      return "a Python pickle: a PyTorch checkpoint?";
    }
    if (startsWith(b, 0x89, 'H', 'D', 'F')) {
      return "an HDF5 file: a Keras .h5 model?";
    }
    if (startsWith(b, 'G', 'G', 'U', 'F')) {
      return "a GGUF file (llama.cpp)";
    }
    if (size >= 9 && b.get(8) == '{') {
      long header = b.getLong(0); // safetensors: u64 little-endian header length, then JSON
      if (header > 1 && header <= size - 8) {
        return "a safetensors file: weights without a graph";
      }
    }
    return null;
  }

  private static String text(ByteBuffer b) {
    int n = Math.min(b.limit(), TEXT_PREFIX);
    int first = -1;
    for (int i = 0; i < n; i++) {
      int c = b.get(i) & 0xff;
      if (c >= 0x80) { // UTF-8: a lead byte and its continuation bytes, or no text at all
        int more =
            c >= 0xC2 && c <= 0xDF
                ? 1
                : c >= 0xE0 && c <= 0xEF ? 2 : c >= 0xF0 && c <= 0xF4 ? 3 : -1;
        if (more < 0) {
          return null;
        }
        for (int k = 1; k <= more && i + k < n; k++) {
          if ((b.get(i + k) & 0xC0) != 0x80) {
            return null;
          }
        }
        i += more;
        continue;
      }
      boolean textual = c >= 0x20 && c != 0x7f || c == '\t' || c == '\n' || c == '\r';
      if (!textual) {
        return null;
      }
      if (first < 0 && c != ' ' && c != '\t' && c != '\n' && c != '\r') {
        first = c;
      }
    }
    if (first < 0) {
      return null; // only white space: nothing to name
    }
    String kind =
        first == '{' || first == '['
            ? "JSON text"
            : first == '<' ? "XML or HTML text" : first == '#' ? "a text file" : "text";
    byte[] head = new byte[Math.min(n, 32)];
    b.get(0, head);
    String start =
        new String(head, StandardCharsets.UTF_8)
            .replaceAll("\\s+", " ")
            .replace("\uFFFD", "")
            .strip();
    return kind + " starting '" + start + (b.limit() > head.length ? "...'" : "'");
  }

  /** Why the first protobuf tag cannot start a ModelProto, or null when it can. */
  private static String firstTag(ByteBuffer b) {
    long tag = 0;
    int i = 0;
    for (int shift = 0; ; shift += 7) {
      if (i >= b.limit() || i >= 5) {
        return null; // too short or odd to judge here: the decoder names the problem
      }
      int c = b.get(i++) & 0xff;
      tag |= (long) (c & 0x7f) << shift;
      if ((c & 0x80) == 0) {
        break;
      }
    }
    int field = (int) (tag >>> 3);
    if (field == 0 || MODEL_FIELDS.contains(field)) {
      return null; // a ModelProto field (or an invalid tag): the decoder judges the rest
    }
    return "its first protobuf field is #"
        + field
        + " (wire type "
        + (tag & 7)
        + "), which ModelProto does not have";
  }

  private static boolean startsWith(ByteBuffer b, int... bytes) {
    if (b.limit() < bytes.length) {
      return false;
    }
    for (int i = 0; i < bytes.length; i++) {
      if ((b.get(i) & 0xff) != bytes[i]) {
        return false;
      }
    }
    return true;
  }
}
