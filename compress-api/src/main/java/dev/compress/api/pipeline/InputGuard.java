package dev.compress.api.pipeline;

import dev.compress.api.ConfigException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * Refuses an output directory that holds a file the run reads, before anything is written: a run
 * replaces the whole output directory, so such a file would be deleted.
 *
 * <p>Paths are compared three ways, because a lexical comparison misses links: the normalized
 * absolute paths; the real paths (every symbolic link resolved, so {@code dir/link/model.onnx} with
 * {@code link -> real} is inside {@code dir/real}, and a folder linked to its own parent is seen
 * through); and file identity ({@link BasicFileAttributes#fileKey()}, device and inode on Unix), of
 * the target against each folder above an input (a bind mount of that folder) and of every file
 * beneath an existing target against the inputs (a bind mount or hard link inside it).
 */
final class InputGuard {
  /**
   * A file the run reads.
   *
   * @param what what it is, for the message ("the input model", "the calibration source
   *     (calibration.source)")
   * @param file the path as given
   */
  record Input(String what, Path file) {
    Input {
      Objects.requireNonNull(what, "what");
      Objects.requireNonNull(file, "file");
    }
  }

  private InputGuard() {}

  /**
   * Checks that no input lies inside {@code target} or is a file beneath it.
   *
   * @param target the output directory, absolute and normalized
   * @throws ConfigException naming the directory and the first input found inside it
   */
  static void check(Path target, List<Input> inputs) throws ConfigException {
    Path realTarget;
    try {
      realTarget = realPathOfExisting(target);
    } catch (IOException e) {
      throw new ConfigException(
          "output.dir: cannot resolve "
              + target
              + " ("
              + StagingDirectory.reason(e)
              + "); nothing was written");
    }
    boolean targetExists = Files.exists(target);
    Map<Object, Input> byKey = new HashMap<>();
    for (Input in : inputs) {
      Path abs = in.file().toAbsolutePath().normalize();
      if (abs.startsWith(target)) {
        throw inside(target, in, null);
      }
      if (!Files.exists(in.file())) {
        continue; // its loader reports it
      }
      Path real;
      try {
        real = in.file().toRealPath();
      } catch (IOException e) {
        continue;
      }
      if (real.startsWith(realTarget)) {
        throw inside(target, in, real);
      }
      if (targetExists) {
        for (Path dir = real.getParent(); dir != null; dir = dir.getParent()) {
          if (sameFile(dir, target)) {
            throw inside(target, in, real);
          }
        }
      }
      Object key = fileKey(in.file(), true);
      if (key != null) {
        byKey.putIfAbsent(key, in);
      }
    }
    if (targetExists && !byKey.isEmpty() && Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
      try (Stream<Path> s = Files.walk(target)) { // does not follow links
        for (Path p : (Iterable<Path>) s::iterator) {
          Input same = byKey.get(fileKey(p, false)); // a link to an input is deleted harmlessly
          if (same != null) {
            throw new ConfigException(
                "output.dir: "
                    + target
                    + " holds "
                    + p
                    + ", the same file as "
                    + same.what()
                    + " "
                    + same.file()
                    + "; write the output elsewhere");
          }
        }
      } catch (IOException | java.io.UncheckedIOException e) {
        throw new ConfigException(
            "output.dir: cannot read "
                + target
                + " to check it holds no input ("
                + e.getMessage()
                + "); nothing was written");
      }
    }
  }

  private static ConfigException inside(Path target, Input in, Path real) {
    String through =
        real == null || real.equals(in.file().toAbsolutePath().normalize())
            ? ""
            : " (real path " + real + ")";
    return new ConfigException(
        "output.dir: "
            + target
            + " contains "
            + in.what()
            + " "
            + in.file()
            + through
            + "; write the output elsewhere");
  }

  /**
   * The real path of {@code p}: of its deepest existing folder, with the missing names appended.
   */
  static Path realPathOfExisting(Path p) throws IOException {
    Deque<Path> missing = new ArrayDeque<>();
    Path existing = p;
    while (existing != null && !Files.exists(existing)) {
      missing.push(existing.getFileName());
      existing = existing.getParent();
    }
    Path real = existing == null ? p.getRoot() : existing.toRealPath();
    while (!missing.isEmpty()) {
      real = real.resolve(missing.pop());
    }
    return real;
  }

  private static boolean sameFile(Path a, Path b) {
    try {
      return Files.isSameFile(a, b);
    } catch (IOException e) {
      return false;
    }
  }

  /** The file's identity, or null where the file system has none (or it cannot be read). */
  private static Object fileKey(Path p, boolean followLinks) {
    try {
      return followLinks
          ? Files.readAttributes(p, BasicFileAttributes.class).fileKey()
          : Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
    } catch (IOException e) {
      return null;
    }
  }
}
