package dev.compress.pruning.structured;

import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.BuiltinModels;
import dev.compress.api.io.onnx.OnnxReader;
import dev.compress.api.io.onnx.OnnxWriter;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.tensor.Tensor;
import dev.compress.runtime.ort.OrtExecutor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dependency rules on the real all-MiniLM-L6-v2 export (Reshape to [b, s, 12, 32] through
 * Concat shape constants): six head groups and six neuron groups, the hidden width and the pooler
 * refused with their reasons, and a data-free cut to 60% of the linear FLOPs that ONNX Runtime
 * runs. The fidelity table (with calibration) is the {@code StructuredMiniLm} benchmark.
 */
class StructuredMiniLmTest {
  @TempDir Path tmp;

  @Test
  void groupsOnTheExportAndADataFreeCutRunsInOnnxRuntime() throws Exception {
    Path file = BuiltinModels.resolve("builtin:all-minilm-l6-v2");
    ModelGraph m = OnnxReader.read(file);
    DependencyGroups dg = DependencyGroups.of(m);
    assertThat(dg.groups()).hasSize(12);
    for (DependencyGroup g : dg.groups()) {
      if (g.kind() == DependencyGroup.Kind.HEADS) {
        assertThat(g.units()).isEqualTo(12);
        assertThat(g.unitSize()).isEqualTo(32);
        assertThat(g.sources()).hasSize(3); // q, k, v
        assertThat(g.shapes()).hasSize(4); // three [12] entries, one [384]
      } else {
        assertThat(g.units()).isEqualTo(1536);
        assertThat(g.name()).endsWith("/output/dense/MatMul");
      }
    }
    assertThat(dg.refused().get("/encoder/layer.0/output/dense/MatMul"))
        .contains("hidden-size cut refused")
        .contains("(ReduceMean)");
    assertThat(dg.refused().get("/pooler/dense/Gemm")).contains("graph output");
    assertThat(dg.unfollowable()).isEmpty();

    PassReport r =
        new StructuredPruningPass(
                StructuredPruningConfig.builder()
                    .budget(StructuredPruningConfig.Budget.FLOPS)
                    .kept(0.6)
                    .importance(StructuredPruningConfig.Importance.WEIGHT_NORM)
                    .rescale(StructuredPruningConfig.Rescale.NONE)
                    .biasCompensation(false)
                    .damping(0)
                    .removed(Map.of())
                    .build())
            .apply(m, PassContext.of(0));
    assertThat(r.metrics().get("linear_flops_kept_fraction")).isBetween(0.59, 0.6);
    Path out = tmp.resolve("pruned.onnx");
    OnnxWriter.write(m, out);
    assertThat(Files.size(out)).isLessThan((long) (0.85 * Files.size(file)));
    long[] ids = {101, 7592, 2088, 102};
    Map<String, Tensor> in =
        Map.of(
            "input_ids", Tensor.ofLongs("input_ids", new long[] {1, 4}, ids),
            "attention_mask", Tensor.ofLongs("attention_mask", new long[] {1, 4}, 1, 1, 1, 1),
            "token_type_ids", Tensor.ofLongs("token_type_ids", new long[] {1, 4}, 0, 0, 0, 0));
    try (OrtExecutor ort = OrtExecutor.builder().setModelPath(out).optIntraOpThreads(1).build()) {
      assertThat(ort.forward(in).get("output_0").shape()).containsExactly(1, 4, 384);
    }
  }
}
