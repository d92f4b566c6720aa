package dev.compress.evaluation.sensitivity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.ConfigException;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProbeTest {
  @Test
  void commasSweepAKeyAndTwoSweptKeysGiveEveryCombination() throws Exception {
    List<Probe> p = Probe.parse("wanda sparsity=0.3,0.5 pattern=unstructured,2:4");
    assertThat(p)
        .extracting(Probe::label)
        .containsExactly(
            "wanda sparsity=0.3 pattern=unstructured",
            "wanda sparsity=0.3 pattern=2:4",
            "wanda sparsity=0.5 pattern=unstructured",
            "wanda sparsity=0.5 pattern=2:4");
    assertThat(p.get(0).params().get("sparsity")).isEqualTo(0.3);
    assertThat(Probe.parse("gptq bits=4").get(0).params().get("bits")).isEqualTo(4L);
    assertThat(Probe.parse("rtn-quantization symmetric=false").get(0).params())
        .containsEntry("symmetric", false);
    assertThat(Probe.parse("  magnitude-pruning  "))
        .extracting(Probe::label)
        .containsExactly("magnitude-pruning");
  }

  @Test
  void malformedProbesNameTheOption() {
    assertThatThrownBy(() -> Probe.parse("sparsity=0.5"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("--probe 'sparsity=0.5': must start with a pass type");
    assertThatThrownBy(() -> Probe.parse("wanda sparsity"))
        .hasMessageContaining("'sparsity' must be KEY=VALUE");
    assertThatThrownBy(() -> Probe.parse("wanda sparsity=0.3,,0.5"))
        .hasMessageContaining("sparsity has an empty value");
    assertThatThrownBy(() -> Probe.parse("wanda targets=re:.*"))
        .hasMessageContaining("targets is set per unit by the analysis");
    assertThatThrownBy(() -> Probe.parse("wanda sparsity=0.3 sparsity=0.5"))
        .hasMessageContaining("sparsity is given twice");
  }
}
