package dev.compress.api.io;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A small file in a temporary folder naming the process that owns it, so that a later process can
 * tell a folder left by a killed one ({@code SIGKILL}, a crash: no shutdown hook ran) from a folder
 * in use, and remove only the former.
 *
 * <p>Format: {@code key=value} lines; {@code pid} and {@code start} (the process start time,
 * ISO-8601) always, then the caller's fields. Written beside and renamed, so a reader never sees
 * half a marker. A missing, oversized or garbled marker reads as empty: such a folder is not ours,
 * or its owner is still setting it up, and is never removed.
 */
public final class OwnerMarker {
  private static final long MAX_BYTES = 4096;

  private OwnerMarker() {}

  /**
   * Writes the marker for this process.
   *
   * @param file the marker file (its folder exists)
   * @param fields further fields (keys without {@code =} or line breaks, values without line
   *     breaks)
   */
  public static void write(Path file, Map<String, String> fields) throws IOException {
    ProcessHandle self = ProcessHandle.current();
    StringBuilder text = new StringBuilder();
    text.append("pid=").append(self.pid()).append('\n');
    text.append("start=")
        .append(self.info().startInstant().map(Instant::toString).orElse(""))
        .append('\n');
    fields.forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
    Path partial = file.resolveSibling(file.getFileName() + ".partial");
    Files.writeString(partial, text, StandardCharsets.UTF_8);
    Files.move(partial, file, StandardCopyOption.ATOMIC_MOVE);
  }

  /** The marker's fields; empty when there is no readable, well-formed marker (a regular file). */
  public static Optional<Map<String, String>> read(Path file) {
    Map<String, String> m = new LinkedHashMap<>();
    try {
      if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) || Files.size(file) > MAX_BYTES) {
        return Optional.empty();
      }
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        int eq = line.indexOf('=');
        if (eq > 0) {
          m.put(line.substring(0, eq), line.substring(eq + 1));
        }
      }
    } catch (IOException e) {
      return Optional.empty();
    }
    try {
      Long.parseLong(m.getOrDefault("pid", ""));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
    return Optional.of(m);
  }

  /**
   * Whether the process a marker names has ended: no process has its pid, or the one that has it
   * started more than a second after the recorded start (a reused pid: it started after the owner
   * ended; the second absorbs rounding between readings). A live pid with no start time on either
   * side counts as the owner, still running.
   */
  public static boolean ownerGone(Map<String, String> marker) {
    long pid;
    try {
      pid = Long.parseLong(marker.getOrDefault("pid", ""));
    } catch (NumberFormatException e) {
      return false;
    }
    Optional<ProcessHandle> owner = ProcessHandle.of(pid);
    if (owner.isEmpty() || !owner.get().isAlive()) {
      return true;
    }
    Optional<Instant> running = owner.get().info().startInstant();
    try {
      Instant recorded = Instant.parse(marker.getOrDefault("start", ""));
      return running.isPresent() && running.get().isAfter(recorded.plusSeconds(1));
    } catch (DateTimeParseException e) {
      return false;
    }
  }
}
