package dev.compress.api.pipeline;

import dev.compress.api.pass.ProgressListener;
import java.io.Console;
import java.io.PrintWriter;
import java.lang.reflect.Method;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Shows pass progress on a console. On a terminal it redraws one line per pass with {@code \r}: a
 * bar, layers done/total, elapsed time and ETA, and the layer just finished. Elsewhere (a pipe, a
 * file, CI, {@code TERM=dumb}) it prints plain lines: when a pass starts, at every further tenth of
 * its layers, and when it finishes. No dependencies; calls are expected from one thread (the one
 * running the pipeline).
 */
public final class ConsoleProgress implements ProgressListener {
  private static final long REDRAW_NANOS = 100_000_000L; // at most 10 redraws a second

  private final PrintWriter out;
  private final boolean terminal;
  private final int width;
  private final LongSupplier clock;
  private final Map<String, State> passes = new HashMap<>();

  private static final class State {
    final long started;
    int total;
    int done;
    int lastTenth;
    long lastDraw = Long.MIN_VALUE;

    State(long started, int total) {
      this.started = started;
      this.total = total;
    }
  }

  ConsoleProgress(PrintWriter out, boolean terminal, int width, LongSupplier nanoClock) {
    this.out = out;
    this.terminal = terminal;
    this.width = Math.max(40, width);
    this.clock = nanoClock;
  }

  /**
   * A progress display for {@code out}: a redrawn bar when this process runs on a terminal (see
   * {@link #isTerminal()}), plain lines otherwise. The bar fits in {@code $COLUMNS} columns (80
   * when unset).
   */
  public static ConsoleProgress forConsole(PrintWriter out) {
    return new ConsoleProgress(out, isTerminal(), columns(), System::nanoTime);
  }

  /** Plain lines, whatever {@code out} is connected to. */
  public static ConsoleProgress plain(PrintWriter out) {
    return new ConsoleProgress(out, false, 80, System::nanoTime);
  }

  /**
   * Whether this process talks to an interactive terminal: a {@link System#console()} that (on JDK
   * 22+) {@code isTerminal()}, and a {@code TERM} that is not {@code dumb}.
   */
  public static boolean isTerminal() {
    Console c = System.console();
    if (c == null || "dumb".equals(System.getenv("TERM"))) {
      return false;
    }
    try { // JDK 22+ returns a console even when redirected; ask it (not in the release 21 API)
      Method m = Console.class.getMethod("isTerminal");
      return (Boolean) m.invoke(c);
    } catch (ReflectiveOperationException e) {
      return true; // JDK 21: a console exists only on a terminal
    }
  }

  private static int columns() {
    try {
      String c = System.getenv("COLUMNS");
      return c == null ? 80 : Integer.parseInt(c.trim());
    } catch (NumberFormatException e) {
      return 80;
    }
  }

  @Override
  public void start(String pass, int total) {
    State s = new State(clock.getAsLong(), total);
    passes.put(pass, s);
    if (terminal) {
      draw(pass, s, "", true);
    } else {
      out.println(pass + ": " + total + " layers");
      out.flush();
    }
  }

  @Override
  public void step(String pass, int done, int total, String item) {
    State s = passes.computeIfAbsent(pass, k -> new State(clock.getAsLong(), total));
    s.done = done;
    s.total = total;
    if (terminal) {
      draw(pass, s, item == null ? "" : item, done >= total);
      return;
    }
    int tenth = total <= 0 ? 10 : (int) (10L * done / total);
    if (tenth > s.lastTenth && done < total) {
      s.lastTenth = tenth;
      long elapsed = clock.getAsLong() - s.started;
      out.printf(
          Locale.ROOT,
          "%s: %d/%d layers (%d%%), elapsed %s, ETA %s%n",
          pass,
          done,
          total,
          total <= 0 ? 100 : 100L * done / total,
          duration(elapsed),
          eta(elapsed, done, total));
      out.flush();
    }
  }

  @Override
  public void finish(String pass) {
    State s = passes.remove(pass);
    long elapsed = s == null ? 0 : clock.getAsLong() - s.started;
    String counts = s == null ? "" : " " + s.done + "/" + s.total + " layers";
    if (terminal) {
      String line = pass + ": done," + counts + " in " + duration(elapsed);
      out.print("\r" + pad(line));
      out.println();
    } else {
      out.println(pass + ": done," + counts + " in " + duration(elapsed));
    }
    out.flush();
  }

  private void draw(String pass, State s, String item, boolean force) {
    long now = clock.getAsLong();
    if (!force && now - s.lastDraw < REDRAW_NANOS) {
      return;
    }
    s.lastDraw = now;
    long elapsed = now - s.started;
    int barWidth = 20;
    int filled = s.total <= 0 ? barWidth : (int) ((long) barWidth * s.done / s.total);
    String bar = "#".repeat(filled) + ".".repeat(barWidth - filled);
    String line =
        String.format(
            Locale.ROOT,
            "%s [%s] %d/%d %s ETA %s",
            pass,
            bar,
            s.done,
            s.total,
            duration(elapsed),
            eta(elapsed, s.done, s.total));
    int room = width - 1 - line.length() - 1;
    if (!item.isEmpty() && room > 8) {
      line +=
          " " + (item.length() <= room ? item : "..." + item.substring(item.length() - room + 3));
    }
    out.print("\r" + pad(line));
    out.flush();
  }

  /** Pads (or cuts) to the line width so a shorter line fully covers the previous one. */
  private String pad(String line) {
    int w = width - 1;
    return line.length() >= w ? line.substring(0, w) : line + " ".repeat(w - line.length());
  }

  private static String eta(long elapsedNanos, int done, int total) {
    if (done <= 0 || total <= 0) {
      return "--:--";
    }
    return duration(Math.max(0, elapsedNanos / done * (long) (total - done)));
  }

  /** {@code m:ss}, or {@code h:mm:ss} from an hour on. */
  static String duration(long nanos) {
    long s = Math.max(0, nanos) / 1_000_000_000L;
    return s >= 3600
        ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
        : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
  }
}
