package dev.compress.benchmarks;

import dev.compress.runtime.kernels.KernelPool;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Memory read bandwidth, measured as the kernels read: every core (the shared {@link KernelPool})
 * sums its share of a 512 MiB int array (16x a 32 MB L3) with 256-bit vector loads. Bytes per call
 * / time = the bandwidth the batch-1 kernels are compared against.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx6g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class BandwidthBench {
  /** Bytes read per call. */
  public static final long BYTES = 512L << 20;

  private static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
  private static final int TILES = 64;

  private int[] data;
  private final long[] partial = new long[TILES];

  @Setup(Level.Trial)
  public void setup() {
    data = new int[(int) (BYTES / 4)];
    for (int i = 0; i < data.length; i += 1024) {
      data[i] = i;
    }
  }

  @Benchmark
  public long readAll() {
    int per = data.length / TILES;
    KernelPool.shared()
        .run(
            TILES,
            t -> {
              IntVector a0 = IntVector.zero(I);
              IntVector a1 = IntVector.zero(I);
              IntVector a2 = IntVector.zero(I);
              IntVector a3 = IntVector.zero(I);
              int end = (t + 1) * per;
              for (int i = t * per; i < end; i += 32) {
                a0 = a0.add(IntVector.fromArray(I, data, i));
                a1 = a1.add(IntVector.fromArray(I, data, i + 8));
                a2 = a2.add(IntVector.fromArray(I, data, i + 16));
                a3 = a3.add(IntVector.fromArray(I, data, i + 24));
              }
              partial[t] = a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
            });
    long s = 0;
    for (long p : partial) {
      s += p;
    }
    return s;
  }
}
