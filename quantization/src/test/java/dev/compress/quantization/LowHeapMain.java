package dev.compress.quantization;

import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.onnx.OnnxReader;
import dev.compress.api.io.onnx.OnnxWriter;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassContext;
import dev.compress.quantization.fp8.Fp8Config;
import dev.compress.quantization.fp8.Fp8Format;
import dev.compress.quantization.fp8.Fp8Pass;
import dev.compress.quantization.grid.Granularity;
import dev.compress.quantization.ptq.DynamicPtqConfig;
import dev.compress.quantization.ptq.DynamicPtqPass;
import dev.compress.quantization.rtn.RtnConfig;
import dev.compress.quantization.rtn.RtnPass;
import java.nio.file.Path;

/**
 * Reads a model, applies one data-free pass and writes the result: the work of {@code compress run}
 * without the CLI, for {@link LowHeapTest}'s small-heap JVM.
 */
public final class LowHeapMain {
  private LowHeapMain() {}

  /**
   * {@code PASS MODEL OUT}, PASS one of {@code rtn8-embeddings}, {@code rtn4}, {@code
   * ptq-dynamic-embeddings}, {@code fp8}.
   */
  public static void main(String[] args) throws Exception {
    ModelGraph model = OnnxReader.read(Path.of(args[1]));
    LayerSelection all = LayerSelection.ALL;
    Pass<?> pass =
        switch (args[0]) {
          case "rtn8-embeddings" ->
              new RtnPass(new RtnConfig(all, 8, Granularity.PER_CHANNEL, 0, true, true));
          case "rtn4" -> new RtnPass(new RtnConfig(all, 4, Granularity.PER_GROUP, 32, false, true));
          case "ptq-dynamic-embeddings" -> new DynamicPtqPass(new DynamicPtqConfig(all, true));
          case "fp8" -> new Fp8Pass(new Fp8Config(all, Fp8Format.E4M3FN, true, false, true));
          default -> throw new IllegalArgumentException("unknown pass " + args[0]);
        };
    pass.apply(model, PassContext.of(0));
    OnnxWriter.write(model, Path.of(args[2]));
  }
}
