package dev.compress.runtime.calibration;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.io.BuiltinModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Finds the tokenizer of a text model, in this order:
 *
 * <ol>
 *   <li>a file named explicitly ({@code --tokenizer FILE}, {@code evaluate.tokenizer}, {@code
 *       calibration.tokenizer}), which must exist;
 *   <li>a built-in model's own tokenizer.json (extracted from its jar);
 *   <li>beside the model file: {@code <model name>-tokenizer.json} (the model's file name without
 *       {@code .onnx}: {@code all-minilm-l6-v2.onnx} → {@code all-minilm-l6-v2-tokenizer.json}),
 *       then {@value #FILE_NAME} (the name in a Hugging Face folder).
 * </ol>
 */
public final class TokenizerLocator {
  /** The tokenizer expected beside a model given as a path. */
  public static final String FILE_NAME = "tokenizer.json";

  private TokenizerLocator() {}

  /**
   * The files looked for beside {@code modelFile}, in order: {@code <model name>-tokenizer.json},
   * then {@value #FILE_NAME}.
   */
  public static List<Path> candidates(Path modelFile) {
    Path abs = modelFile.toAbsolutePath();
    String name = abs.getFileName().toString();
    String base =
        name.toLowerCase(Locale.ROOT).endsWith(".onnx")
            ? name.substring(0, name.length() - ".onnx".length())
            : name;
    return List.of(abs.resolveSibling(base + "-" + FILE_NAME), abs.resolveSibling(FILE_NAME));
  }

  /**
   * The model's tokenizer when there is one: a built-in model's own, else the first of {@link
   * #candidates} that exists.
   *
   * @param modelSpec the model argument as given ({@code builtin:NAME} or a path; may be null)
   * @param modelFile the resolved model file
   * @throws CompressionException when a built-in model's tokenizer cannot be extracted
   */
  public static Optional<Path> find(String modelSpec, Path modelFile) throws CompressionException {
    if (modelSpec != null && BuiltinModels.isBuiltin(modelSpec)) {
      return Optional.of(BuiltinModels.tokenizer(modelSpec));
    }
    return candidates(modelFile).stream().filter(Files::isRegularFile).findFirst();
  }

  /**
   * The tokenizer named by {@code explicit} when it is not empty (it must be a file), else {@link
   * #find}.
   *
   * @param key the option or config key that names a tokenizer ({@code --tokenizer}, {@code
   *     evaluate.tokenizer}), for messages
   * @throws ConfigException naming {@code key} when the explicit file does not exist
   */
  public static Optional<Path> find(String modelSpec, Path modelFile, String explicit, String key)
      throws CompressionException {
    if (explicit != null && !explicit.isBlank()) {
      Path p = Path.of(explicit);
      if (!Files.isRegularFile(p)) {
        throw new ConfigException(
            key
                + ": tokenizer file "
                + p
                + (Files.exists(p) ? " is not a regular file" : " does not exist"));
      }
      return Optional.of(p);
    }
    return find(modelSpec, modelFile);
  }

  /**
   * The tokenizer.json for a model, found by {@link #find(String, Path)}.
   *
   * @param modelSpec the model argument as given ({@code builtin:NAME} or a path)
   * @param modelFile the resolved model file
   * @throws ConfigException naming {@code model} and the files looked for when there is none
   * @throws CompressionException when a built-in model's tokenizer cannot be extracted
   */
  public static Path locate(String modelSpec, Path modelFile) throws CompressionException {
    return locate(modelSpec, modelFile, "", "calibration.tokenizer");
  }

  /**
   * The tokenizer.json for a model, found by {@link #find(String, Path, String, String)}.
   *
   * @param key the option or config key that names a tokenizer, for the message and its hint
   * @throws ConfigException one line naming the files looked for (or the missing explicit file)
   */
  public static Path locate(String modelSpec, Path modelFile, String explicit, String key)
      throws CompressionException {
    Optional<Path> found = find(modelSpec, modelFile, explicit, key);
    if (found.isPresent()) {
      return found.get();
    }
    throw new ConfigException(missing(modelFile, key));
  }

  /** The one-line message for a model without a tokenizer: what was looked for, and the fix. */
  public static String missing(Path modelFile, String key) {
    List<Path> c = candidates(modelFile);
    return "model: text data needs the model's tokenizer; looked for "
        + c.get(0)
        + " and "
        + c.get(1)
        + ", neither exists (HINT: copy the model's Hugging Face "
        + FILE_NAME
        + " beside "
        + modelFile.getFileName()
        + " or name it with "
        + key
        + ")";
  }
}
