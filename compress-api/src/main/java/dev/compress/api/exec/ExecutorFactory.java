package dev.compress.api.exec;

import dev.compress.api.CompressionException;
import dev.compress.api.graph.ModelGraph;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/**
 * Builds {@link Executor}s of one engine (found through {@link ServiceLoader}; list the
 * implementation in {@code META-INF/services/dev.compress.api.exec.ExecutorFactory}). The api knows
 * no engine: passes ask their {@link dev.compress.api.pass.PassContext} for an executor, and the
 * runtime module provides the factories ({@code djl}: the PyTorch interpreter, which can capture
 * node inputs; {@code onnxruntime}: the reference runtime).
 *
 * <p>A factory is stateless and thread-safe; each {@link #create} returns a new executor that the
 * caller owns and closes (see the lifecycle on {@link Executor}).
 */
public interface ExecutorFactory {

  /** The engine's name, e.g. {@code djl}, {@code onnxruntime}. */
  String engine();

  /** Whether the executors this factory builds can capture node inputs. */
  boolean supportsCapture();

  /** Whether {@code device} can be used by this engine on this machine. */
  boolean available(Device device);

  /**
   * A new executor over a snapshot of {@code model}, with the engine's defaults.
   *
   * @throws dev.compress.api.UnsupportedModelException naming every node the engine cannot run
   * @throws dev.compress.api.ConfigException when {@code device} is not {@linkplain #available
   *     available}, naming what to add
   */
  Executor create(ModelGraph model, Device device) throws CompressionException;

  /** Every factory on the class path, in {@link ServiceLoader} order. */
  static List<ExecutorFactory> installed() {
    List<ExecutorFactory> out = new ArrayList<>();
    ServiceLoader.load(ExecutorFactory.class, ExecutorFactory.class.getClassLoader())
        .forEach(out::add);
    return out;
  }

  /**
   * The factory of {@code engine}.
   *
   * @throws IllegalStateException naming the engines found when none is called {@code engine}
   */
  static ExecutorFactory of(String engine) {
    List<ExecutorFactory> all = installed();
    for (ExecutorFactory f : all) {
      if (f.engine().equals(engine)) {
        return f;
      }
    }
    throw new IllegalStateException(
        "no executor engine '"
            + engine
            + "' on the class path; found "
            + all.stream().map(ExecutorFactory::engine).toList()
            + ". HINT: add the compress-runtime module to the class path");
  }

  /**
   * The first installed factory whose executors can capture node inputs: the engine calibration
   * runs on.
   *
   * @throws IllegalStateException naming the engines found when none can capture
   */
  static ExecutorFactory capturing() {
    List<ExecutorFactory> all = installed();
    for (ExecutorFactory f : all) {
      if (f.supportsCapture()) {
        return f;
      }
    }
    throw new IllegalStateException(
        "no executor engine that can capture node inputs on the class path; found "
            + all.stream().map(ExecutorFactory::engine).toList()
            + ". HINT: add the compress-runtime module (DJL engine) to the class path");
  }

  /**
   * A factory that looks up {@link #capturing()} on first use, so a context can be made where no
   * engine is installed (tests of data-free passes) and fail only when an executor is asked for.
   */
  static ExecutorFactory lazyCapturing() {
    return new LazyExecutorFactory();
  }
}
