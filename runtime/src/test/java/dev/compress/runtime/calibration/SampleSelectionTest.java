package dev.compress.runtime.calibration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class SampleSelectionTest {
  private static final List<Integer> TEN = IntStream.range(0, 10).boxed().toList();

  @Test
  void shuffleIsPinnedToJavaUtilRandom() {
    // Golden values: a change here changes which samples every recorded seed selects.
    assertThat(SampleSelection.take(TEN, 4, true, 42)).containsExactly(4, 6, 2, 1);
    assertThat(SampleSelection.take(TEN, 4, true, 0)).containsExactly(4, 8, 9, 6);
  }

  @Test
  void withoutShuffleTakesTheHead() {
    assertThat(SampleSelection.take(TEN, 3, false, 42)).containsExactly(0, 1, 2);
    assertThat(SampleSelection.take(TEN, 10, true, 7)).containsExactlyInAnyOrderElementsOf(TEN);
  }

  @Test
  void spreadCoversTheWholeList() {
    assertThat(SampleSelection.spread(TEN, 3)).containsExactly(0, 3, 6);
    assertThat(SampleSelection.spread(TEN, 10)).containsExactlyElementsOf(TEN);
  }

  @Test
  void tooManyIsRejected() {
    assertThatThrownBy(() -> SampleSelection.take(TEN, 11, false, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("cannot take 11 of 10 samples");
  }
}
