package dev.compress.pruning.magnitude;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.PassProvider;
import dev.compress.pruning.magnitude.MagnitudePruningConfig.Scope;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

class MagnitudePruningConfigTest {
  @Test
  void sparsityMustBeInZeroOne() {
    assertThatThrownBy(
            () -> MagnitudePruningConfig.builder().sparsity(1.5).scope(Scope.PER_LAYER).build())
        .isInstanceOf(InvalidConfigException.class)
        .hasMessage("sparsity must be in [0, 1), found 1.5");
    assertThatThrownBy(
            () -> MagnitudePruningConfig.builder().sparsity(1.0).scope(Scope.GLOBAL).build())
        .hasMessage("sparsity must be in [0, 1), found 1.0");
    assertThatThrownBy(
            () -> MagnitudePruningConfig.builder().sparsity(-0.1).scope(Scope.GLOBAL).build())
        .hasMessage("sparsity must be in [0, 1), found -0.1");
    assertThatThrownBy(
            () -> MagnitudePruningConfig.builder().sparsity(Double.NaN).scope(Scope.GLOBAL).build())
        .hasMessage("sparsity must be in [0, 1), found NaN");
    assertThat(
            MagnitudePruningConfig.builder().sparsity(0.0).scope(Scope.GLOBAL).build().sparsity())
        .isZero();
  }

  @Test
  void listsEveryProblem() {
    assertThatThrownBy(() -> MagnitudePruningConfig.builder().sparsity(2).scope(null).build())
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
        .isEqualTo(MagnitudePruningConfig.builder().sparsity(0.5).scope(Scope.PER_LAYER).build());
    assertThat(p.parameters())
        .extracting(PassProvider.ParamDoc::name)
        .containsExactly("sparsity", "scope", "pattern");
    assertThat(p.needsCalibration()).isFalse();
    assertThat(
            ((MagnitudePruningProvider) p)
                .create(MagnitudePruningConfig.builder().sparsity(0.3).scope(Scope.GLOBAL).build()))
        .isInstanceOf(MagnitudePruningPass.class);
  }
}
