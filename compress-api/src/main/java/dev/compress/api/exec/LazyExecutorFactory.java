package dev.compress.api.exec;

import dev.compress.api.CompressionException;
import dev.compress.api.graph.ModelGraph;

/** {@link ExecutorFactory#capturing()}, resolved on first use and then kept. */
final class LazyExecutorFactory implements ExecutorFactory {
  private volatile ExecutorFactory resolved;

  private ExecutorFactory get() {
    ExecutorFactory f = resolved;
    if (f == null) {
      synchronized (this) {
        f = resolved;
        if (f == null) {
          f = ExecutorFactory.capturing();
          resolved = f;
        }
      }
    }
    return f;
  }

  @Override
  public String engine() {
    return get().engine();
  }

  @Override
  public boolean supportsCapture() {
    return true;
  }

  @Override
  public boolean available(Device device) {
    return get().available(device);
  }

  @Override
  public Executor create(ModelGraph model, Device device) throws CompressionException {
    return get().create(model, device);
  }

  @Override
  public String toString() {
    return resolved == null ? "capturing engine (not resolved yet)" : resolved.engine();
  }
}
