package dev.compress.runtime.calibration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.ConfigException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class TextSamplesTest {
  static Path resource(String name) throws Exception {
    return Path.of(TextSamplesTest.class.getResource("/calibration/" + name).toURI());
  }

  @Test
  void readsLinesStrippedWithoutBlanks() throws Exception {
    List<String> s =
        TextSamples.read(resource("five-samples.txt").toString(), "calibration.source");
    assertThat(s)
        .containsExactly(
            "The first sample sentence is here.",
            "Second sample, with surrounding spaces.",
            "Third sample.",
            "Fourth sample about whales and ships.",
            "Fifth and last sample.");
    // sha256sum of the five lines written one per line
    assertThat(TextSamples.sha256(s))
        .isEqualTo("8dcb81918d73e1f05825242f4e6bfdcdc84d988adaa23b35a253b29fbc7614f4");
  }

  @Test
  void builtinSetsAreDisjointAndComplete() throws Exception {
    List<String> cal = TextSamples.read(BuiltinTextData.CALIBRATION_TEXT, "k");
    List<String> held = TextSamples.read(BuiltinTextData.HELDOUT_SENTENCES, "k");
    assertThat(cal).hasSize(1000).doesNotHaveDuplicates();
    assertThat(held).hasSize(300).doesNotHaveDuplicates();
    var overlap = new HashSet<>(cal);
    overlap.retainAll(held);
    assertThat(overlap).isEmpty();
    // the README's checksums of the shipped files (every line non-blank, so the same bytes)
    assertThat(TextSamples.sha256(cal))
        .isEqualTo("e56d7bd05def661073bcd2011e21313fe4dc3cd25d3b3e6d3d61a8aaa7957269");
    assertThat(TextSamples.sha256(held))
        .isEqualTo("effc808ca1c436a3f6846f625d0637a33b44a9496fbf93d4f85f6a7e55b9639c");
  }

  @Test
  void errorsNameTheKey() throws Exception {
    assertThatThrownBy(() -> TextSamples.read("x.txt", "calibration.source"))
        .isInstanceOf(ConfigException.class)
        .hasMessage("calibration.source: file not found: x.txt");
    assertThatThrownBy(() -> TextSamples.read("builtin:nope", "evaluate.data"))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "evaluate.data: unknown built-in data 'builtin:nope'; known: [builtin:calibration-text,"
                + " builtin:heldout-sentences, builtin:opinion-lexicon]");
    String bad = resource("not-utf8.txt").toString();
    assertThatThrownBy(() -> TextSamples.read(bad, "calibration.source"))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("calibration.source: " + bad + " is not UTF-8 text");
    String dir = resource("five-samples.txt").getParent().toString();
    assertThatThrownBy(() -> TextSamples.read(dir, "calibration.source"))
        .hasMessage("calibration.source: " + dir + " is not a regular file");
  }
}
