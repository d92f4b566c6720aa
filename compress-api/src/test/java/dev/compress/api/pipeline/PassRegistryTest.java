package dev.compress.api.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.ConfigException;
import dev.compress.api.pass.PassProvider;
import java.util.List;
import org.junit.jupiter.api.Test;

class PassRegistryTest {
  @Test
  void findsProvidersThroughServiceLoaderSortedByType() throws Exception {
    PassRegistry r = PassRegistry.load();
    assertThat(r.types()).containsExactly("needs-calibration", "needs-teacher", "scale-weights");
    assertThat(r.find("scale-weights")).get().isInstanceOf(ScaleWeightsProvider.class);
    assertThat(r.require("needs-calibration", "passes[0].type"))
        .isInstanceOf(CalibratedProvider.class);
    assertThat(r.forConfig(ScaleWeightsConfig.DEFAULTS).map(PassProvider::type))
        .contains("scale-weights");
  }

  @Test
  void unknownTypeListsKnownOnes() {
    assertThatThrownBy(() -> PassRegistry.load().require("foo", "passes[1].type"))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "passes[1].type: unknown pass 'foo'; known: [needs-calibration, needs-teacher, scale-weights]");
  }

  @Test
  void twoProvidersOfOneTypeAreRefused() {
    PassProvider<?> a = new ScaleWeightsProvider();
    PassProvider<?> b =
        new CalibratedProvider() {
          @Override
          public String type() {
            return "scale-weights";
          }
        };
    assertThatThrownBy(() -> PassRegistry.of(List.of(a, b)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("two pass providers register type 'scale-weights'");
  }
}
