package dev.compress.evaluation;

import dev.compress.evaluation.gate.Gate;
import dev.compress.evaluation.latency.InterleavedLatency;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Builds the printable side-by-side table of {@link EmbeddingFidelityEvaluator}. */
final class FidelityTable {
  private record Row(String label, String original, String compressed, String ratio) {}

  private final List<Row> rows = new ArrayList<>();
  private String worst = "";

  void cosine(double mean, double min, String worstSentence) {
    rows.add(new Row("cosine to original, mean", "1", fixed(mean, 5), ""));
    rows.add(new Row("cosine to original, min", "1", fixed(min, 5), ""));
    String s = worstSentence.length() > 90 ? worstSentence.substring(0, 87) + "..." : worstSentence;
    worst = "least similar sentence (cosine " + fixed(min, 5) + "): \"" + s + "\"";
  }

  void latency(int batch, InterleavedLatency.Result r) {
    String b = "latency b=" + batch;
    rows.add(
        new Row(
            b + ", p50 ms",
            fixed(r.a().p50Ms(), 2),
            fixed(r.b().p50Ms(), 2),
            fixed(r.p50Ratio(), 3) + "x"));
    rows.add(
        new Row(
            b + ", p90 ms",
            fixed(r.a().p90Ms(), 2),
            fixed(r.b().p90Ms(), 2),
            fixed(r.b().p90Ms() / r.a().p90Ms(), 3) + "x"));
  }

  void size(long original, long compressed) {
    rows.add(
        new Row(
            "size on disk, MB",
            fixed(original / 1e6, 2),
            fixed(compressed / 1e6, 2),
            fixed((double) compressed / original, 3) + "x"));
  }

  String render(String header, String footer, List<Gate> gates, List<String> failures) {
    List<Row> all = new ArrayList<>();
    all.add(new Row("", "original", "compressed", "compressed/original"));
    all.addAll(rows);
    int w0 = 0;
    int w1 = 0;
    int w2 = 0;
    int w3 = 0;
    for (Row r : all) {
      w0 = Math.max(w0, r.label.length());
      w1 = Math.max(w1, r.original.length());
      w2 = Math.max(w2, r.compressed.length());
      w3 = Math.max(w3, r.ratio.length());
    }
    String fmt = "%-" + w0 + "s  %" + w1 + "s  %" + w2 + "s  %" + w3 + "s";
    StringBuilder sb = new StringBuilder(header).append('\n');
    for (Row r : all) {
      sb.append(
              String.format(Locale.ROOT, fmt, r.label, r.original, r.compressed, r.ratio)
                  .stripTrailing())
          .append('\n');
    }
    sb.append(worst).append('\n');
    if (!footer.isEmpty()) {
      sb.append(footer).append('\n');
    }
    for (Gate g : gates) {
      boolean failed = failures.stream().anyMatch(f -> f.startsWith(g.metric() + " "));
      sb.append("gate ")
          .append(g.metric())
          .append(' ')
          .append(g.describe())
          .append(": ")
          .append(failed ? "FAILED" : "passed")
          .append('\n');
    }
    return sb.toString();
  }

  private static String fixed(double v, int decimals) {
    return String.format(Locale.ROOT, "%." + decimals + "f", v);
  }
}
