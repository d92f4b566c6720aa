package dev.compress.pruning.magnitude;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.PassProvider;
import dev.compress.pruning.magnitude.MagnitudePruningConfig.Scope;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

class MagnitudePruningConfigTest {
  @Test
  void sparsityMustBeInZeroOne() {
    assertThatThrownBy(() -> new MagnitudePruningConfig(null, 1.5, Scope.PER_LAYER))
        .isInstanceOf(InvalidConfigException.class)
        .hasMessage("sparsity must be in [0, 1), found 1.5");
    assertThatThrownBy(() -> new MagnitudePruningConfig(null, 1.0, Scope.GLOBAL))
        .hasMessage("sparsity must be in [0, 1), found 1.0");
    assertThatThrownBy(() -> new MagnitudePruningConfig(null, -0.1, Scope.GLOBAL))
        .hasMessage("sparsity must be in [0, 1), found -0.1");
    assertThatThrownBy(() -> new MagnitudePruningConfig(null, Double.NaN, Scope.GLOBAL))
        .hasMessage("sparsity must be in [0, 1), found NaN");
    assertThat(new MagnitudePruningConfig(null, 0.0, Scope.GLOBAL).sparsity()).isZero();
  }

  @Test
  void listsEveryProblem() {
    assertThatThrownBy(() -> new MagnitudePruningConfig(null, 2, null))
        .isInstanceOfSatisfying(
            InvalidConfigException.class,
            e ->
                assertThat(e.problems())
                    .containsExactly(
                        "sparsity must be in [0, 1), found 2.0",
                        "scope must be PER_LAYER or GLOBAL, found null"));
  }

  @Test
  void providerIsRegistered() {
    PassProvider<?> p =
        ServiceLoader.load(PassProvider.class).stream()
            .map(ServiceLoader.Provider::get)
            .filter(x -> x.type().equals("magnitude-pruning"))
            .findFirst()
            .orElseThrow();
    assertThat(p.configType()).isEqualTo(MagnitudePruningConfig.class);
    assertThat(p.defaults())
        .isEqualTo(new MagnitudePruningConfig(LayerSelection.ALL, 0.5, Scope.PER_LAYER));
    assertThat(p.parameters())
        .extracting(PassProvider.ParamDoc::name)
        .containsExactly("sparsity", "scope", "pattern");
    assertThat(p.needsCalibration()).isFalse();
    assertThat(
            ((MagnitudePruningProvider) p)
                .create(new MagnitudePruningConfig(null, 0.3, Scope.GLOBAL)))
        .isInstanceOf(MagnitudePruningPass.class);
  }
}
