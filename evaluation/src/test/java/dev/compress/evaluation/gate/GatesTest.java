package dev.compress.evaluation.gate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.ConfigException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GatesTest {
  static final List<String> KNOWN = List.of("cosine.mean", "cosine.min", "latency.b1.ratio");

  @Test
  void parsesEveryOperator() throws Exception {
    assertThat(Gate.parse("m", ">= 0.99")).isEqualTo(new Gate("m", Gate.Op.GE, 0.99));
    assertThat(Gate.parse("m", "<=1.0")).isEqualTo(new Gate("m", Gate.Op.LE, 1.0));
    assertThat(Gate.parse("m", " > -2.5e-3 ")).isEqualTo(new Gate("m", Gate.Op.GT, -2.5e-3));
    assertThat(Gate.parse("m", "<.5")).isEqualTo(new Gate("m", Gate.Op.LT, 0.5));
    assertThat(Gate.parse("m", ">= 0.99").describe()).isEqualTo(">= 0.99");
  }

  @Test
  void boundsAreInclusiveOrStrictAsWritten() throws Exception {
    assertThat(Gate.parse("m", ">= 1").passes(1.0)).isTrue();
    assertThat(Gate.parse("m", "> 1").passes(1.0)).isFalse();
    assertThat(Gate.parse("m", "<= 1").passes(1.0)).isTrue();
    assertThat(Gate.parse("m", "< 1").passes(1.0)).isFalse();
    assertThat(Gate.parse("m", "< 1").passes(Double.NaN)).isFalse();
  }

  @Test
  void malformedExpressionsNameTheKey() {
    for (String bad : List.of("0.99", ">= ", ">= abc", ">= NaN", ">= 1d", "== 1")) {
      assertThatThrownBy(() -> Gate.parse("cosine.mean", bad))
          .isInstanceOf(ConfigException.class)
          .hasMessage(
              "evaluate.gates.cosine.mean must be an operator (>=, <=, >, <) followed by a"
                  + " number, e.g. \">= 0.99\"; found '"
                  + bad
                  + "'");
    }
  }

  @Test
  void unknownMetricsAndBadBoundsAreListedTogether() {
    assertThatThrownBy(
            () ->
                Gates.parse(
                    Map.of("cosine.mena", ">= 0.99", "cosine.min", "high", "cosine.mean", ">= 0.9"),
                    KNOWN))
        .isInstanceOf(ConfigException.class)
        .satisfies(
            e ->
                assertThat(((ConfigException) e).problems())
                    .containsExactly(
                        "evaluate.gates.cosine.mena: unknown metric; did you mean 'cosine.mean'?",
                        "evaluate.gates.cosine.min must be an operator (>=, <=, >, <) followed by"
                            + " a number, e.g. \">= 0.99\"; found 'high'"));
  }

  @Test
  void misspelledOperatorsGetTheLikelyBound() {
    for (String bad : List.of("> = 0.98", "=> 0.98", ">=0.98 x")) {
      String expected = bad.equals(">=0.98 x") ? "" : "; did you mean '>= 0.98'?";
      assertThatThrownBy(() -> Gate.parse("cosine.min", bad))
          .hasMessage(
              "evaluate.gates.cosine.min must be an operator (>=, <=, >, <) followed by a"
                  + " number, e.g. \">= 0.99\"; found '"
                  + bad
                  + "'"
                  + expected);
    }
  }

  @Test
  void unknownMetricsSuggestOrSayWhichBatchSizeIsNotMeasured() {
    assertThat(Gates.unknown("cosin.min", KNOWN))
        .isEqualTo("evaluate.gates.cosin.min: unknown metric; did you mean 'cosine.min'?");
    assertThat(Gates.unknown("latency.b8.ratio", KNOWN))
        .isEqualTo(
            "evaluate.gates.latency.b8.ratio: batch size 8 is not measured"
                + " (evaluate.latencyBatchSizes: [1]); add 8 to evaluate.latencyBatchSizes or gate"
                + " a measured batch size");
    assertThat(Gates.unknown("latency.b1.ratio", List.of("cosine.mean")))
        .contains("batch size 1 is not measured (evaluate.latencyBatchSizes: none)");
    assertThat(Gates.unknown("throughput", KNOWN))
        .isEqualTo("evaluate.gates.throughput: unknown metric; this evaluation measures " + KNOWN);
  }

  @Test
  void failuresSayValueAndBound() throws Exception {
    List<Gate> gates =
        Gates.parse(
            Map.of("cosine.mean", ">= 0.99", "cosine.min", ">= 0.9", "latency.b1.ratio", "<= 1.0"),
            KNOWN);
    assertThat(gates)
        .extracting(Gate::metric)
        .containsExactly("cosine.mean", "cosine.min", "latency.b1.ratio");
    Map<String, Double> metrics =
        Map.of("cosine.mean", 0.98123456, "cosine.min", 0.95, "latency.b1.ratio", 1.0);
    assertThat(Gates.failures(gates, metrics))
        .containsExactly("cosine.mean = 0.981235 fails gate >= 0.99");
    assertThat(Gates.failures(gates, Map.of("cosine.mean", 1.0, "cosine.min", 1.0)))
        .containsExactly("latency.b1.ratio was not measured; fails gate <= 1");
  }
}
