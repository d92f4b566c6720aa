package dev.compress.runtime.djl;

import ai.djl.pytorch.jni.JniUtils;

/**
 * Arbitrates the CPU between PyTorch's intra-op OpenMP pool and the project's kernel pool during a
 * forward whose quantized layers run on the project's kernels.
 *
 * <p>Both pools want every core. After each PyTorch operator, its OpenMP workers keep spinning for
 * a while (libgomp's default spin count) on the cores the kernel pool needs for the next quantized
 * layer, so the kernels' tiles wait for a descheduled thread.
 *
 * <p>Opt-in: with {@value #PROPERTY}{@code =N} (N >= 1; default 0, off), a forward opens a {@link
 * #scope}, and the first quantized layer that runs on the kernels inside it ({@link #beforeKernel})
 * sets PyTorch's intra-op threads to N until the scope closes, when the value found is restored. A
 * forward whose quantized layers all go to PyTorch's matmul (int8 layers above {@code
 * compress.kernels.maxRows} rows) keeps PyTorch's threads.
 *
 * <p>Measured on 2 cores, all-minilm-l6-v2 int4 (RTN g32) at batch 1 and seq 16: 15-18 ms with the
 * limit off and 11-14 ms with N = 1 in benchmarks' {@code MiniLmInterleaved}; 23-27 ms and 18-20 ms
 * in {@code compress bench} with only quantized models in the process. It is off by default because
 * a float model running in the same process, between those forwards, was slower in most runs (f32
 * at seq 16: 13-15 ms with the limit off, 17-25 ms with it on, in both tools), which would flatter
 * the quantized model in a side-by-side benchmark. Use it in a process that serves quantized
 * models.
 *
 * <p>Where the setting lands is OpenMP's business: a thread that has run a parallel PyTorch
 * operator keeps its own copy (so other such threads keep their threads during the limit, measured
 * in the test), and a thread that has not takes the value last set anywhere (so a thread that
 * starts using PyTorch while another forward holds the limit may start with the limited count).
 */
final class TorchThreads {
  /** System property: PyTorch intra-op threads while kernel-backed layers run (0, default: off). */
  static final String PROPERTY = "compress.djl.torchThreadsWithKernels";

  /** The scope of the forward running on this thread, if any. */
  private static final ThreadLocal<Scope> CURRENT = new ThreadLocal<>();

  private TorchThreads() {}

  /**
   * The configured thread count: {@value #PROPERTY}, 0 (the default) for "leave PyTorch alone".
   *
   * @throws IllegalArgumentException naming the property when it is not an integer >= 0
   */
  static int configured() {
    String v = System.getProperty(PROPERTY, "0").trim();
    try {
      int n = Integer.parseInt(v);
      if (n >= 0) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException(
        "system property " + PROPERTY + " must be an integer >= 0, found '" + v + "'");
  }

  /**
   * One forward on one thread; closing it (on that thread) restores PyTorch's threads if the limit
   * was armed.
   */
  static final class Scope implements AutoCloseable {
    private final int threads;
    private final Scope outer;
    private boolean armed;
    private boolean closed;
    private int saved;

    private Scope(int threads, Scope outer) {
      this.threads = threads;
      this.outer = outer;
    }

    private void arm() {
      if (armed || threads <= 0) {
        return;
      }
      armed = true;
      saved = JniUtils.getNumThreads();
      if (saved != threads) {
        JniUtils.setNumThreads(threads);
      }
    }

    @Override
    public void close() {
      if (closed) {
        return;
      }
      closed = true;
      CURRENT.set(outer);
      if (armed && JniUtils.getNumThreads() != saved) {
        JniUtils.setNumThreads(saved);
      }
    }
  }

  /**
   * Opens the scope of a forward on this thread that limits PyTorch to {@code threads} intra-op
   * threads from its first kernel-backed layer on ({@code 0}: never).
   */
  static Scope scope(int threads) {
    Scope s = new Scope(threads, CURRENT.get());
    CURRENT.set(s);
    return s;
  }

  /** Called before a quantized layer runs on the kernels: arms the current scope's limit. */
  static void beforeKernel() {
    Scope s = CURRENT.get();
    if (s != null) {
      s.arm();
    }
  }
}
