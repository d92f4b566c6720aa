package dev.compress.evaluation.engine;

import dev.compress.api.ConfigException;
import java.util.Arrays;
import java.util.Locale;

/** The engines a model can be measured on. */
public enum EngineKind {
  /** ONNX Runtime (Java API; CPU, or CUDA with the onnxruntime_gpu jar): the deployment number. */
  ONNXRUNTIME("onnxruntime"),
  /** The project's DJL PyTorch interpreter of the graph (CPU, or a GPU DJL finds). */
  DJL("djl");

  private final String id;

  EngineKind(String id) {
    this.id = id;
  }

  /** The name used in configs and on the command line. */
  public String id() {
    return id;
  }

  /**
   * The engine named {@code name} ({@code onnxruntime}, {@code ort}, {@code djl}).
   *
   * @param key the config key or option that named it, for the message
   * @throws ConfigException for an unknown name
   */
  public static EngineKind parse(String name, String key) throws ConfigException {
    String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
    if (n.equals("ort")) {
      return ONNXRUNTIME;
    }
    for (EngineKind k : values()) {
      if (k.id.equals(n)) {
        return k;
      }
    }
    throw new ConfigException(
        key
            + " must be one of "
            + Arrays.stream(values()).map(EngineKind::id).toList()
            + ", found '"
            + name
            + "'");
  }
}
