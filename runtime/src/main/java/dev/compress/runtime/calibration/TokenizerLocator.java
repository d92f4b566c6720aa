package dev.compress.runtime.calibration;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.io.BuiltinModels;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Finds the tokenizer of a text model: a built-in model's own tokenizer.json (extracted from its
 * jar), otherwise the file {@value #FILE_NAME} in the model file's folder.
 */
public final class TokenizerLocator {
  /** The tokenizer expected beside a model given as a path. */
  public static final String FILE_NAME = "tokenizer.json";

  private TokenizerLocator() {}

  /**
   * The tokenizer.json for a model.
   *
   * @param modelSpec the model argument as given ({@code builtin:NAME} or a path)
   * @param modelFile the resolved model file
   * @throws ConfigException naming {@code model} and the expected path when there is no tokenizer
   *     beside the model
   * @throws CompressionException when a built-in model's tokenizer cannot be extracted
   */
  public static Path locate(String modelSpec, Path modelFile) throws CompressionException {
    if (BuiltinModels.isBuiltin(modelSpec)) {
      return BuiltinModels.tokenizer(modelSpec);
    }
    Path expected = modelFile.toAbsolutePath().resolveSibling(FILE_NAME);
    if (!Files.isRegularFile(expected)) {
      throw new ConfigException(
          "model: text data needs the model's tokenizer, expected at "
              + expected
              + ", which does not exist (HINT: copy the model's HuggingFace "
              + FILE_NAME
              + " beside "
              + modelFile.getFileName()
              + ")");
    }
    return expected;
  }
}
