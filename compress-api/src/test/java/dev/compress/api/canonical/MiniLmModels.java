package dev.compress.api.canonical;

import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.BuiltinModels;
import dev.compress.api.io.onnx.OnnxReader;
import java.nio.file.Files;
import java.nio.file.Path;

/** The two all-MiniLM-L6-v2 ONNX exports available to tests. */
public final class MiniLmModels {
  /** The export shipped by langchain4j 1.4.0-beta10: opset 14, IR 7, with the pooler. */
  public static final String OPSET14 = "opset14";

  /**
   * The export shipped by langchain4j 1.20.0-beta30: opset 11, IR 6, no pooler; unpacked into
   * {@code target/test-models} by the build.
   */
  public static final String OPSET11 = "opset11";

  private MiniLmModels() {}

  /** Reads the export named {@link #OPSET14} or {@link #OPSET11}. */
  public static ModelGraph read(String which) throws Exception {
    return OnnxReader.read(path(which));
  }

  /** The file of the export named {@link #OPSET14} or {@link #OPSET11}. */
  public static Path path(String which) throws Exception {
    return switch (which) {
      case OPSET14 -> BuiltinModels.extract("all-minilm-l6-v2.onnx");
      case OPSET11 -> {
        Path p = Path.of("target", "test-models", "minilm-opset11", "all-minilm-l6-v2.onnx");
        if (!Files.isRegularFile(p)) {
          throw new IllegalStateException(
              p + " is missing; HINT: run the build through the generate-test-resources phase");
        }
        yield p;
      }
      default -> throw new IllegalArgumentException(which);
    };
  }
}
