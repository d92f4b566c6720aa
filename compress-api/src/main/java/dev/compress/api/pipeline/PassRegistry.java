package dev.compress.api.pipeline;

import dev.compress.api.ConfigException;
import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassConfig;
import dev.compress.api.pass.PassProvider;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * The pass types available to pipelines: every {@link PassProvider} found through {@link
 * ServiceLoader} (or given explicitly), by {@link PassProvider#type()}. Pipelines name passes only
 * by type; classes are never loaded by names taken from user input.
 *
 * <p>Immutable once built; safe to share.
 */
public final class PassRegistry {
  private final Map<String, PassProvider<?>> byType;

  private PassRegistry(List<? extends PassProvider<?>> providers) {
    Map<String, PassProvider<?>> m = new LinkedHashMap<>();
    List<PassProvider<?>> sorted = new ArrayList<>(providers);
    sorted.sort(Comparator.comparing(PassProvider::type));
    for (PassProvider<?> p : sorted) {
      PassProvider<?> old = m.putIfAbsent(p.type(), p);
      if (old != null && old.getClass() != p.getClass()) {
        throw new IllegalStateException(
            "two pass providers register type '"
                + p.type()
                + "': "
                + old.getClass().getName()
                + " and "
                + p.getClass().getName());
      }
    }
    this.byType = m;
  }

  /**
   * The providers registered in {@code META-INF/services/dev.compress.api.pass.PassProvider} on the
   * thread's context class loader (or this class's loader when there is none).
   *
   * @throws IllegalStateException when two providers claim the same type
   */
  public static PassRegistry load() {
    ClassLoader cl = Thread.currentThread().getContextClassLoader();
    if (cl == null) {
      cl = PassRegistry.class.getClassLoader();
    }
    return load(cl);
  }

  /** The providers registered on {@code loader}. */
  public static PassRegistry load(ClassLoader loader) {
    List<PassProvider<?>> found = new ArrayList<>();
    for (PassProvider<?> p : ServiceLoader.load(PassProvider.class, loader)) {
      found.add(p);
    }
    return new PassRegistry(found);
  }

  /** A registry of exactly these providers (tests, embedding). */
  public static PassRegistry of(List<? extends PassProvider<?>> providers) {
    return new PassRegistry(providers);
  }

  /** Every provider, sorted by type. */
  public List<PassProvider<?>> all() {
    return List.copyOf(byType.values());
  }

  /** The known types, sorted. */
  public List<String> types() {
    return List.copyOf(byType.keySet());
  }

  /** The provider of {@code type}, if registered. */
  public Optional<PassProvider<?>> find(String type) {
    return Optional.ofNullable(byType.get(type));
  }

  /**
   * The provider of {@code type}.
   *
   * @param key the key path naming the type in the pipeline, e.g. {@code passes[1].type}
   * @throws ConfigException {@code passes[1].type: unknown pass 'foo'; known: [...]}
   */
  public PassProvider<?> require(String type, String key) throws ConfigException {
    return find(type).orElseThrow(() -> new ConfigException(unknown(type, key)));
  }

  /**
   * The provider whose {@link PassProvider#configType()} is exactly the class of {@code config}.
   */
  public Optional<PassProvider<?>> forConfig(PassConfig config) {
    return byType.values().stream().filter(p -> p.configType() == config.getClass()).findFirst();
  }

  /** The message for an unknown type, with a suggestion for a near miss. */
  String unknown(String type, String key) {
    String msg = key + ": unknown pass '" + type + "'; known: " + types();
    Optional<String> near = RecordBinder.suggest(type, byType.keySet());
    return near.isPresent() ? msg + " (did you mean '" + near.get() + "'?)" : msg;
  }

  /** Creates the pass of {@code provider} for {@code config} (checked against its config type). */
  static <C extends PassConfig> Pass<C> create(PassProvider<C> provider, PassConfig config) {
    return provider.create(provider.configType().cast(config));
  }
}
