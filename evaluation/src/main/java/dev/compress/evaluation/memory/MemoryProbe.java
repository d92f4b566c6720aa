package dev.compress.evaluation.memory;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * Memory of this process around a piece of work: Java heap (from the heap {@link
 * MemoryPoolMXBean}s) and resident native memory (Linux {@code /proc/self/status}).
 *
 * <ul>
 *   <li><b>Heap peak</b>: the sum over heap pools of each pool's peak usage since the peaks were
 *       reset ({@link MemoryPoolMXBean#resetPeakUsage}). The pools peak at different moments, so
 *       the sum is an upper bound of the true peak. Collectors such as G1 update pool peaks only at
 *       collections, so the heap in use while the work holds its resources is taken when larger.
 *   <li><b>RSS</b>: {@code VmRSS} (resident now) and {@code VmHWM} (the resident high-water mark).
 *       The high-water mark is reset by writing {@code 5} to {@code /proc/self/clear_refs} (Linux
 *       4.0+); where that is refused the peak is the process's lifetime peak and {@link
 *       Usage#rssPeakReset()} says so.
 * </ul>
 *
 * On systems without {@code /proc/self/status} the RSS fields are -1.
 */
public final class MemoryProbe {
  private static final Path STATUS = Path.of("/proc/self/status");
  private static final Path CLEAR_REFS = Path.of("/proc/self/clear_refs");

  private MemoryProbe() {}

  /**
   * What a piece of work used.
   *
   * @param heapBeforeBytes heap in use before (after a GC request)
   * @param heapPeakBytes peak heap during the work (sum of pool peaks)
   * @param rssBeforeBytes resident memory before, or -1
   * @param rssPeakBytes resident high-water mark during the work, or -1
   * @param rssAfterBytes resident memory after the work (before releasing its resources), or -1
   * @param rssPeakReset whether the high-water mark was reset before the work
   */
  public record Usage(
      long heapBeforeBytes,
      long heapPeakBytes,
      long rssBeforeBytes,
      long rssPeakBytes,
      long rssAfterBytes,
      boolean rssPeakReset) {
    /** Peak heap above what was in use before. */
    public long heapPeakDeltaBytes() {
      return Math.max(0, heapPeakBytes - heapBeforeBytes);
    }

    /** Resident high-water mark above the resident size before, or -1 when unknown. */
    public long rssPeakDeltaBytes() {
      return rssPeakBytes < 0 || rssBeforeBytes < 0
          ? -1
          : Math.max(0, rssPeakBytes - rssBeforeBytes);
    }
  }

  /** Work whose memory is measured. */
  @FunctionalInterface
  public interface Work<E extends Exception> {
    /** Runs the work; {@code afterRun} must be called once the work's resources are in use. */
    void run(Runnable afterRun) throws E;
  }

  /**
   * Measures {@code work}. The work calls the given callback while its resources (an engine
   * session, its weights) are still held, so {@link Usage#rssAfterBytes()} shows what it keeps.
   */
  public static <E extends Exception> Usage measure(Work<E> work) throws E {
    System.gc();
    boolean reset = resetPeaks();
    long heapBefore = heapUsed();
    long rssBefore = status("VmRSS:").orElse(-1);
    long[] after = {-1, 0};
    work.run(
        () -> {
          after[0] = status("VmRSS:").orElse(-1);
          after[1] = heapUsed();
        });
    // Some collectors (G1) update pool peaks only at collections: take the larger of the pool
    // peaks and the heap in use while the work held its resources.
    long heapPeak = Math.max(heapPeak(), Math.max(after[1], heapUsed()));
    long hwm = status("VmHWM:").orElse(-1);
    return new Usage(heapBefore, heapPeak, rssBefore, hwm, after[0], reset);
  }

  /** Resets the heap pools' peaks and, where allowed, the resident high-water mark. */
  static boolean resetPeaks() {
    for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
      if (p.getType() == MemoryType.HEAP && p.isValid()) {
        p.resetPeakUsage();
      }
    }
    try {
      Files.writeString(CLEAR_REFS, "5");
      return true;
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      return false;
    }
  }

  static long heapUsed() {
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  static long heapPeak() {
    long sum = 0;
    for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
      if (p.getType() == MemoryType.HEAP && p.isValid() && p.getPeakUsage() != null) {
        sum += p.getPeakUsage().getUsed();
      }
    }
    return sum;
  }

  /** A {@code kB} field of {@code /proc/self/status} in bytes, e.g. {@code VmRSS:}. */
  static OptionalLong status(String field) {
    try {
      for (String line : Files.readAllLines(STATUS)) {
        if (line.startsWith(field)) {
          String[] parts = line.substring(field.length()).trim().split("\\s+");
          return OptionalLong.of(Long.parseLong(parts[0]) * 1024);
        }
      }
    } catch (IOException | NumberFormatException e) {
      return OptionalLong.empty();
    }
    return OptionalLong.empty();
  }

  /** Resident memory now, or -1 where unknown. */
  public static long rssNow() {
    return status("VmRSS:").orElse(-1);
  }
}
