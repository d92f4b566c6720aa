package dev.compress.quantization.qat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.ConfigException;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.ProgressListener;
import dev.compress.api.tensor.Tensor;
import dev.compress.fixtures.Calibration;
import dev.compress.fixtures.TinyModels;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Bad qat input: one line each, naming the key and the value found; nothing trained or written. */
class QatConfigTest {

  @Test
  void bitsOutsideFourAndEightAreNamed() {
    assertThatThrownBy(() -> QatConfig.builder().weights(3, 128, false).build())
        .isInstanceOf(InvalidConfigException.class)
        .hasMessage("bits must be 4 or 8, found 3");
  }

  @Test
  void aLearningRateThatIsNotPositiveIsNamed() {
    assertThatThrownBy(() -> QatConfig.builder().lr(0).build())
        .hasMessage("lr must be > 0, found 0.0");
    assertThatThrownBy(() -> QatConfig.builder().lr(-1e-4).build())
        .hasMessage("lr must be > 0, found -1.0E-4");
  }

  @Test
  void combinationsTheFormatsCannotHoldAreNamed() {
    assertThatThrownBy(() -> QatConfig.builder().weights(4, 48, false).build())
        .hasMessage("groupSize must be 32, 64 or 128 for per_group, found 48");
    assertThatThrownBy(
            () ->
                QatConfig.builder()
                    .weights(4, 128, false)
                    .activations(true, false, "minmax")
                    .build())
        .hasMessage(
            "activations: true (W8A8, written as QDQ) needs bits=8 and granularity per_channel,"
                + " found bits=4 per_group");
    assertThatThrownBy(
            () -> QatConfig.builder().weights(4, 128, false).scaleInit(ScaleInit.LSQ).build())
        .hasMessage(
            "scaleInit lsq (2 mean|w| / sqrt(Q_P)) is defined for symmetric grids; found symmetric:"
                + " false. HINT: scaleInit: rtn, or symmetric: true");
  }

  private static PassContext context(ModelGraph teacher) {
    return new PassContext(
        0,
        Optional.of(Calibration.tensors("x", 4, 1, 8, 48)),
        Optional.of(teacher),
        ProgressListener.NONE);
  }

  @Test
  void aGroupSizeThatDoesNotDivideALayerIsNamedBeforeTraining() {
    ModelGraph m = TinyModels.mlp(48, 64, 32, 3); // fc1 reads 48 features
    Tensor w1 = m.graph().initializers().get("W1");
    QatPass pass = new QatPass(QatConfig.builder().weights(4, 32, false).build());
    assertThatThrownBy(() -> pass.apply(m, context(m.copy())))
        .isInstanceOf(ConfigException.class)
        .hasMessage("layer '/fc1/MatMul': groupSize 32 does not divide its 48 input features");
    assertThat(m.graph().initializers().get("W1")).isSameAs(w1);
  }

  @Test
  void aSelectionThatMatchesNoLayerIsNamed() {
    ModelGraph m = TinyModels.mlp(64, 64, 32, 3);
    QatPass unmatched =
        new QatPass(
            QatConfig.builder()
                .selection(new LayerSelection(List.of("re:.*attention.*"), List.of()))
                .build());
    assertThatThrownBy(() -> unmatched.apply(m, context(m.copy())))
        .isInstanceOf(ConfigException.class)
        .hasMessage("targets[0] 're:.*attention.*' matches no linear layer");
    QatPass none =
        new QatPass(
            QatConfig.builder().selection(new LayerSelection(List.of(), List.of("re:.*"))).build());
    assertThatThrownBy(() -> none.apply(m, context(m.copy())))
        .hasMessage(
            "targets/ignore: no linear layer selected (the model has 2 linear layers); qat needs"
                + " at least one");
  }
}
