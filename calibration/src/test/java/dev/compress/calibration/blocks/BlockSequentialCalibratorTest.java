package dev.compress.calibration.blocks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.api.CompressionException;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.exec.Device;
import dev.compress.api.exec.Executor;
import dev.compress.api.exec.ExecutorFactory;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.layers.LinearLayers;
import dev.compress.api.layers.TransformerBlocks;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.ProgressListener;
import dev.compress.api.tensor.Tensor;
import dev.compress.calibration.hessian.HessianAccumulator;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The segmented, cached calibration gives the same Hessians, float for float, as rerunning the
 * whole prefix of the model for every block (the scheme it replaces).
 */
class BlockSequentialCalibratorTest {
  private static final int D = 16;
  private static final int BLOCKS = 5;

  /** Rounds every weight to a multiple of 1/8: a stand-in for quantization. */
  private static float[] rounded(LinearLayer l, ModelGraph m) {
    float[] stored = m.graph().initializers().get(l.weight()).toFloatArray();
    int out = (int) l.outFeatures();
    int in = (int) l.inFeatures();
    float[] outByIn = new float[stored.length];
    for (int o = 0; o < out; o++) {
      for (int i = 0; i < in; i++) {
        outByIn[o * in + i] = Math.round(stored[i * out + o] * 8) / 8f; // MatMul: stored (in, out)
      }
    }
    return outByIn;
  }

  @Test
  void cachedBlockInputsGiveTheSameHessiansAsRerunningThePrefix() throws Exception {
    CalibrationSet cal = StackedBlocks.calibration(3, 4, 6, D, 7);
    PassContext ctx = PassContext.of(0);
    List<Integer> executorSizes = new ArrayList<>(); // nodes of each executor the calibrator built
    ExecutorFactory djl = ExecutorFactory.capturing();
    PassContext counting =
        new PassContext(
            0,
            Optional.empty(),
            Optional.empty(),
            ProgressListener.NONE,
            new ExecutorFactory() {
              @Override
              public String engine() {
                return djl.engine();
              }

              @Override
              public boolean supportsCapture() {
                return true;
              }

              @Override
              public boolean available(Device device) {
                return djl.available(device);
              }

              @Override
              public Executor create(ModelGraph model, Device device) throws CompressionException {
                executorSizes.add(model.graph().nodes().size());
                return djl.create(model, device);
              }
            },
            Device.CPU);

    ModelGraph linear = StackedBlocks.build(BLOCKS, D, 1);
    Map<String, double[]> got = new LinkedHashMap<>();
    Map<String, Long> tokens = new HashMap<>();
    List<TransformerBlocks.Block> blocks =
        TransformerBlocks.of(LinearLayers.of(linear.graph()), StackedBlocks.PATTERN);
    assertThat(blocks).hasSize(BLOCKS);
    BlockSequentialCalibrator c = new BlockSequentialCalibrator(linear, counting);
    c.run(
        cal,
        blocks,
        (block, hs) -> {
          assertThat(hs.get(block.id() + "/q/MatMul")).isSameAs(hs.get(block.id() + "/k/MatMul"));
          Map<String, float[]> w = new HashMap<>();
          for (LinearLayer l : block.layers()) {
            got.put(l.name(), hs.get(l.name()).hessian());
            tokens.put(l.name(), hs.get(l.name()).tokens());
            w.put(l.name(), rounded(l, linear));
          }
          return w;
        });

    // one capture run per block, one run to advance per boundary, each over at most one block's
    // nodes (8, plus the Constant and, in the first, the 2 mask nodes) of the 43
    assertThat(executorSizes).hasSize(2 * BLOCKS - 1);
    assertThat(executorSizes).allMatch(n -> n <= 11, "at most 11 nodes: " + executorSizes);

    // the reference: for each block, one run of the whole current model, earlier blocks rounded
    ModelGraph ref = StackedBlocks.build(BLOCKS, D, 1);
    List<TransformerBlocks.Block> refBlocks =
        TransformerBlocks.of(LinearLayers.of(ref.graph()), StackedBlocks.PATTERN);
    for (TransformerBlocks.Block block : refBlocks) {
      Map<String, HessianAccumulator> hs =
          new BlockSequentialCalibrator(ref, ctx).capture(cal, block.layers());
      for (LinearLayer l : block.layers()) {
        assertThat(got.get(l.name())).as(l.name()).containsExactly(hs.get(l.name()).hessian());
        float[] r = rounded(l, ref);
        int out = (int) l.outFeatures();
        int in = (int) l.inFeatures();
        float[] stored = new float[r.length];
        for (int o = 0; o < out; o++) {
          for (int i = 0; i < in; i++) {
            stored[i * out + o] = r[o * in + i];
          }
        }
        Tensor old = ref.graph().initializers().get(l.weight());
        ref.graph().putInitializer(Tensor.ofFloats(l.weight(), old.shape(), stored));
      }
    }
    // padding is left out: 3 batches x (6 + 5 + 4 + 3) real tokens of 4 x 6
    assertThat(tokens.get("/layer.3/o/MatMul")).isEqualTo(3 * 18);
    // the model keeps the rounded weights until restore
    assertThat(c.originals()).hasSize(3 * BLOCKS);
    Tensor rounded = linear.graph().initializers().get("/layer.0/q.weight");
    c.restore();
    assertThat(linear.graph().initializers().get("/layer.0/q.weight")).isNotSameAs(rounded);
    assertThat(linear.graph().initializers().get("/layer.0/q.weight").toFloatArray())
        .containsExactly(
            StackedBlocks.build(BLOCKS, D, 1)
                .graph()
                .initializers()
                .get("/layer.0/q.weight")
                .toFloatArray());
  }
}
