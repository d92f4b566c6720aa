package dev.compress.api.pass;

/**
 * The immutable configuration of one pass: a record whose compact constructor validates every field
 * and throws {@link InvalidConfigException} listing each bad field by its key (the pipeline
 * prefixes the key path, e.g. {@code passes[1].sparsity}).
 *
 * <p>Record component names are the configuration keys ({@code groupSize} in Java is {@code
 * groupSize} in YAML).
 */
public interface PassConfig {
  /** The layer selection of this pass. */
  LayerSelection selection();
}
