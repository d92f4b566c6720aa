package dev.compress.runtime.kernels;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * A small fixed pool that runs the tiles of one matrix product in parallel. The calling thread
 * always takes tiles itself, so a call makes progress even when every worker is busy with another
 * call; workers that arrive after the last tile was taken do nothing.
 *
 * <p>Hand-off: the job is published in one slot; a worker may poll it for {@value #SPIN_PROPERTY}
 * nanoseconds after its last job before it parks (default {@link #SPIN_NANOS}), a parked worker is
 * unparked, and the caller waits for the last tiles by spinning, then yielding, never by a timed
 * park (the old timed park cost tens of microseconds per call on a virtual machine).
 *
 * <p>The shared pool ({@link #shared()}) has {@code compress.kernels.threads} threads (system
 * property), by default {@link Runtime#availableProcessors()}; its workers are daemon threads.
 */
public final class KernelPool {
  /** System property: threads of the shared pool. */
  public static final String THREADS_PROPERTY = "compress.kernels.threads";

  /** System property: nanoseconds an idle worker polls for the next job before parking. */
  public static final String SPIN_PROPERTY = "compress.kernels.spinNanos";

  /**
   * How long an idle worker polls for the next job before parking: 0 by default. Inside a model the
   * next layer is tens of microseconds away and PyTorch's own OpenMP threads need the cores
   * meanwhile (all-MiniLM-L6-v2 at seq 16 on the DJL executor: 0.9-1.0x of f32 speed with 0,
   * 0.6-0.8x with 200 us); back-to-back products (a benchmark loop) gain from a spin (384x1536 int4
   * at batch 1: 34 us per call with 200 us against 51 us parking at once).
   */
  static final long SPIN_NANOS = Long.getLong(SPIN_PROPERTY, 0);

  private static volatile KernelPool shared;

  private final int threads;
  private final Thread[] workers;
  private final AtomicIntegerArray parked;

  /**
   * The newest job while it runs (cleared when done, so finished jobs' arrays are not kept); a
   * worker runs each job it sees at most once.
   */
  private final AtomicReference<Job> current = new AtomicReference<>();

  private final AtomicLong jobIds = new AtomicLong();

  /** The work of one call: {@code tiles} independent pieces. */
  @FunctionalInterface
  public interface Tiles {
    /** Computes tile {@code t}. */
    void run(int t);
  }

  private static final class Job {
    final Tiles work;
    final int tiles;
    final AtomicInteger next = new AtomicInteger();
    final AtomicInteger done = new AtomicInteger();
    final AtomicReference<Throwable> failure = new AtomicReference<>();
    final long id;

    Job(Tiles work, int tiles, long id) {
      this.work = work;
      this.tiles = tiles;
      this.id = id;
    }

    void take() {
      int t;
      while ((t = next.getAndIncrement()) < tiles) {
        try {
          if (failure.get() == null) {
            work.run(t);
          }
        } catch (Throwable e) {
          failure.compareAndSet(null, e);
        }
        done.incrementAndGet();
      }
    }
  }

  /**
   * A pool of {@code threads} threads in all (the caller counts as one).
   *
   * @throws IllegalArgumentException when {@code threads < 1}
   */
  public KernelPool(int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("kernel threads must be >= 1, found " + threads);
    }
    this.threads = threads;
    this.workers = new Thread[threads - 1];
    this.parked = new AtomicIntegerArray(Math.max(1, threads - 1));
    for (int i = 0; i < workers.length; i++) {
      int id = i;
      Thread w = new Thread(() -> workLoop(id), "compress-kernel-" + (i + 1));
      w.setDaemon(true);
      workers[i] = w;
      w.start();
    }
  }

  /** The process-wide pool. */
  public static KernelPool shared() {
    KernelPool p = shared;
    if (p == null) {
      synchronized (KernelPool.class) {
        p = shared;
        if (p == null) {
          p = new KernelPool(defaultThreads());
          shared = p;
        }
      }
    }
    return p;
  }

  /** {@code compress.kernels.threads} if set, else the number of available processors. */
  public static int defaultThreads() {
    String v = System.getProperty(THREADS_PROPERTY);
    if (v != null && !v.isBlank()) {
      try {
        int t = Integer.parseInt(v.trim());
        if (t >= 1) {
          return t;
        }
      } catch (NumberFormatException e) {
        // fall through to the error below
      }
      throw new IllegalArgumentException(
          "system property " + THREADS_PROPERTY + " must be an integer >= 1, found '" + v + "'");
    }
    return Runtime.getRuntime().availableProcessors();
  }

  /** Threads in all, the caller included. */
  public int threads() {
    return threads;
  }

  /**
   * Runs tiles {@code 0..tiles-1}, in parallel where there is more than one; returns when all are
   * done.
   *
   * @throws RuntimeException the first failure of a tile (an {@link Error} is rethrown as is)
   */
  public void run(int tiles, Tiles work) {
    if (tiles <= 0) {
      return;
    }
    if (tiles == 1 || threads == 1) {
      for (int t = 0; t < tiles; t++) {
        work.run(t);
      }
      return;
    }
    Job job = new Job(work, tiles, jobIds.incrementAndGet());
    current.set(job);
    for (int i = 0; i < Math.min(workers.length, tiles - 1); i++) {
      if (parked.get(i) != 0) {
        LockSupport.unpark(workers[i]);
      }
    }
    job.take();
    // the tiles left are running on workers right now: wait for them without a timed park
    int spins = 0;
    while (job.done.get() < tiles) {
      if (++spins < 20_000) {
        Thread.onSpinWait();
      } else {
        Thread.yield();
      }
    }
    current.compareAndSet(job, null);
    Throwable f = job.failure.get();
    if (f instanceof RuntimeException r) {
      throw r;
    }
    if (f instanceof Error e) {
      throw e;
    }
    if (f != null) {
      throw new IllegalStateException(f);
    }
  }

  private void workLoop(int id) {
    long last = 0; // the id of the last job this worker saw
    while (true) {
      long idleSince = System.nanoTime();
      Job job;
      int polls = 0;
      while ((job = current.get()) == null || job.id == last) {
        Thread.onSpinWait();
        if ((++polls & 63) == 0 && System.nanoTime() - idleSince > SPIN_NANOS) {
          parked.set(id, 1);
          Job now = current.get();
          if (now == null || now.id == last) { // a job published after this check unparks us
            LockSupport.park(this);
          }
          parked.set(id, 0);
          idleSince = System.nanoTime();
        }
      }
      last = job.id;
      job.take();
      job = null;
    }
  }
}
