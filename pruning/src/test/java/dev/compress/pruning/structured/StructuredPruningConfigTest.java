package dev.compress.pruning.structured;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.PassProvider;
import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

class StructuredPruningConfigTest {
  @Test
  void listsEveryProblemNamingTheKey() {
    assertThatThrownBy(
            () ->
                new StructuredPruningConfig(
                    null, List.of(), null, 1.5, null, null, false, -1, Map.of("re:(", 0.5)))
        .isInstanceOfSatisfying(
            InvalidConfigException.class,
            e ->
                assertThat(e.problems())
                    .containsExactly(
                        "units must name heads and/or neurons, found []",
                        "budget must be flops or params, found null",
                        "kept must be in (0, 1] (the fraction of the budget kept), found 1.5",
                        "importance must be weight-norm, activation or fluctuation, found null",
                        "rescale must be none or least-squares, found null",
                        "damping must be >= 0, found -1.0",
                        "removed['re:('] is not a valid regex (Unclosed group)"));
  }

  @Test
  void providerIsRegisteredAndDocumentsEveryKey() {
    PassProvider<?> p =
        ServiceLoader.load(PassProvider.class).stream()
            .map(ServiceLoader.Provider::get)
            .filter(x -> x.type().equals("structured-pruning"))
            .findFirst()
            .orElseThrow();
    assertThat(p.configType()).isEqualTo(StructuredPruningConfig.class);
    assertThat(p.defaults()).isEqualTo(StructuredPruningConfig.defaults());
    List<String> keys =
        Arrays.stream(StructuredPruningConfig.class.getRecordComponents())
            .map(RecordComponent::getName)
            .filter(n -> !n.equals("selection"))
            .toList();
    assertThat(p.parameters()).extracting(PassProvider.ParamDoc::name).isEqualTo(keys);
    assertThat(p.needsCalibration()).isTrue();
  }
}
