package dev.compress.api.pipeline;

import dev.compress.api.pass.ProgressListener;
import java.io.Console;
import java.io.PrintWriter;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Shows the progress of passes and of the evaluation on a console (meant for stderr, so that it
 * never mixes with results on stdout). Nothing is shown for a task that finishes within the delay
 * (one second by default): a fast pass leaves no trace. After the delay, on a terminal it redraws
 * one line per task with {@code \r}: a bar, units done/total, elapsed time and ETA, and the current
 * item, refreshed at least once a second while the task runs; elsewhere (a pipe, a file, CI, {@code
 * TERM=dumb}) it prints plain lines: when the task is first shown, at every further tenth of its
 * units, and when it finishes.
 *
 * <p>Calls are expected from one thread (the one running the pipeline); a daemon timer thread,
 * shared by all instances, shows a task whose first unit takes longer than the delay and keeps a
 * terminal line's clock running. Every method is synchronized. {@link #close()} stops the timer and
 * ends a bar left drawn by a task that failed, so an error message starts on its own line.
 */
public final class ConsoleProgress implements ProgressListener, AutoCloseable {
  private static final long REDRAW_NANOS = 100_000_000L; // at most 10 redraws a second
  private static final long TICK_MILLIS = 1000;

  /**
   * The system property that says whether progress goes to a terminal (see {@link #isTerminal}).
   */
  public static final String TERMINAL = "compress.progress.terminal";

  /** The default delay before a task is shown. */
  public static final Duration DEFAULT_DELAY = Duration.ofSeconds(1);

  private final PrintWriter out;
  private final boolean terminal;
  private final int width;
  private final LongSupplier clock;
  private final long delayNanos;
  private final boolean timer;
  private final Map<String, State> tasks = new LinkedHashMap<>();
  private ScheduledFuture<?> ticking;

  private static final class State {
    final long started;
    final String unit;
    int total;
    int done;
    String item = "";
    boolean shown;
    int lastTenth;
    long lastDraw = Long.MIN_VALUE;

    State(long started, int total, String unit) {
      this.started = started;
      this.total = total;
      this.unit = unit;
    }
  }

  /** Timer thread shared by every instance (daemon: never keeps the JVM alive). */
  private static final class Timer {
    static final ScheduledExecutorService EXECUTOR =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "compress-progress");
              t.setDaemon(true);
              return t;
            });
  }

  ConsoleProgress(
      PrintWriter out,
      boolean terminal,
      int width,
      LongSupplier nanoClock,
      Duration delay,
      boolean timer) {
    this.out = out;
    this.terminal = terminal;
    this.width = Math.max(40, width);
    this.clock = nanoClock;
    this.delayNanos = delay.toNanos();
    this.timer = timer;
  }

  /**
   * A progress display for {@code out}: a redrawn bar when this process runs on a terminal (see
   * {@link #isTerminal()}), plain lines otherwise; tasks shorter than {@link #DEFAULT_DELAY} are
   * not shown. The bar fits in {@code $COLUMNS} columns (80 when unset).
   */
  public static ConsoleProgress forConsole(PrintWriter out) {
    return new ConsoleProgress(out, isTerminal(), columns(), System::nanoTime, DEFAULT_DELAY, true);
  }

  /** Plain lines, whatever {@code out} is connected to; tasks shorter than a second not shown. */
  public static ConsoleProgress plain(PrintWriter out) {
    return plain(out, DEFAULT_DELAY);
  }

  /** Plain lines, for tasks still running after {@code delay} ({@link Duration#ZERO}: all). */
  public static ConsoleProgress plain(PrintWriter out, Duration delay) {
    return new ConsoleProgress(out, false, 80, System::nanoTime, delay, true);
  }

  /**
   * Whether progress goes to an interactive terminal: the system property {@value #TERMINAL} when
   * set ({@code true} or {@code false}; the {@code ./compress} launcher sets it to whether its
   * stderr is a terminal), else whether this process has a {@link System#console()} that (on JDK
   * 22+) {@code isTerminal()} (which looks at stdin and stdout, not stderr) and a {@code TERM} that
   * is not {@code dumb}.
   */
  public static boolean isTerminal() {
    String forced = System.getProperty(TERMINAL);
    if (forced != null && !forced.isBlank()) {
      return Boolean.parseBoolean(forced.trim());
    }
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
    start(pass, total, "layers");
  }

  @Override
  public synchronized void start(String task, int total, String unit) {
    tasks.put(task, new State(clock.getAsLong(), total, unit));
    if (delayNanos <= 0) {
      show(task, tasks.get(task));
    }
    if (timer && ticking == null) {
      ticking =
          Timer.EXECUTOR.scheduleAtFixedRate(
              this::tick, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
    }
  }

  @Override
  public synchronized void step(String pass, int done, int total, String item) {
    State s = tasks.computeIfAbsent(pass, k -> new State(clock.getAsLong(), total, "layers"));
    s.done = done;
    s.total = total;
    s.item = item == null ? "" : item;
    if (!s.shown) {
      if (clock.getAsLong() - s.started >= delayNanos) {
        show(pass, s);
      }
      return;
    }
    if (terminal) {
      draw(pass, s, done >= total);
      return;
    }
    int tenth = tenth(s);
    if (tenth > s.lastTenth && done < total) {
      s.lastTenth = tenth;
      line(pass, s);
    }
  }

  @Override
  public synchronized void finish(String pass) {
    State s = tasks.remove(pass);
    if (tasks.isEmpty() && ticking != null) {
      ticking.cancel(false);
      ticking = null;
    }
    if (s == null || !s.shown) {
      return; // finished within the delay: nothing to say
    }
    String line =
        pass
            + ": done, "
            + s.done
            + "/"
            + s.total
            + " "
            + s.unit
            + " in "
            + duration(clock.getAsLong() - s.started);
    out.print(terminal ? "\r" + pad(line) + System.lineSeparator() : line + System.lineSeparator());
    out.flush();
  }

  /**
   * Stops showing anything: tasks not finished (a failure) are dropped, a bar drawn for them is
   * ended with a newline, and the timer stops.
   */
  @Override
  public synchronized void close() {
    boolean drawn = terminal && tasks.values().stream().anyMatch(s -> s.shown);
    tasks.clear();
    if (ticking != null) {
      ticking.cancel(false);
      ticking = null;
    }
    if (drawn) {
      out.println();
      out.flush();
    }
  }

  /**
   * Called every second by the timer: shows tasks that have run past the delay, and redraws the
   * terminal line so its clock moves while a long unit runs.
   */
  synchronized void tick() {
    long now = clock.getAsLong();
    for (Map.Entry<String, State> e : tasks.entrySet()) {
      State s = e.getValue();
      if (!s.shown) {
        if (now - s.started >= delayNanos) {
          show(e.getKey(), s);
        }
      } else if (terminal) {
        draw(e.getKey(), s, false);
      }
    }
  }

  private void show(String task, State s) {
    s.shown = true;
    if (terminal) {
      draw(task, s, true);
      return;
    }
    s.lastTenth = tenth(s);
    if (s.done == 0) {
      out.println(task + ": " + s.total + " " + s.unit + (s.item.isEmpty() ? "" : ": " + s.item));
      out.flush();
    } else {
      line(task, s);
    }
  }

  private static int tenth(State s) {
    return s.total <= 0 ? 10 : (int) (10L * s.done / s.total);
  }

  private void line(String task, State s) {
    long elapsed = clock.getAsLong() - s.started;
    out.printf(
        Locale.ROOT,
        "%s: %d/%d %s (%d%%), elapsed %s, ETA %s%s%n",
        task,
        s.done,
        s.total,
        s.unit,
        s.total <= 0 ? 100 : 100L * s.done / s.total,
        duration(elapsed),
        eta(elapsed, s.done, s.total),
        s.item.isEmpty() ? "" : ": " + s.item);
    out.flush();
  }

  private void draw(String pass, State s, boolean force) {
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
    String item = s.item;
    int room = width - 1 - line.length() - 1;
    if (!item.isEmpty() && room > 8) {
      // a layer name says most at its end (.../layer.5/output/dense/MatMul), a step at its start
      line +=
          " "
              + (item.length() <= room
                  ? item
                  : s.unit.equals("layers")
                      ? "..." + item.substring(item.length() - room + 3)
                      : item.substring(0, room - 3) + "...");
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
