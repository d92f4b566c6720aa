package dev.compress.calibration.blocks;

import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.layers.LinearLayers;
import dev.compress.api.layers.TransformerBlocks;
import dev.compress.api.pass.PassContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Time per block of block-sequential calibration on a stack of residual blocks ({@link
 * StackedBlocks}): the cached, segmented scheme against rerunning the whole prefix for every block
 * (the scheme it replaced), interleaved in one run. A benchmark, never part of the test suite:
 *
 * <pre>
 * java -cp ... dev.compress.calibration.blocks.BlockCalibrationBench [blocks] [hidden] [batches]
 * </pre>
 */
public final class BlockCalibrationBench {
  private BlockCalibrationBench() {}

  public static void main(String[] args) throws Exception {
    int blocks = args.length > 0 ? Integer.parseInt(args[0]) : 12;
    int d = args.length > 1 ? Integer.parseInt(args[1]) : 384;
    int batches = args.length > 2 ? Integer.parseInt(args[2]) : 4;
    CalibrationSet cal = StackedBlocks.calibration(batches, 8, 64, d, 7);
    PassContext ctx = PassContext.of(0);
    for (int round = 0; round < 2; round++) { // round 0 warms up
      double[] cached = cached(blocks, d, cal, ctx);
      double[] prefix = prefix(blocks, d, cal, ctx);
      if (round == 0) {
        continue;
      }
      System.out.printf(
          Locale.ROOT,
          "%d blocks, hidden %d, %d batches of 8 x 64 tokens; ms per block%n",
          blocks,
          d,
          batches);
      System.out.println("block  cached  prefix-rerun");
      double sc = 0;
      double sp = 0;
      for (int b = 0; b < blocks; b++) {
        System.out.printf(Locale.ROOT, "%5d  %6.1f  %12.1f%n", b, cached[b], prefix[b]);
        sc += cached[b];
        sp += prefix[b];
      }
      System.out.printf(Locale.ROOT, "total  %6.1f  %12.1f  (ratio %.2f)%n", sc, sp, sp / sc);
    }
  }

  private static double[] cached(int blocks, int d, CalibrationSet cal, PassContext ctx)
      throws Exception {
    ModelGraph m = StackedBlocks.build(blocks, d, 1);
    List<TransformerBlocks.Block> bs =
        TransformerBlocks.of(LinearLayers.of(m.graph()), StackedBlocks.PATTERN);
    List<Long> ticks = new ArrayList<>();
    ticks.add(System.nanoTime());
    new BlockSequentialCalibrator(m, ctx)
        .run(
            cal,
            bs,
            (block, hs) -> {
              ticks.add(System.nanoTime());
              return Map.of();
            });
    double[] ms = new double[blocks];
    for (int b = 0; b < blocks; b++) {
      ms[b] = (ticks.get(b + 1) - ticks.get(b)) / 1e6;
    }
    return ms;
  }

  private static double[] prefix(int blocks, int d, CalibrationSet cal, PassContext ctx)
      throws Exception {
    ModelGraph m = StackedBlocks.build(blocks, d, 1);
    List<TransformerBlocks.Block> bs =
        TransformerBlocks.of(LinearLayers.of(m.graph()), StackedBlocks.PATTERN);
    double[] ms = new double[blocks];
    BlockSequentialCalibrator c = new BlockSequentialCalibrator(m, ctx);
    for (int b = 0; b < blocks; b++) {
      long t0 = System.nanoTime();
      c.capture(cal, bs.get(b).layers()); // the whole prefix up to block b, as before
      ms[b] = (System.nanoTime() - t0) / 1e6;
    }
    return ms;
  }
}
