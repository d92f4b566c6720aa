package dev.compress.api.pass;

import dev.compress.api.CompressionException;
import dev.compress.api.graph.ModelGraph;

/**
 * A compression pass: behaviour for one {@link PassConfig}. Created by its {@link PassProvider}
 * with a validated config; stateless between calls.
 *
 * <p>Contract of {@link #apply}: check every selected layer first and, if any is incompatible,
 * throw one {@link dev.compress.api.ConfigException} listing all of them before changing anything;
 * then change the model in place and return the report. Intended skips go into the report, not
 * exceptions.
 *
 * @param <C> the config type
 */
public interface Pass<C extends PassConfig> {
  /** The config this pass applies. */
  C config();

  /** Applies the pass to {@code model} in place. */
  PassReport apply(ModelGraph model, PassContext context) throws CompressionException;
}
