package dev.compress.evaluation.bench;

import dev.compress.evaluation.bench.BenchReport.LatencyPoint;
import dev.compress.evaluation.latency.LatencyStats;
import dev.compress.evaluation.memory.MemoryProbe;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The side-by-side text table of a {@link BenchReport}: one row per variant with size, size ratio,
 * p50 latency with its 95% confidence interval at the first point of the sweep, the latency ratio
 * against the baseline (below 1 is faster), and every task metric; then the whole sweep (p50 per
 * variant and point) and the memory, when measured.
 */
public final class BenchTable {
  private BenchTable() {}

  /**
   * One table of the report.
   *
   * @param caption a line above it (empty for the main table)
   * @param rows the header row, then one row per variant or point
   */
  public record Table(String caption, List<List<String>> rows) {
    /** Copies the rows. */
    public Table {
      rows = rows.stream().map(List::copyOf).toList();
    }
  }

  /** Renders the report: the {@link #tables} as text, then the {@link #details}. */
  public static String render(BenchReport r) {
    StringBuilder sb = new StringBuilder();
    for (Table t : tables(r)) {
      if (!t.caption().isEmpty()) {
        sb.append('\n').append(t.caption()).append('\n');
      }
      table(sb, t.rows());
    }
    details(r).forEach(l -> sb.append(l).append('\n'));
    return sb.toString();
  }

  /**
   * The tables: side by side (size, latency at the first point, task metrics), the latency sweep
   * when it has more than one point, and memory when measured.
   */
  public static List<Table> tables(BenchReport r) {
    List<Table> out = new ArrayList<>();
    List<String> head = new ArrayList<>(List.of("variant", "size MB", "size x"));
    LatencyPoint first = r.latency().isEmpty() ? null : r.latency().get(0);
    if (first != null) {
      head.add("p50 ms " + point(first) + " [95% CI]");
      head.add("p50 x");
      head.add("items/s");
    }
    Set<String> metrics = new LinkedHashSet<>();
    for (int i = 0; i < r.variants().size(); i++) {
      metrics.addAll(r.taskMetrics(i).keySet());
    }
    head.addAll(metrics);
    List<List<String>> rows = new ArrayList<>();
    rows.add(head);
    long base = r.variants().get(0).bytes();
    for (int i = 0; i < r.variants().size(); i++) {
      BenchReport.VariantResult v = r.variants().get(i);
      List<String> row = new ArrayList<>();
      row.add(v.name());
      row.add(fixed(v.bytes() / 1e6, 2));
      row.add(fixed((double) v.bytes() / base, 3));
      if (first != null) {
        LatencyStats s = first.stats().get(i);
        row.add(
            fixed(s.p50Ms(), 2)
                + " ["
                + fixed(s.p50Ci().lower(), 2)
                + ", "
                + fixed(s.p50Ci().upper(), 2)
                + "]");
        row.add(fixed(first.p50Ratio(i), 3));
        row.add(fixed(s.throughput(first.batch()), 1));
      }
      for (String m : metrics) {
        Double x = r.taskMetrics(i).get(m);
        row.add(x == null ? "-" : fixed(x, 4));
      }
      rows.add(row);
    }
    out.add(new Table("", rows));
    if (r.latency().size() > 1) {
      List<List<String>> sweep = new ArrayList<>();
      List<String> h = new ArrayList<>(List.of("point"));
      r.variants().forEach(v -> h.add(v.name()));
      sweep.add(h);
      for (LatencyPoint p : r.latency()) {
        List<String> row = new ArrayList<>(List.of(point(p)));
        for (int i = 0; i < p.stats().size(); i++) {
          row.add(
              fixed(p.stats().get(i).p50Ms(), 2)
                  + (i == 0 ? "" : " (" + fixed(p.p50Ratio(i), 2) + "x)"));
        }
        sweep.add(row);
      }
      out.add(
          new Table("latency sweep, p50 ms (ratio to " + r.variants().get(0).name() + ")", sweep));
    }
    if (r.variants().get(0).memory().isPresent()) {
      List<List<String>> mem = new ArrayList<>();
      mem.add(List.of("variant", "heap peak +MB", "RSS peak +MB", "RSS held MB"));
      for (BenchReport.VariantResult v : r.variants()) {
        MemoryProbe.Usage u = v.memory().orElseThrow();
        mem.add(
            List.of(
                v.name(),
                fixed(u.heapPeakDeltaBytes() / 1e6, 2),
                u.rssPeakDeltaBytes() < 0 ? "-" : fixed(u.rssPeakDeltaBytes() / 1e6, 1),
                u.rssAfterBytes() < 0 || u.rssBeforeBytes() < 0
                    ? "-"
                    : fixed((u.rssAfterBytes() - u.rssBeforeBytes()) / 1e6, 1)));
      }
      out.add(new Table("memory, each model alone", mem));
    }
    return out;
  }

  /**
   * The lines under the tables: the task's data identities and settings (pooling), the environment,
   * and every note.
   */
  public static List<String> details(BenchReport r) {
    List<String> out = new ArrayList<>();
    r.task()
        .ifPresent(
            t -> {
              t.data()
                  .forEach(
                      (role, id) ->
                          out.add(
                              role
                                  + ": "
                                  + id.source()
                                  + ", "
                                  + id.count()
                                  + " samples, sha256 "
                                  + id.sha256().substring(0, Math.min(12, id.sha256().length()))));
              t.settings().forEach((k, v) -> out.add(k + ": " + v));
            });
    r.environment()
        .forEach(
            (k, v) -> {
              if (!k.equals("started")) {
                out.add(k + ": " + v);
              }
            });
    r.task().ifPresent(t -> out.addAll(t.notes()));
    out.addAll(r.notes());
    return out;
  }

  static String point(LatencyPoint p) {
    return "b" + p.batch() + (p.sequenceLength() > 0 ? "/s" + p.sequenceLength() : "");
  }

  private static void table(StringBuilder sb, List<List<String>> rows) {
    int cols = rows.get(0).size();
    int[] w = new int[cols];
    for (List<String> r : rows) {
      for (int c = 0; c < cols; c++) {
        w[c] = Math.max(w[c], r.get(c).length());
      }
    }
    for (List<String> r : rows) {
      StringBuilder line = new StringBuilder();
      for (int c = 0; c < cols; c++) {
        String cell = r.get(c);
        if (c == 0) {
          line.append(String.format(Locale.ROOT, "%-" + w[c] + "s", cell));
        } else {
          line.append("  ").append(String.format(Locale.ROOT, "%" + w[c] + "s", cell));
        }
      }
      sb.append(line.toString().stripTrailing()).append('\n');
    }
  }

  static String fixed(double v, int decimals) {
    return String.format(Locale.ROOT, "%." + decimals + "f", v);
  }
}
