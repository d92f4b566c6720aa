package dev.compress.api.pass;

import java.util.ArrayList;
import java.util.List;

/**
 * A {@link RecordBuilder} for a config with a {@link LayerSelection} component: adds {@code
 * targets(...)} and {@code ignore(...)}, spelled and checked as the YAML keys of the same names
 * (each an exact layer name or {@code re:REGEX}); the selection is validated at {@link #build()},
 * together with the other values.
 *
 * @param <R> the config record built
 * @param <B> the concrete builder, returned by the setters
 */
public abstract class SelectionBuilder<
        R extends Record & PassConfig, B extends SelectionBuilder<R, B>>
    extends RecordBuilder<R, B> {
  private final String selection;
  private List<String> targets;
  private List<String> ignore;

  /** A builder holding the values of {@code start}. */
  protected SelectionBuilder(R start) {
    super(start);
    int i = indexOfType(LayerSelection.class);
    if (i < 0) {
      throw new IllegalArgumentException(
          start.getClass().getSimpleName() + " has no LayerSelection component");
    }
    selection = componentName(i);
    targets = start.selection().targets();
    ignore = start.selection().ignore();
  }

  /** The layers to include (empty: all linear layers): layer names or {@code re:REGEX}. */
  public final B targets(String... selectors) {
    return targets(List.of(selectors));
  }

  /** The layers to include (empty: all linear layers): layer names or {@code re:REGEX}. */
  @SuppressWarnings("unchecked")
  public final B targets(List<String> selectors) {
    targets = new ArrayList<>(selectors);
    return (B) this;
  }

  /** The layers to leave out, applied after the targets: layer names or {@code re:REGEX}. */
  public final B ignore(String... selectors) {
    return ignore(List.of(selectors));
  }

  /** The layers to leave out, applied after the targets: layer names or {@code re:REGEX}. */
  @SuppressWarnings("unchecked")
  public final B ignore(List<String> selectors) {
    ignore = new ArrayList<>(selectors);
    return (B) this;
  }

  /** Targets and ignore at once. */
  public final B selection(LayerSelection s) {
    targets(s.targets());
    return ignore(s.ignore());
  }

  /**
   * The config, validated by its constructor and {@link LayerSelection}'s.
   *
   * @throws InvalidConfigException listing every bad value (the selection's and the others'), each
   *     naming its key
   */
  @Override
  public R build() {
    List<String> problems = new ArrayList<>();
    try {
      set(selection, new LayerSelection(targets, ignore));
    } catch (InvalidConfigException e) {
      problems.addAll(e.problems());
    }
    R r = null;
    try {
      r = super.build();
    } catch (InvalidConfigException e) {
      problems.addAll(e.problems());
    }
    InvalidConfigException.throwIfAny(problems);
    return r;
  }
}
