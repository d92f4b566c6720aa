package dev.compress.quantization.rtn;

import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.onnx.OnnxReader;
import dev.compress.api.io.onnx.OnnxWriter;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.PassContext;
import dev.compress.quantization.grid.Granularity;
import java.nio.file.Path;

/**
 * Reads a model, applies 8-bit per-channel RTN with {@code embeddings: true} and writes the result:
 * the work of {@code compress run} without the CLI, for {@link RtnLowHeapTest}'s small-heap JVM.
 */
public final class RtnLowHeapMain {
  private RtnLowHeapMain() {}

  /** {@code MODEL OUT}. */
  public static void main(String[] args) throws Exception {
    ModelGraph model = OnnxReader.read(Path.of(args[0]));
    RtnConfig cfg = new RtnConfig(LayerSelection.ALL, 8, Granularity.PER_CHANNEL, 0, true, true);
    new RtnPass(cfg).apply(model, PassContext.of(0));
    OnnxWriter.write(model, Path.of(args[1]));
  }
}
