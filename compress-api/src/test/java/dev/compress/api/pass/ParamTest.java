package dev.compress.api.pass;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Help text from {@link Param} and the selection part of the builders. */
class ParamTest {
  record Demo(
      LayerSelection selection,
      @Param("how many, > 0") int count,
      String undocumented,
      @Param("a or b") String mode)
      implements PassConfig {
    Demo {
      selection = selection == null ? LayerSelection.ALL : selection;
      InvalidConfigException.throwIfAny(
          count > 0 ? List.of() : List.of("count must be > 0, found " + count));
    }

    static final class Builder extends SelectionBuilder<Demo, Builder> {
      Builder() {
        super(new Demo(LayerSelection.ALL, 1, "", "a"));
      }

      Builder count(int v) {
        return set("count", v);
      }
    }
  }

  @Test
  void parametersAreTheAnnotatedComponentsInOrderWithoutTheSelection() {
    PassProvider<Demo> p =
        new PassProvider<>() {
          @Override
          public String type() {
            return "demo";
          }

          @Override
          public String description() {
            return "";
          }

          @Override
          public Class<Demo> configType() {
            return Demo.class;
          }

          @Override
          public Demo defaults() {
            return new Demo.Builder().build();
          }

          @Override
          public boolean needsCalibration() {
            return false;
          }

          @Override
          public Pass<Demo> create(Demo config) {
            throw new UnsupportedOperationException();
          }
        };
    assertThat(p.parameters())
        .containsExactly(
            new PassProvider.ParamDoc("count", "how many, > 0"),
            new PassProvider.ParamDoc("undocumented", ""),
            new PassProvider.ParamDoc("mode", "a or b"));
  }

  @Test
  void selectionAndOtherProblemsAreReportedTogetherAtBuild() {
    Demo.Builder b = new Demo.Builder().targets("re:(").ignore("").count(0); // nothing thrown yet
    InvalidConfigException x = catchThrowableOfType(InvalidConfigException.class, b::build);
    assertThat(x.problems()).hasSize(3);
    assertThat(x.problems().get(0)).startsWith("targets[0] is not a valid regex");
    assertThat(x.problems().get(1))
        .isEqualTo("ignore[0] must be a layer name or re:REGEX, found ''");
    assertThat(x.problems().get(2)).isEqualTo("count must be > 0, found 0");
    Demo ok = new Demo.Builder().targets("re:.*fc.*").ignore("fc2").count(3).build();
    assertThat(ok.selection()).isEqualTo(new LayerSelection(List.of("re:.*fc.*"), List.of("fc2")));
    assertThat(ok.count()).isEqualTo(3);
  }
}
