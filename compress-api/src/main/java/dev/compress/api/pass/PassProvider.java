package dev.compress.api.pass;

import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;

/**
 * Registers one pass type (found through {@link java.util.ServiceLoader}; list the implementation
 * in {@code META-INF/services/dev.compress.api.pass.PassProvider}). The registry never loads
 * classes by names taken from user input: a pipeline names a pass by {@link #type()}.
 *
 * @param <C> the config record type
 */
public interface PassProvider<C extends PassConfig> {
  /** The name used in pipelines, e.g. {@code magnitude-pruning}. */
  String type();

  /** One line for {@code compress list-passes}. */
  String description();

  /** The config record class; its components are the parameters. */
  Class<C> configType();

  /** The config with every default filled in (targets/ignore empty). */
  C defaults();

  /**
   * One line per parameter: what it means and the values it accepts. By default the {@link Param}
   * text of each component of {@link #configType()}, in component order (a {@link LayerSelection}
   * component is left out: {@code targets} and {@code ignore} are documented for every pass alike;
   * a component without {@link Param} has an empty text).
   */
  default List<ParamDoc> parameters() {
    List<ParamDoc> docs = new ArrayList<>();
    if (configType().isRecord()) {
      for (RecordComponent c : configType().getRecordComponents()) {
        if (c.getType() != LayerSelection.class) {
          Param p = c.getAnnotation(Param.class);
          docs.add(new ParamDoc(c.getName(), p == null ? "" : p.value()));
        }
      }
    }
    return docs;
  }

  /** Whether the pass needs calibration data. */
  boolean needsCalibration();

  /**
   * Whether the pass needs the teacher: the pipeline's input model, as it was before any pass
   * ({@link PassContext#teacher()}); false by default. The runner snapshots the model once ({@link
   * dev.compress.api.graph.ModelGraph#copy()}, weights shared) when any pass of the pipeline says
   * true.
   */
  default boolean needsTeacher() {
    return false;
  }

  /** Creates the pass for a validated config. */
  Pass<C> create(C config);

  /**
   * Documentation of one parameter.
   *
   * @param name the key (a record component name)
   * @param description meaning and accepted values, enum values lower-case as pipelines write them;
   *     not the default ({@code compress list-passes} shows it, taken from {@link #defaults()})
   */
  record ParamDoc(String name, String description) {}
}
