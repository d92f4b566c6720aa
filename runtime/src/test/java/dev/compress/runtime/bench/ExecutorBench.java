package dev.compress.runtime.bench;

import dev.compress.api.canonical.Canonicalizer;
import dev.compress.api.exec.Executor;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.BuiltinModels;
import dev.compress.api.io.onnx.OnnxReader;
import dev.compress.api.tensor.Tensor;
import dev.compress.runtime.djl.DjlExecutor;
import dev.compress.runtime.ort.OrtExecutor;
import dev.compress.runtime.text.EncodedBatch;
import dev.compress.runtime.text.SentenceTokenizer;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * MiniLM forward latency, DJL interpreter vs ONNX Runtime, in one process: batch 1 x 128 tokens and
 * batch 32 x 128 tokens (every token real, no padding), warm-up first, then iterations interleaved
 * (the order alternates each round) so drift on a shared machine hits both alike. Reports median
 * and p90 per engine and the DJL/ORT ratio of medians; then load time and heap of each engine. Both
 * engines get the same number of intra-op threads (the machine's cores).
 *
 * <p>Run: {@code ./mvnw -q -pl runtime test-compile exec:exec -Pbench} (the {@code bench} profile
 * of runtime/pom.xml; {@code -Dbench.it1=N -Dbench.it32=M} set the iteration counts).
 */
public final class ExecutorBench {
  private ExecutorBench() {}

  private static final String TEXT =
      "Call me Ishmael. Some years ago, never mind how long precisely, having little or no money"
          + " in my purse, and nothing particular to interest me on shore, I thought I would sail"
          + " about a little and see the watery part of the world. It is a way I have of driving"
          + " off the spleen and regulating the circulation. Whenever I find myself growing grim"
          + " about the mouth; whenever it is a damp, drizzly November in my soul; whenever I find"
          + " myself involuntarily pausing before coffin warehouses, and bringing up the rear of"
          + " every funeral I meet; and especially whenever my hypos get such an upper hand of me,"
          + " that it requires a strong moral principle to prevent me from deliberately stepping"
          + " into the street, and methodically knocking people's hats off, then, I account it"
          + " high time to get to sea as soon as I can. This is my substitute for pistol and ball.";

  /** Entry point; optional arguments: iterations at batch 1 (default 40), at batch 32 (8). */
  public static void main(String[] args) throws Exception {
    setIfAbsent("DJL_CACHE_DIR", Path.of("target", "djl-cache").toAbsolutePath().toString());
    setIfAbsent("ai.djl.offline", "true");
    setIfAbsent(
        "compress.cache.dir", Path.of("target", "compress-cache").toAbsolutePath().toString());
    int it1 = args.length > 0 ? Integer.parseInt(args[0]) : 40;
    int it32 = args.length > 1 ? Integer.parseInt(args[1]) : 8;
    int threads = Runtime.getRuntime().availableProcessors();

    Path modelFile = BuiltinModels.extract("all-minilm-l6-v2.onnx");
    Path tokenizerFile = BuiltinModels.extract("all-minilm-l6-v2-tokenizer.json");
    System.out.printf(
        "ExecutorBench: all-MiniLM-L6-v2 (%s, %.1f MB), %d cores, Java %s, %s %s%n",
        modelFile.getFileName(),
        Files.size(modelFile) / 1e6,
        threads,
        System.getProperty("java.version"),
        System.getProperty("os.name"),
        System.getProperty("os.arch"));

    // ---- load: time and heap, each engine on its own
    DjlExecutor djl;
    Load djlLoad;
    {
      Load l = Load.begin();
      ModelGraph graph = OnnxReader.read(modelFile);
      djl = DjlExecutor.create(graph);
      djlLoad = l.end();
    }
    OrtExecutor ort;
    Load ortLoad;
    {
      Load l = Load.begin();
      ort = OrtExecutor.builder().setModelPath(modelFile).optIntraOpThreads(threads).build();
      ortLoad = l.end();
    }
    ModelGraph canonicalGraph = OnnxReader.read(modelFile);
    Canonicalizer.canonicalize(canonicalGraph);
    DjlExecutor djlCanonical = DjlExecutor.create(canonicalGraph);
    System.out.printf(
        "torch intra-op threads %d, ORT intra-op threads %d%n",
        ai.djl.pytorch.jni.JniUtils.getNumThreads(), threads);

    try (djl;
        djlCanonical;
        ort;
        SentenceTokenizer tok = SentenceTokenizer.createFixed(tokenizerFile, 128)) {
      List<String> texts = new ArrayList<>();
      String[] words = TEXT.split(" ");
      for (int i = 0; i < 32; i++) {
        // 32 different 128-token texts: the passage rotated by i words.
        List<String> rotated = new ArrayList<>(Arrays.asList(words));
        java.util.Collections.rotate(rotated, -3 * i);
        texts.add(String.join(" ", rotated));
      }
      EncodedBatch b1 = tok.encode(texts.subList(0, 1));
      EncodedBatch b32 = tok.encode(texts);
      checkNoPadding(b1);
      checkNoPadding(b32);
      run("batch 1 x 128", djl, djlCanonical, ort, b1, 10, it1);
      run("batch 32 x 128", djl, djlCanonical, ort, b32, 2, it32);
    }

    System.out.println();
    System.out.println(
        "load (read + prepare; heap = JVM heap only, weights of both engines are native)");
    System.out.println(djlLoad.format("DJL (OnnxReader + DjlExecutor)"));
    System.out.println(ortLoad.format("ORT (OrtSession from file)"));
  }

  private static void setIfAbsent(String key, String value) {
    if (System.getProperty(key) == null && System.getenv(key) == null) {
      System.setProperty(key, value);
    }
  }

  private static void checkNoPadding(EncodedBatch b) {
    if (Arrays.stream(b.attentionMask().toLongArray()).anyMatch(v -> v == 0)) {
      throw new IllegalStateException("benchmark input has padding; make the text longer");
    }
  }

  private static void run(
      String label,
      Executor djl,
      Executor djlCanonical,
      Executor ort,
      EncodedBatch b,
      int warm,
      int n)
      throws Exception {
    List<Executor> engines = List.of(djl, djlCanonical, ort);
    List<Map<String, Tensor>> inputs = new ArrayList<>();
    for (Executor e : engines) {
      inputs.add(b.inputsFor(e.inputNames()));
    }
    for (int i = 0; i < warm; i++) {
      for (int e = 0; e < engines.size(); e++) {
        engines.get(e).forward(inputs.get(e));
      }
    }
    double[][] t = new double[engines.size()][n];
    for (int i = 0; i < n; i++) {
      for (int k = 0; k < engines.size(); k++) {
        int e = (i + k) % engines.size(); // rotate the order every round
        t[e][i] = time(engines.get(e), inputs.get(e));
      }
    }
    double md = percentile(t[0], 50);
    double mc = percentile(t[1], 50);
    double mo = percentile(t[2], 50);
    System.out.printf(
        "%-15s n=%-3d DJL %8.2f ms (p90 %8.2f) | DJL canonical %8.2f ms (p90 %8.2f) |"
            + " ORT %8.2f ms (p90 %8.2f) | DJL/ORT %.2fx, DJL canonical/ORT %.2fx%n",
        label,
        n,
        md,
        percentile(t[0], 90),
        mc,
        percentile(t[1], 90),
        mo,
        percentile(t[2], 90),
        md / mo,
        mc / mo);
  }

  private static double time(Executor ex, Map<String, Tensor> in) throws Exception {
    long t0 = System.nanoTime();
    ex.forward(in);
    return (System.nanoTime() - t0) / 1e6;
  }

  private static double percentile(double[] v, double p) {
    double[] s = v.clone();
    Arrays.sort(s);
    int idx = (int) Math.ceil(p / 100.0 * s.length) - 1;
    return s[Math.max(0, Math.min(s.length - 1, idx))];
  }

  /** Wall time, heap peak (sum of heap pools' peaks) and heap retained after a GC, of one load. */
  private record Load(long t0, long heapBefore, double ms, long peak, long retained, long rss) {
    static Load begin() {
      System.gc();
      for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
        p.resetPeakUsage();
      }
      return new Load(System.nanoTime(), heapUsed(), 0, 0, 0, 0);
    }

    Load end() {
      double took = (System.nanoTime() - t0) / 1e6;
      long peakSum = 0;
      for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
        if (p.getType() == MemoryType.HEAP) {
          peakSum += p.getPeakUsage().getUsed();
        }
      }
      System.gc();
      return new Load(t0, heapBefore, took, peakSum, heapUsed() - heapBefore, rssKb());
    }

    String format(String what) {
      return String.format(
          "%-32s %8.0f ms  heap peak %6.1f MB  heap retained %+6.1f MB  process RSS after %6.0f MB",
          what, ms, peak / 1e6, retained / 1e6, rss / 1e3);
    }

    private static long heapUsed() {
      return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static long rssKb() {
      try {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
          if (line.startsWith("VmRSS:")) {
            return Long.parseLong(line.replaceAll("[^0-9]", ""));
          }
        }
      } catch (java.io.IOException | RuntimeException e) {
        return -1;
      }
      return -1;
    }
  }
}
