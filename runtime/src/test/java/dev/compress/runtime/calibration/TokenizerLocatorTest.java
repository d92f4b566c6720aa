package dev.compress.runtime.calibration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where a model given by path finds its tokenizer. */
class TokenizerLocatorTest {
  @Test
  void findsTheModelNamedTokenizerBesideTheModel(@TempDir Path dir) throws Exception {
    Path model = Files.writeString(dir.resolve("all-minilm-l6-v2.onnx"), "x");
    Path tok = Files.writeString(dir.resolve("all-minilm-l6-v2-tokenizer.json"), "{}");
    assertThat(TokenizerLocator.find(model.toString(), model)).contains(tok.toAbsolutePath());
    assertThat(TokenizerLocator.locate(model.toString(), model)).isEqualTo(tok.toAbsolutePath());
  }

  @Test
  void findsTokenizerJsonBesideTheModel(@TempDir Path dir) throws Exception {
    Path model = Files.writeString(dir.resolve("model.onnx"), "x");
    Path tok = Files.writeString(dir.resolve("tokenizer.json"), "{}");
    assertThat(TokenizerLocator.find(model.toString(), model)).contains(tok.toAbsolutePath());
  }

  @Test
  void theModelNamedOneWinsOverTokenizerJson(@TempDir Path dir) throws Exception {
    Path model = Files.writeString(dir.resolve("bge.onnx"), "x");
    Files.writeString(dir.resolve("tokenizer.json"), "{}");
    Path named = Files.writeString(dir.resolve("bge-tokenizer.json"), "{}");
    assertThat(TokenizerLocator.find(model.toString(), model)).contains(named.toAbsolutePath());
  }

  @Test
  void anExplicitFileIsUsedAndMustExist(@TempDir Path dir) throws Exception {
    Path model = Files.writeString(dir.resolve("m.onnx"), "x");
    Files.writeString(dir.resolve("tokenizer.json"), "{}");
    Path other = Files.writeString(dir.resolve("elsewhere.json"), "{}");
    assertThat(TokenizerLocator.find(model.toString(), model, other.toString(), "--tokenizer"))
        .contains(other);
    assertThatThrownBy(
            () ->
                TokenizerLocator.find(
                    model.toString(), model, dir.resolve("nope.json").toString(), "--tokenizer"))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("--tokenizer: tokenizer file ")
        .hasMessageContaining("nope.json does not exist");
  }

  @Test
  void aMissingTokenizerIsOneLineNamingWhatWasLookedFor(@TempDir Path dir) throws Exception {
    Path model = Files.writeString(dir.resolve("all-minilm-l6-v2.onnx"), "x");
    assertThat(TokenizerLocator.find(model.toString(), model)).isEmpty();
    assertThatThrownBy(
            () -> TokenizerLocator.locate(model.toString(), model, "", "calibration.tokenizer"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(dir.resolve("all-minilm-l6-v2-tokenizer.json").toString())
        .hasMessageContaining(dir.resolve("tokenizer.json").toString())
        .hasMessageContaining("calibration.tokenizer")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
  }
}
