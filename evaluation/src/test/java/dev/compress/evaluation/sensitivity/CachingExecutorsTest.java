package dev.compress.evaluation.sensitivity;

import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.api.calibration.CalibrationIdentity;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.exec.Device;
import dev.compress.api.exec.Executor;
import dev.compress.api.exec.ExecutorFactory;
import dev.compress.api.exec.ForwardResult;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.tensor.Tensor;
import dev.compress.evaluation.TinyModels;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The shared calibration activations: served only where exact, equal to the engine's values. */
class CachingExecutorsTest {
  static Tensor x(long seed) {
    Random r = new Random(seed);
    float[] v = new float[5 * 4];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) r.nextGaussian();
    }
    return Tensor.ofFloats("x", new long[] {5, 4}, v);
  }

  @Test
  void aPristineCopyIsServedFromTheCacheAndAChangedWeightIsNot() throws Exception {
    ModelGraph m = TinyModels.mlp(0f);
    Map<String, Tensor> batch = Map.of("x", x(1));
    CalibrationSet cal =
        new CalibrationSet(
            List.of(batch), new CalibrationIdentity("t", "tensors", 1, 0, 0, false, "x"));
    ExecutorFactory engine = ExecutorFactory.capturing();
    CachingExecutors c = new CachingExecutors(engine, m, Optional.of(cal));
    Set<String> fc2 = Set.of("/fc2/MatMul");
    ForwardResult first;
    try (Executor e = c.create(m.copy(), Device.CPU)) {
      first = e.forward(batch, fc2);
    }
    assertThat(c.misses()).isEqualTo(1);
    ForwardResult again;
    try (Executor e = c.create(m.copy(), Device.CPU)) {
      again = e.forward(batch, fc2);
    }
    assertThat(c.hits()).isEqualTo(1);
    ForwardResult reference;
    try (Executor e = engine.create(m, Device.CPU)) {
      reference = e.forward(batch, fc2);
    }
    float[] want = reference.activation("/fc2/MatMul").toFloatArray();
    assertThat(first.activation("/fc2/MatMul").toFloatArray()).containsExactly(want);
    assertThat(again.activation("/fc2/MatMul").toFloatArray()).containsExactly(want);
    assertThat(again.output("y").toFloatArray())
        .containsExactly(reference.output("y").toFloatArray());

    // a probe that changed W1 upstream: its fc2 input differs, so nothing is served
    ModelGraph changed = m.copy();
    float[] w1 = changed.graph().initializers().get("W1").toFloatArray();
    w1[0] += 1f;
    changed.graph().putInitializer(Tensor.ofFloats("W1", new long[] {4, 6}, w1));
    try (Executor e = c.create(changed, Device.CPU)) {
      e.forward(batch, fc2);
    }
    assertThat(c.hits()).isEqualTo(1);
    // and a feed that is not a calibration tensor is not served either
    try (Executor e = c.create(m.copy(), Device.CPU)) {
      e.forward(Map.of("x", x(1)), fc2);
    }
    assertThat(c.hits()).isEqualTo(1);
  }
}
