package dev.compress.training;

import dev.compress.api.CompressionException;
import dev.compress.api.exec.Device;
import dev.compress.api.graph.ModelGraph;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/**
 * Builds {@link TrainableModel}s of one engine, found through {@link ServiceLoader} (list the
 * implementation in {@code META-INF/services/dev.compress.training.TrainableFactory}); the runtime
 * module provides {@code djl}. Stateless and thread-safe.
 */
public interface TrainableFactory {

  /** The engine's name, e.g. {@code djl}. */
  String engine();

  /** Whether {@code device} can be used on this machine. */
  boolean available(Device device);

  /**
   * A trainable model over a snapshot of {@code model}, with the initializers {@code selection}
   * picks as parameters.
   *
   * @throws dev.compress.api.ConfigException when a selector matches nothing or picks a non-float
   *     initializer, or the device is not available
   * @throws dev.compress.api.UnsupportedModelException naming every node that cannot run, or cannot
   *     be differentiated on the path from a parameter to an output
   */
  TrainableModel create(ModelGraph model, ParameterSelection selection, Device device)
      throws CompressionException;

  /** Every factory on the class path. */
  static List<TrainableFactory> installed() {
    List<TrainableFactory> out = new ArrayList<>();
    ServiceLoader.load(TrainableFactory.class, TrainableFactory.class.getClassLoader())
        .forEach(out::add);
    return out;
  }

  /**
   * The first installed factory.
   *
   * @throws IllegalStateException when none is installed, with a hint
   */
  static TrainableFactory installedDefault() {
    List<TrainableFactory> all = installed();
    if (all.isEmpty()) {
      throw new IllegalStateException(
          "no trainable engine on the class path. HINT: add the compress-runtime module (DJL"
              + " engine) to the class path");
    }
    return all.get(0);
  }
}
