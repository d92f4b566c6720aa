package dev.compress.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Prints the ratio table of one JMH run ({@code -rf json}) of {@link LinearBench} and {@link
 * BandwidthBench}: times per engine, speed-ups of our kernels over DJL's f32 matmul and over ONNX
 * Runtime (above 1 = ours is faster), and at batch 1 each kernel's share of the measured read
 * bandwidth ({@code bytes of weights and scales / time / bandwidth}).
 *
 * <p>Usage: {@code java -cp ... dev.compress.benchmarks.BenchTable jmh.json}
 */
public final class BenchTable {
  private BenchTable() {}

  private static final String[] IMPLS = {
    "int4", "int4-a8", "int8", "w8a8", "djl-fp32", "ort-int4", "ort-int8", "ort-fp32"
  };

  public static void main(String[] args) throws IOException {
    if (args.length != 1) {
      System.err.println("usage: BenchTable JMH_RESULT.json");
      System.exit(2);
    }
    JsonNode root = new ObjectMapper().readTree(Path.of(args[0]).toFile());
    double bandwidthUs = Double.NaN;
    // shape -> m -> impl -> microseconds
    Map<String, Map<Integer, Map<String, Double>>> t = new LinkedHashMap<>();
    // seq -> engine -> variant -> microseconds
    Map<Integer, Map<String, Map<String, Double>>> minilm = new TreeMap<>();
    for (JsonNode r : root) {
      String bench = r.get("benchmark").asText();
      double us = toMicros(r.get("primaryMetric"));
      if (bench.endsWith("MiniLmBench.forward")) {
        JsonNode p = r.get("params");
        minilm
            .computeIfAbsent(Integer.parseInt(p.get("seq").asText()), x -> new TreeMap<>())
            .computeIfAbsent(p.get("engine").asText(), x -> new LinkedHashMap<>())
            .put(p.get("variant").asText(), us);
      } else if (bench.endsWith("BandwidthBench.readAll")) {
        bandwidthUs = us;
      } else if (bench.endsWith("LinearBench.multiply")) {
        JsonNode p = r.get("params");
        t.computeIfAbsent(p.get("shape").asText(), s -> new TreeMap<>())
            .computeIfAbsent(Integer.parseInt(p.get("m").asText()), s -> new LinkedHashMap<>())
            .put(p.get("impl").asText(), us);
      }
    }
    double gbps = BandwidthBench.BYTES / (bandwidthUs * 1e-6) / 1e9;
    System.out.printf(Locale.ROOT, "%nMeasured read bandwidth: %.1f GB/s%n", gbps);
    System.out.println();
    StringBuilder h = new StringBuilder(String.format(Locale.ROOT, "%-10s %3s", "K x N", "M"));
    for (String i : IMPLS) {
      h.append(String.format(Locale.ROOT, " %9s", i));
    }
    h.append(
        "  | fp32/int4 fp32/i4a8 fp32/int8 fp32/w8a8 | ortI4/int4 ortI4/i4a8 ortI8/w8a8 ortI8/int8"
            + " | bw int4 bw i4a8 bw int8");
    System.out.println(
        "times in microseconds; ratios > 1: ours faster; bw: share of read bandwidth");
    System.out.println(h);
    for (var s : t.entrySet()) {
      int[] kn = LinearBench.kn(s.getKey());
      for (var e : s.getValue().entrySet()) {
        Map<String, Double> v = e.getValue();
        StringBuilder row =
            new StringBuilder(String.format(Locale.ROOT, "%-10s %3d", s.getKey(), e.getKey()));
        for (String i : IMPLS) {
          Double us = v.get(i);
          row.append(
              us == null
                  ? String.format(Locale.ROOT, " %9s", "-")
                  : String.format(Locale.ROOT, " %9.1f", us));
        }
        row.append("  |")
            .append(ratio(v, "djl-fp32", "int4"))
            .append(ratio(v, "djl-fp32", "int4-a8"))
            .append(ratio(v, "djl-fp32", "int8"))
            .append(ratio(v, "djl-fp32", "w8a8"))
            .append(" |")
            .append(ratio(v, "ort-int4", "int4"))
            .append(ratio(v, "ort-int4", "int4-a8"))
            .append(ratio(v, "ort-int8", "w8a8"))
            .append(ratio(v, "ort-int8", "int8"))
            .append(" |");
        if (e.getKey() == 1 && !Double.isNaN(gbps)) {
          row.append(bw(v, "int4", kn, gbps))
              .append(bw(v, "int4-a8", kn, gbps))
              .append(bw(v, "int8", kn, gbps));
        }
        System.out.println(row);
      }
    }
    if (!minilm.isEmpty()) {
      System.out.println();
      System.out.println("all-MiniLM-L6-v2, batch 1, milliseconds; ratios > 1: quantized faster");
      System.out.printf(
          Locale.ROOT,
          "%4s %-6s %9s %9s %9s  %9s %9s%n",
          "seq",
          "engine",
          "fp32",
          "int8",
          "int4",
          "fp32/int8",
          "fp32/int4");
      for (var s : minilm.entrySet()) {
        for (var e : s.getValue().entrySet()) {
          Map<String, Double> v = e.getValue();
          System.out.printf(
              Locale.ROOT,
              "%4d %-6s %9s %9s %9s %s %s%n",
              s.getKey(),
              e.getKey(),
              ms(v.get("fp32")),
              ms(v.get("int8")),
              ms(v.get("int4")),
              ratio(v, "fp32", "int8"),
              ratio(v, "fp32", "int4"));
        }
      }
    }
  }

  private static String ms(Double us) {
    return us == null ? "-" : String.format(Locale.ROOT, "%.2f", us / 1e3);
  }

  private static String ratio(Map<String, Double> v, String num, String den) {
    Double a = v.get(num);
    Double b = v.get(den);
    return a == null || b == null
        ? String.format(Locale.ROOT, " %9s", "-")
        : String.format(Locale.ROOT, " %8.2fx", a / b);
  }

  private static String bw(Map<String, Double> v, String impl, int[] kn, double gbps) {
    Double us = v.get(impl);
    if (us == null) {
      return String.format(Locale.ROOT, " %7s", "-");
    }
    double achieved = LinearBench.weightBytes(impl, kn[0], kn[1]) / (us * 1e-6) / 1e9;
    return String.format(Locale.ROOT, " %6.0f%%", 100 * achieved / gbps);
  }

  private static double toMicros(JsonNode metric) {
    double score = metric.get("score").asDouble();
    String unit = metric.get("scoreUnit").asText();
    return switch (unit) {
      case "ns/op" -> score / 1e3;
      case "us/op" -> score;
      case "ms/op" -> score * 1e3;
      case "s/op" -> score * 1e6;
      default -> throw new IllegalArgumentException("unexpected JMH unit " + unit);
    };
  }
}
