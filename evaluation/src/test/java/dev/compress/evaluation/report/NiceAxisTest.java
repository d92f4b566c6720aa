package dev.compress.evaluation.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Round axis ticks: 1, 2 or 5 times a power of ten, covering the data, inside [0, 1] if bounded.
 */
class NiceAxisTest {
  static boolean isNiceStep(double step) {
    double exp = Math.floor(Math.log10(step) + 1e-9);
    double f = step / Math.pow(10, exp);
    return List.of(1.0, 2.0, 5.0, 10.0).stream().anyMatch(n -> Math.abs(f - n) < 1e-6);
  }

  @ParameterizedTest
  @CsvSource({
    "0.97, 1.0, true",
    "0.9994, 1.0, true",
    "1.0, 1.0, true",
    "0.0, 0.02, true",
    "0.2, 0.8, true",
    "6.1, 11.9, false",
    "23.0, 90.0, false",
    "0.00012, 0.0031, false",
    "1234.0, 98765.0, false",
    "5.0, 5.0, false",
  })
  void ticksAreRoundCoverTheDataAndStayInTheUnitInterval(double min, double max, boolean unit) {
    NiceAxis a = NiceAxis.of(List.of(min, (min + max) / 2, max), unit, false);
    assertThat(isNiceStep(a.step())).as("step %s", a.step()).isTrue();
    assertThat(a.lo()).isLessThanOrEqualTo(min);
    assertThat(a.hi()).isGreaterThanOrEqualTo(max);
    assertThat(a.ticks()).hasSizeBetween(3, 12);
    assertThat(a.ticks().get(0)).isEqualTo(a.lo());
    assertThat(a.ticks().get(a.ticks().size() - 1)).isEqualTo(a.hi());
    for (double t : a.ticks()) {
      double k = t / a.step();
      assertThat(Math.abs(k - Math.rint(k)))
          .as("tick %s is a multiple of the step", t)
          .isLessThan(1e-6);
    }
    assertThat(a.labels()).hasSameSizeAs(a.ticks());
    if (unit) {
      assertThat(a.lo()).isGreaterThanOrEqualTo(0);
      assertThat(a.hi()).isLessThanOrEqualTo(1);
    }
  }

  @ParameterizedTest
  @CsvSource({"0.97, 1.0, 0.96|0.97|0.98|0.99|1.00", "0.5, 1.0, 0.4|0.5|0.6|0.7|0.8|0.9|1.0"})
  void unitIntervalAxesOfCosines(double min, double max, String labels) {
    NiceAxis a = NiceAxis.of(List.of(min, max), true, false);
    assertThat(String.join("|", a.labels())).isEqualTo(labels);
  }

  @ParameterizedTest
  @CsvSource({"0.012, 0.000|0.005|0.010|0.015", "0.31, 0.0|0.1|0.2|0.3|0.4"})
  void barAxesStartAtZero(double max, String labels) {
    NiceAxis a = NiceAxis.of(List.of(max / 3, max, Double.POSITIVE_INFINITY), false, true);
    assertThat(String.join("|", a.labels())).isEqualTo(labels);
  }
}
