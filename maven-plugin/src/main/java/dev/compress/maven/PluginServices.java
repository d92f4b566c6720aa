package dev.compress.maven;

import dev.compress.api.calibration.CalibrationLoader;
import dev.compress.api.pipeline.Evaluator;
import dev.compress.api.pipeline.PassRegistry;
import dev.compress.api.pipeline.PipelineRunner;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/**
 * The passes, calibration loaders and evaluators visible to the plugin, found through {@link
 * ServiceLoader} on the plugin's own class realm (the jars of the quantization, pruning, runtime
 * and evaluation modules the plugin depends on), whatever the thread's context class loader is.
 */
final class PluginServices {
  private final ClassLoader loader;
  private final PassRegistry registry;

  PluginServices() {
    this.loader = PluginServices.class.getClassLoader();
    this.registry = PassRegistry.load(loader);
  }

  /** The class loader the services were found on. */
  ClassLoader loader() {
    return loader;
  }

  PassRegistry registry() {
    return registry;
  }

  List<CalibrationLoader> calibrationLoaders() {
    return load(CalibrationLoader.class);
  }

  List<Evaluator> evaluators() {
    return load(Evaluator.class);
  }

  /** A runner over exactly these services. */
  PipelineRunner runner() {
    return new PipelineRunner(registry, calibrationLoaders(), evaluators());
  }

  private <S> List<S> load(Class<S> type) {
    List<S> out = new ArrayList<>();
    ServiceLoader.load(type, loader).forEach(out::add);
    return List.copyOf(out);
  }
}
