package dev.compress.api.pass;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The help text of one config key, on the record component it documents: what the key means and the
 * values it accepts, enum values lower-case as pipelines write them. Not the default: that is
 * written once, in the config's {@code defaults()}, and {@code compress list-passes} prints it from
 * there. {@link PassProvider#parameters()} reads these annotations, so the YAML binder, the Maven
 * plugin, the builders and {@code list-passes} all work from the same record.
 *
 * <pre>{@code
 * public record RtnConfig(LayerSelection selection, @Param("4 or 8") int bits, ...)
 * }</pre>
 *
 * <p>A {@link LayerSelection} component needs none: it is spelled {@code targets} and {@code
 * ignore}, documented once for every pass.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.RECORD_COMPONENT)
public @interface Param {
  /** Meaning and accepted values, one sentence or two. */
  String value();
}
