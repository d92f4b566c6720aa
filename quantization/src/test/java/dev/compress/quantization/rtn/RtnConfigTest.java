package dev.compress.quantization.rtn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.PassProvider;
import dev.compress.quantization.grid.Granularity;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

class RtnConfigTest {
  @Test
  void rejectsBadBitsAndGroupSizesNamingTheKey() {
    assertThatThrownBy(() -> new RtnConfig(null, 3, Granularity.PER_CHANNEL, 0, true))
        .isInstanceOf(InvalidConfigException.class)
        .hasMessage("bits must be 4 or 8, found 3");
    assertThatThrownBy(() -> new RtnConfig(null, 4, Granularity.PER_GROUP, 48, true))
        .hasMessage("groupSize must be 32, 64 or 128 for PER_GROUP, found 48");
    assertThatThrownBy(() -> new RtnConfig(null, 4, Granularity.PER_CHANNEL, 7, true))
        .hasMessage("groupSize must be 0, 32, 64 or 128, found 7");
    assertThatThrownBy(() -> new RtnConfig(null, 4, null, 128, true))
        .hasMessage("granularity must be PER_CHANNEL or PER_GROUP, found null");
  }

  @Test
  void listsEveryProblemAtOnce() {
    assertThatThrownBy(() -> new RtnConfig(null, 2, Granularity.PER_GROUP, 100, false))
        .isInstanceOfSatisfying(
            InvalidConfigException.class,
            e ->
                assertThat(e.problems())
                    .containsExactly(
                        "bits must be 4 or 8, found 2",
                        "groupSize must be 32, 64 or 128 for PER_GROUP, found 100"));
  }

  @Test
  void rejectsEightBitGroupsWithAReasonAndAHint() {
    assertThatThrownBy(() -> new RtnConfig(null, 8, Granularity.PER_GROUP, 128, true))
        .hasMessageStartingWith("bits=8 with granularity PER_GROUP is not supported")
        .hasMessageContaining("HINT: use PER_CHANNEL for 8 bits, or bits=4 for groups");
  }

  @Test
  void accuracyLevelIsCheckedAndOnlyForMatMulNBits() {
    assertThat(new RtnConfig(null, 4, Granularity.PER_GROUP, 32, true).accuracyLevel()).isZero();
    assertThat(
            new RtnConfig(null, 4, Granularity.PER_GROUP, 32, true, false, ClipMethod.NONE, 4)
                .accuracyLevel())
        .isEqualTo(4);
    assertThatThrownBy(
            () ->
                new RtnConfig(null, 4, Granularity.PER_GROUP, 32, true, false, ClipMethod.NONE, 7))
        .hasMessageStartingWith("accuracyLevel must be 0 (unset), 1 (fp32), 2 (fp16)")
        .hasMessageEndingWith("found 7");
    assertThatThrownBy(
            () ->
                new RtnConfig(null, 8, Granularity.PER_CHANNEL, 0, true, false, ClipMethod.NONE, 4))
        .hasMessage(
            "accuracyLevel applies to MatMulNBits output only; found accuracyLevel=4 with bits=8"
                + " (written as DequantizeLinear)");
  }

  @Test
  void nullSelectionMeansAllAndEmbeddingsDefaultOff() {
    RtnConfig c = new RtnConfig(null, 4, Granularity.PER_GROUP, 32, false);
    assertThat(c.selection()).isEqualTo(LayerSelection.ALL);
    assertThat(c.embeddings()).isFalse();
    assertThat(c.effectiveGroupSize(256)).isEqualTo(32);
    assertThat(new RtnConfig(null, 8, Granularity.PER_CHANNEL, 0, true).effectiveGroupSize(384))
        .isEqualTo(384);
  }

  @Test
  void providerIsRegisteredWithValidDefaults() {
    PassProvider<?> p =
        ServiceLoader.load(PassProvider.class).stream()
            .map(ServiceLoader.Provider::get)
            .filter(x -> x.type().equals("rtn-quantization"))
            .findFirst()
            .orElseThrow();
    assertThat(p.configType()).isEqualTo(RtnConfig.class);
    assertThat(p.needsCalibration()).isFalse();
    RtnConfig d = (RtnConfig) p.defaults();
    assertThat(d)
        .isEqualTo(new RtnConfig(LayerSelection.ALL, 8, Granularity.PER_CHANNEL, 128, true));
    assertThat(p.parameters())
        .extracting(PassProvider.ParamDoc::name)
        .containsExactly(
            "bits", "granularity", "groupSize", "symmetric", "embeddings", "clip", "accuracyLevel");
    assertThat(((RtnProvider) p).create(d)).isInstanceOf(RtnPass.class);
  }
}
