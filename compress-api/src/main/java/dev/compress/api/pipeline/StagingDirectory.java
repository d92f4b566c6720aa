package dev.compress.api.pipeline;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A hidden temporary directory beside an output directory ({@code .NAME.tmp-RANDOM}) that receives
 * every output file and is renamed into place only when complete.
 *
 * <p>Until {@link #commit} succeeds, {@link #close()} — and a shutdown hook, for Ctrl-C or a kill
 * that runs hooks — deletes it, and any parent folders that were created for it. Commit with an
 * existing target renames the old directory away, renames the new one in and only then deletes the
 * old one; if the JVM stops between the two renames, the hook puts the old directory back.
 */
final class StagingDirectory implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(StagingDirectory.class);
  private static final SecureRandom RANDOM = new SecureRandom();

  private final Path target;
  private final Path dir;
  private final List<Path> createdParents;
  private final Thread hook;
  private final Object lock = new Object();
  private boolean committed;
  private boolean aborted;
  private Path movedAway; // the old target while the new one is being renamed in

  private StagingDirectory(Path target, Path dir, List<Path> createdParents) {
    this.target = target;
    this.dir = dir;
    this.createdParents = createdParents;
    this.hook = new Thread(this::abort, "compress-cleanup-" + dir.getFileName());
    Runtime.getRuntime().addShutdownHook(hook);
  }

  /**
   * Creates the staging directory for {@code target} (an absolute path), creating missing parent
   * folders.
   *
   * @throws ConfigException when the parent cannot be created or written (nothing is left behind)
   */
  static StagingDirectory create(Path target) throws ConfigException {
    Path parent = target.getParent();
    if (parent == null) {
      throw new ConfigException("output.dir: " + target + " has no parent folder");
    }
    List<Path> created = new ArrayList<>();
    try {
      Path missing = parent;
      List<Path> toCreate = new ArrayList<>();
      while (missing != null && !Files.exists(missing)) {
        toCreate.addFirst(missing);
        missing = missing.getParent();
      }
      if (missing != null && !Files.isDirectory(missing)) {
        throw new ConfigException(
            "output.dir: cannot create " + target + ": " + missing + " is not a directory");
      }
      for (Path p : toCreate) {
        Files.createDirectory(p);
        created.addFirst(p);
      }
      Path tmp =
          parent.resolve(
              "." + target.getFileName() + ".tmp-" + HexFormat.of().toHexDigits(RANDOM.nextInt()));
      Files.createDirectory(tmp);
      return new StagingDirectory(target, tmp, created);
    } catch (IOException e) {
      deleteEmpty(created);
      throw new ConfigException(
          "output.dir: cannot write to " + parent + " (" + reason(e) + "); nothing was written");
    }
  }

  /** The staging directory to write into. */
  Path dir() {
    return dir;
  }

  /**
   * Renames the staging directory to the target.
   *
   * @param overwrite whether an existing target is replaced
   * @throws ConfigException when the target exists and {@code overwrite} is false
   */
  void commit(boolean overwrite) throws CompressionException {
    Path old = null;
    synchronized (lock) {
      if (aborted) {
        throw new CompressionException("interrupted; " + target + " was not written");
      }
      try {
        if (Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
          if (!overwrite) {
            throw new ConfigException(
                "output.dir: "
                    + target
                    + " already exists (HINT: choose another directory, or overwrite it with"
                    + " --overwrite / output.overwrite: true)");
          }
          old =
              target.resolveSibling(
                  "."
                      + target.getFileName()
                      + ".old-"
                      + HexFormat.of().toHexDigits(RANDOM.nextInt()));
          move(target, old);
          movedAway = old;
          try {
            move(dir, target);
          } catch (IOException e) {
            move(old, target);
            movedAway = null;
            throw e;
          }
          movedAway = null;
        } else {
          move(dir, target);
        }
        committed = true;
      } catch (FileAlreadyExistsException e) {
        throw new ConfigException(
            "output.dir: " + target + " appeared while running; not replaced");
      } catch (IOException e) {
        throw new CompressionException(
            "cannot move the output into place at " + target + ": " + reason(e), e);
      }
    }
    if (old != null) {
      try {
        deleteRecursively(old);
      } catch (IOException e) {
        LOG.warn("could not delete the replaced output {}: {}", old, reason(e));
      }
    }
  }

  /** Deletes the staging directory unless committed, and unregisters the hook. */
  @Override
  public void close() {
    abort();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      // the hook runs (or ran) anyway
    }
  }

  private void abort() {
    synchronized (lock) {
      if (movedAway != null) { // stopped between the two renames: put the old output back
        try {
          move(movedAway, target);
          movedAway = null;
        } catch (IOException e) {
          LOG.warn("could not restore {} from {}: {}", target, movedAway, reason(e));
        }
      }
      if (committed || aborted) {
        return;
      }
      aborted = true;
      for (int attempt = 0; attempt < 3 && Files.exists(dir); attempt++) {
        try {
          deleteRecursively(dir); // a writer may still be adding files: retry
        } catch (IOException e) {
          if (attempt == 2) {
            LOG.warn("could not delete the temporary output {}: {}", dir, reason(e));
          }
        }
      }
      deleteEmpty(createdParents);
    }
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to);
    }
  }

  private static void deleteEmpty(List<Path> dirs) {
    for (Path p : dirs) { // deepest first
      try {
        Files.deleteIfExists(p);
      } catch (IOException ignored) {
        return; // not empty or not ours any more
      }
    }
  }

  static void deleteRecursively(Path root) throws IOException {
    if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    List<Path> all;
    try (Stream<Path> s = Files.walk(root)) {
      all = new ArrayList<>(s.toList());
    }
    IOException first = null;
    for (Path p : all.reversed()) {
      try {
        Files.deleteIfExists(p);
      } catch (IOException e) {
        first = first == null ? e : first;
      }
    }
    if (first != null) {
      throw first;
    }
  }

  static String reason(IOException e) {
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof NoSuchFileException) {
      return "no such file or directory: " + e.getMessage();
    }
    if (e instanceof FileSystemException f && f.getReason() != null) {
      return f.getReason();
    }
    return e.getMessage() == null ? e.toString() : e.getMessage();
  }
}
