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
              new RtnPass(
                  RtnConfig.builder()
                      .selection(all)
                      .bits(8)
                      .granularity(Granularity.PER_CHANNEL)
                      .groupSize(0)
                      .symmetric(true)
                      .embeddings(true)
                      .build());
          case "rtn4" ->
              new RtnPass(
                  RtnConfig.builder()
                      .selection(all)
                      .bits(4)
                      .granularity(Granularity.PER_GROUP)
                      .groupSize(32)
                      .symmetric(false)
                      .embeddings(true)
                      .build());
          case "ptq-dynamic-embeddings" ->
              new DynamicPtqPass(
                  DynamicPtqConfig.builder().selection(all).embeddings(true).build());
          case "fp8" ->
              new Fp8Pass(
                  Fp8Config.builder()
                      .selection(all)
                      .format(Fp8Format.E4M3FN)
                      .perChannel(true)
                      .activations(false)
                      .upgradeOpset(true)
                      .build());
          default -> throw new IllegalArgumentException("unknown pass " + args[0]);
        };
    pass.apply(model, PassContext.of(0));
    OnnxWriter.write(model, Path.of(args[2]));
  }
}
