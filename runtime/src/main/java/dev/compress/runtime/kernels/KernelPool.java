package dev.compress.runtime.kernels;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * A small fixed pool that runs the tiles of one matrix product in parallel. The calling thread
 * always takes tiles itself, so a call makes progress even when every worker is busy with another
 * call; workers that arrive after the last tile was taken do nothing.
 *
 * <p>The shared pool ({@link #shared()}) has {@code compress.kernels.threads} threads (system
 * property), by default {@link Runtime#availableProcessors()}; its workers are daemon threads.
 */
public final class KernelPool {
  /** System property: threads of the shared pool. */
  public static final String THREADS_PROPERTY = "compress.kernels.threads";

  private static volatile KernelPool shared;

  private final int threads;
  private final LinkedBlockingQueue<Job> queue = new LinkedBlockingQueue<>();

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
    final Thread caller = Thread.currentThread();

    Job(Tiles work, int tiles) {
      this.work = work;
      this.tiles = tiles;
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
        if (done.incrementAndGet() == tiles) {
          LockSupport.unpark(caller);
        }
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
    for (int i = 1; i < threads; i++) {
      Thread w = new Thread(this::workLoop, "compress-kernel-" + i);
      w.setDaemon(true);
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
    Job job = new Job(work, tiles);
    for (int i = 1; i < Math.min(threads, tiles); i++) {
      queue.offer(job);
    }
    job.take();
    int spins = 0;
    while (job.done.get() < tiles) {
      if (++spins < 2000) {
        Thread.onSpinWait();
      } else {
        LockSupport.parkNanos(this, 50_000);
      }
    }
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

  private void workLoop() {
    while (true) {
      try {
        queue.take().take();
      } catch (InterruptedException e) {
        return;
      }
    }
  }
}
