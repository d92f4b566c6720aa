package dev.compress.api.pipeline;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.io.OwnerMarker;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
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
 *
 * <p>A kill that runs no hooks ({@code SIGKILL}, a crash, power loss) leaves the staging folder
 * behind. Each one therefore holds a marker file, {@value #MARKER}, naming the target, the process
 * id and the process start time; {@link #create} first removes the staging folders of the same
 * target whose marker names a process that is no longer running (a live pid with another start time
 * is a reused pid). A folder without a readable marker is never touched: it is not ours, or its
 * owner is still setting it up. The marker is deleted just before the rename into place.
 */
final class StagingDirectory implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(StagingDirectory.class);
  private static final SecureRandom RANDOM = new SecureRandom();

  /** The marker file in every staging folder: {@code pid}, {@code start} and {@code target}. */
  static final String MARKER = ".compress-staging";

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
      if (created.isEmpty()) {
        removeStale(target);
      }
      Path tmp = parent.resolve(prefix(target) + HexFormat.of().toHexDigits(RANDOM.nextInt()));
      Files.createDirectory(tmp);
      try {
        writeMarker(tmp, target);
      } catch (IOException e) {
        deleteRecursively(tmp);
        throw e;
      }
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
          Files.deleteIfExists(dir.resolve(MARKER));
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
          Files.deleteIfExists(dir.resolve(MARKER));
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

  // ---- markers and stale folders ----

  private static String prefix(Path target) {
    return "." + target.getFileName() + ".tmp-";
  }

  private static void writeMarker(Path tmp, Path target) throws IOException {
    OwnerMarker.write(tmp.resolve(MARKER), Map.of("target", target.toString()));
  }

  /**
   * Removes the staging folders beside {@code target} that interrupted runs of this tool left: a
   * folder named {@code .NAME.tmp-*}, a real directory (not a link), with a marker naming this
   * target and a process that is not running. Failures are logged, never thrown: cleaning up is a
   * courtesy, not the run's job.
   *
   * @return the folders removed
   */
  static List<Path> removeStale(Path target) {
    Path parent = target.getParent();
    List<Path> removed = new ArrayList<>();
    if (parent == null || !Files.isDirectory(parent)) {
      return removed;
    }
    String prefix = prefix(target);
    List<Path> candidates;
    try (Stream<Path> s = Files.list(parent)) {
      candidates =
          s.filter(p -> p.getFileName().toString().startsWith(prefix))
              .filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))
              .toList();
    } catch (IOException e) {
      LOG.debug("cannot list {} for stale staging folders: {}", parent, reason(e));
      return removed;
    }
    for (Path p : candidates) {
      if (isStale(p, target)) {
        try {
          deleteRecursively(p);
          removed.add(p);
          LOG.info("removed {}, the staging folder of an interrupted run", p);
        } catch (IOException e) {
          LOG.warn("could not remove the stale staging folder {}: {}", p, reason(e));
        }
      }
    }
    return removed;
  }

  private static boolean isStale(Path dir, Path target) {
    return OwnerMarker.read(dir.resolve(MARKER))
        .filter(m -> target.toString().equals(m.get("target")))
        .filter(OwnerMarker::ownerGone)
        .isPresent();
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
