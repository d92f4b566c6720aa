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
    assertThatThrownBy(
            () ->
                RtnConfig.builder()
                    .bits(3)
                    .granularity(Granularity.PER_CHANNEL)
                    .groupSize(0)
                    .symmetric(true)
                    .build())
        .isInstanceOf(InvalidConfigException.class)
        .hasMessage("bits must be 4 or 8, found 3");
    assertThatThrownBy(
            () ->
                RtnConfig.builder()
                    .bits(4)
                    .granularity(Granularity.PER_GROUP)
                    .groupSize(48)
                    .symmetric(true)
                    .build())
        .hasMessage("groupSize must be 32, 64 or 128 for PER_GROUP, found 48");
    assertThatThrownBy(
            () ->
                RtnConfig.builder()
                    .bits(4)
                    .granularity(Granularity.PER_CHANNEL)
                    .groupSize(7)
                    .symmetric(true)
                    .build())
        .hasMessage("groupSize must be 0, 32, 64 or 128, found 7");
    assertThatThrownBy(
            () ->
                RtnConfig.builder()
                    .bits(4)
                    .granularity(null)
                    .groupSize(128)
                    .symmetric(true)
                    .build())
        .hasMessage("granularity must be PER_CHANNEL or PER_GROUP, found null");
  }

  @Test
  void listsEveryProblemAtOnce() {
    assertThatThrownBy(
            () ->
                RtnConfig.builder()
                    .bits(2)
                    .granularity(Granularity.PER_GROUP)
                    .groupSize(100)
                    .symmetric(false)
                    .build())
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
    assertThatThrownBy(
            () ->
                RtnConfig.builder()
                    .bits(8)
                    .granularity(Granularity.PER_GROUP)
                    .groupSize(128)
                    .symmetric(true)
                    .build())
        .hasMessageStartingWith("bits=8 with granularity PER_GROUP is not supported")
        .hasMessageContaining("HINT: use PER_CHANNEL for 8 bits, or bits=4 for groups");
  }

  @Test
  void accuracyLevelIsCheckedAndOnlyForMatMulNBits() {
    assertThat(
            RtnConfig.builder()
                .bits(4)
                .granularity(Granularity.PER_GROUP)
                .groupSize(32)
                .symmetric(true)
                .build()
                .accuracyLevel())
        .isZero();
    assertThat(
            RtnConfig.builder()
                .bits(4)
                .granularity(Granularity.PER_GROUP)
                .groupSize(32)
                .symmetric(true)
                .embeddings(false)
                .clip(ClipMethod.NONE)
                .accuracyLevel(4)
                .build()
                .accuracyLevel())
        .isEqualTo(4);
    assertThatThrownBy(
            () ->
                RtnConfig.builder()
                    .bits(4)
                    .granularity(Granularity.PER_GROUP)
                    .groupSize(32)
                    .symmetric(true)
                    .embeddings(false)
                    .clip(ClipMethod.NONE)
                    .accuracyLevel(7)
                    .build())
        .hasMessageStartingWith("accuracyLevel must be 0 (unset), 1 (fp32), 2 (fp16)")
        .hasMessageEndingWith("found 7");
    assertThatThrownBy(
            () ->
                RtnConfig.builder()
                    .bits(8)
                    .granularity(Granularity.PER_CHANNEL)
                    .groupSize(0)
                    .symmetric(true)
                    .embeddings(false)
                    .clip(ClipMethod.NONE)
                    .accuracyLevel(4)
                    .build())
        .hasMessage(
            "accuracyLevel applies to MatMulNBits output only; found accuracyLevel=4 with bits=8"
                + " (written as DequantizeLinear)");
  }

  @Test
  void nullSelectionMeansAllAndEmbeddingsDefaultOff() {
    RtnConfig c =
        RtnConfig.builder()
            .bits(4)
            .granularity(Granularity.PER_GROUP)
            .groupSize(32)
            .symmetric(false)
            .build();
    assertThat(c.selection()).isEqualTo(LayerSelection.ALL);
    assertThat(c.embeddings()).isFalse();
    assertThat(c.effectiveGroupSize(256)).isEqualTo(32);
    assertThat(
            RtnConfig.builder()
                .bits(8)
                .granularity(Granularity.PER_CHANNEL)
                .groupSize(0)
                .symmetric(true)
                .build()
                .effectiveGroupSize(384))
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
        .isEqualTo(
            RtnConfig.builder()
                .bits(8)
                .granularity(Granularity.PER_CHANNEL)
                .groupSize(128)
                .symmetric(true)
                .build());
    assertThat(p.parameters())
        .extracting(PassProvider.ParamDoc::name)
        .containsExactly(
            "bits", "granularity", "groupSize", "symmetric", "embeddings", "clip", "accuracyLevel");
    assertThat(((RtnProvider) p).create(d)).isInstanceOf(RtnPass.class);
  }
}
