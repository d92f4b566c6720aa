package dev.compress.runtime.ort;

import ai.onnxruntime.OrtEnvironment;
import dev.compress.api.io.OwnerMarker;
import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The process's ONNX Runtime environment, with the folder ONNX Runtime extracts its native
 * libraries into removed when the JVM exits. Every use of ONNX Runtime goes through {@link
 * #environment()}.
 *
 * <p>Why: on first use, ONNX Runtime's Java loader (1.22, {@code ai.onnxruntime.OnnxRuntime.init})
 * creates a fresh {@code onnxruntime-java*} folder in {@code java.io.tmpdir}, copies {@code
 * libonnxruntime} and {@code libonnxruntime4j_jni} (about 20 MB) into it and only marks the files
 * and the folder {@link java.io.File#deleteOnExit()}. That deletes in reverse order of marking: the
 * folder, marked last, is tried first, while it still holds the libraries, and stays behind after
 * every run. Setting {@code onnxruntime.native.path} does not help: the folder is created anyway,
 * and execution-provider libraries (CUDA) are still extracted into it.
 *
 * <p>So after the environment is created, the folder the loader made (its private {@code
 * tempDirectory}, read by reflection; the package is open on the class path and as an automatic
 * module) is deleted, with whatever was extracted into it later, by a shutdown hook. It is not
 * deleted at once, since provider libraries are extracted there on demand. Loaded libraries stay
 * mapped after their files are unlinked (Linux, macOS); where the file system refuses (Windows),
 * the folder is left to the loader's own {@code deleteOnExit}. Should a later ONNX Runtime rename
 * the field, nothing is deleted and {@link #nativeFolder()} is empty (its test fails then).
 *
 * <p>A JVM killed without running hooks ({@code SIGKILL}) still leaves its folder. So the folder
 * gets an {@link OwnerMarker} ({@value #MARKER}), and the first {@link #environment()} of a later
 * process removes the {@code onnxruntime-java*} folders in {@code java.io.tmpdir} whose marker
 * names a process that has ended. Folders without the marker (other programs', or one whose owner
 * was killed before it could mark it) are never touched.
 */
public final class OrtNatives {
  private static final System.Logger LOG = System.getLogger(OrtNatives.class.getName());

  /** The marker file this toolkit writes into the folder ONNX Runtime extracted into. */
  static final String MARKER = ".compress-owner";

  private static final String PREFIX = "onnxruntime-java";
  private static volatile Optional<Path> folder;

  private OrtNatives() {}

  /**
   * {@link OrtEnvironment#getEnvironment()}, the first call also arranging for the extracted native
   * libraries to be deleted at exit.
   */
  public static OrtEnvironment environment() {
    OrtEnvironment env = OrtEnvironment.getEnvironment(); // loads the native libraries
    if (folder == null) {
      synchronized (OrtNatives.class) {
        if (folder == null) {
          Optional<Path> mine = extractionFolder();
          mine.ifPresent(
              dir -> {
                Runtime.getRuntime()
                    .addShutdownHook(new Thread(() -> delete(dir), "compress-ort-cleanup"));
                try {
                  OwnerMarker.write(dir.resolve(MARKER), Map.of());
                } catch (IOException e) {
                  LOG.log(System.Logger.Level.DEBUG, "cannot mark " + dir + ": " + e);
                }
                removeStale(dir);
              });
          folder = mine;
        }
      }
    }
    return env;
  }

  /** The folder ONNX Runtime extracted its libraries into; empty before {@link #environment()}. */
  public static Optional<Path> nativeFolder() {
    Optional<Path> f = folder;
    return f == null ? Optional.empty() : f;
  }

  /** Removes the marked folders of ended processes beside {@code mine}; returns them. */
  static List<Path> removeStale(Path mine) {
    List<Path> removed = new ArrayList<>();
    Path tmp = mine.toAbsolutePath().getParent();
    if (tmp == null) {
      return removed;
    }
    List<Path> candidates;
    try (Stream<Path> s = Files.list(tmp)) {
      candidates =
          s.filter(p -> p.getFileName().toString().startsWith(PREFIX))
              .filter(p -> !p.equals(mine.toAbsolutePath()))
              .filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))
              .toList();
    } catch (IOException e) {
      return removed;
    }
    for (Path p : candidates) {
      if (OwnerMarker.read(p.resolve(MARKER)).filter(OwnerMarker::ownerGone).isPresent()) {
        delete(p);
        removed.add(p);
      }
    }
    return removed;
  }

  private static Optional<Path> extractionFolder() {
    try {
      Class<?> loader = Class.forName("ai.onnxruntime.OnnxRuntime");
      Field f = loader.getDeclaredField("tempDirectory");
      f.setAccessible(true);
      if (f.get(null) instanceof Path p
          && p.getFileName() != null
          && p.getFileName().toString().startsWith("onnxruntime-java")) {
        return Optional.of(p);
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.log(System.Logger.Level.DEBUG, "ONNX Runtime's native-library folder not found: " + e);
    }
    return Optional.empty();
  }

  private static void delete(Path dir) {
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    List<Path> all;
    try (Stream<Path> s = Files.walk(dir)) {
      all = new ArrayList<>(s.toList());
    } catch (IOException e) {
      return;
    }
    for (Path p : all.reversed()) {
      try {
        Files.deleteIfExists(p);
      } catch (IOException e) {
        LOG.log(System.Logger.Level.DEBUG, "could not delete " + p + ": " + e);
      }
    }
  }
}
