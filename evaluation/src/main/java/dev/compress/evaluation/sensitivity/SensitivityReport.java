package dev.compress.evaluation.sensitivity;

import dev.compress.evaluation.report.HtmlReport;
import java.util.List;
import java.util.Locale;

/**
 * A self-contained HTML page of a {@link SensitivityResult} in the evaluation report's style: a
 * heat map unit × probe drawn as static SVG ({@code svg[data-chart=sensitivity]}, one {@code
 * rect.cell} per measured cell with its loss in {@code data-loss}; colour on a log scale from the
 * smallest to the largest measured loss), the ranked table ({@code table#ranking}) and the
 * suggested plans. No script and no network: it opens offline.
 */
public final class SensitivityReport {
  private SensitivityReport() {}

  /** The page. */
  public static String render(SensitivityResult r, List<SensitivityPlan> plans) {
    StringBuilder b = new StringBuilder();
    b.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>")
        .append(esc("compress sensitivity: " + r.model()))
        .append("</title>\n<style>\n")
        .append(HtmlReport.style())
        .append("td.hot{font-weight:bold} .cell{stroke:#fff;stroke-width:1} .na{fill:#f3f3f3}\n")
        .append("</style>\n</head>\n<body>\n<h1>")
        .append(esc("compress sensitivity: " + r.model()))
        .append("</h1>\n<p class=\"note\">")
        .append(
            esc(
                String.format(
                    Locale.ROOT,
                    "Loss = %s on %s, when only one probe is applied to only one %s (the rest"
                        + " float). %d units x %d probes in %.1f s; calibration: %s.",
                    r.lossName(),
                    r.task(),
                    r.granularity().id(),
                    r.units().size(),
                    r.probes().size(),
                    r.seconds(),
                    r.calibration())))
        .append("</p>\n<h2>Heat map</h2>\n")
        .append(heatMap(r))
        .append("<h2>Ranking (most sensitive first)</h2>\n")
        .append(ranking(r))
        .append("<h2>Suggested plans</h2>\n");
    if (plans.isEmpty()) {
      b.append("<p class=\"note\">No plan: no probe family sweeps sparsity or bits.</p>\n");
    }
    for (SensitivityPlan p : plans) {
      b.append("<h3>").append(esc(p.family())).append("</h3>\n<pre>").append(esc(p.yaml()));
      b.append("</pre>\n");
    }
    return b.append("</body>\n</html>\n").toString();
  }

  private static String heatMap(SensitivityResult r) {
    double lo = Double.POSITIVE_INFINITY;
    double hi = 0;
    for (double[] row : r.loss()) {
      for (double v : row) {
        if (!Double.isNaN(v) && v > 0) {
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
      }
    }
    if (!(lo < Double.POSITIVE_INFINITY)) {
      lo = 1e-12;
      hi = 1e-12;
    }
    int nameW =
        12 + 6 * r.units().stream().mapToInt(u -> Math.min(60, u.name().length())).max().orElse(4);
    int cw = 64;
    int ch = 16;
    int top = 110;
    int w = nameW + cw * r.probes().size() + 20;
    int h = top + ch * r.units().size() + 40;
    StringBuilder s = new StringBuilder();
    s.append(
        String.format(
            Locale.ROOT,
            "<svg class=\"chart\" data-chart=\"sensitivity\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">%n",
            w,
            h,
            w,
            h));
    for (int p = 0; p < r.probes().size(); p++) {
      double x = nameW + cw * p + cw / 2.0;
      s.append(
          String.format(
              Locale.ROOT,
              "<text x=\"%.1f\" y=\"%d\" transform=\"rotate(-40 %.1f %d)\">%s</text>%n",
              x,
              top - 6,
              x,
              top - 6,
              esc(r.probes().get(p).label())));
    }
    for (int u = 0; u < r.units().size(); u++) {
      int y = top + ch * u;
      String name = r.units().get(u).name();
      String shown = name.length() > 60 ? "..." + name.substring(name.length() - 57) : name;
      s.append(
          String.format(
              Locale.ROOT,
              "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>%n",
              nameW - 6,
              y + ch - 4,
              esc(shown)));
      for (int p = 0; p < r.probes().size(); p++) {
        double v = r.loss()[u][p];
        int x = nameW + cw * p;
        if (Double.isNaN(v)) {
          s.append(
              String.format(
                  Locale.ROOT,
                  "<rect class=\"cell na\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"><title>%s</title></rect>%n",
                  x,
                  y,
                  cw,
                  ch,
                  esc(name + " / " + r.probes().get(p).label() + ": n/a: " + r.skipped()[u][p])));
          continue;
        }
        double t =
            hi > lo && v > 0
                ? (Math.log(v) - Math.log(lo)) / (Math.log(hi) - Math.log(lo))
                : v > 0 ? 1 : 0;
        s.append(
            String.format(
                Locale.ROOT,
                "<rect class=\"cell\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\" data-loss=\"%s\"><title>%s</title></rect>%n",
                x,
                y,
                cw,
                ch,
                colour(t),
                Double.toString(v),
                esc(
                    name
                        + " / "
                        + r.probes().get(p).label()
                        + ": "
                        + String.format(Locale.ROOT, "%.4g", v))));
        s.append(
            String.format(
                Locale.ROOT,
                "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" style=\"fill:%s\">%s</text>%n",
                x + cw / 2,
                y + ch - 4,
                t > 0.6 ? "#fff" : "#222",
                String.format(Locale.ROOT, "%.2g", v)));
      }
    }
    s.append(
        String.format(
            Locale.ROOT,
            "<text x=\"%d\" y=\"%d\">colour: log of the loss, %s (white) to %s (dark red)</text>%n",
            nameW,
            top + ch * r.units().size() + 24,
            String.format(Locale.ROOT, "%.3g", lo),
            String.format(Locale.ROOT, "%.3g", hi)));
    return s.append("</svg>\n").toString();
  }

  /** White to dark red. */
  static String colour(double t) {
    t = Math.max(0, Math.min(1, t));
    int r = (int) Math.round(255 - 90 * t);
    int g = (int) Math.round(255 - 235 * t);
    int b = (int) Math.round(255 - 225 * t);
    return String.format(Locale.ROOT, "#%02x%02x%02x", r, g, b);
  }

  private static String ranking(SensitivityResult r) {
    StringBuilder s = new StringBuilder("<table id=\"ranking\" class=\"side\"><thead><tr>");
    s.append("<th scope=\"col\">rank</th><th scope=\"col\">unit</th><th scope=\"col\">params</th>");
    for (Probe p : r.probes()) {
      s.append("<th scope=\"col\">").append(esc(p.label())).append("</th>");
    }
    s.append("<th scope=\"col\">mean</th></tr></thead>\n<tbody>\n");
    int rank = 1;
    for (int u : r.ranking()) {
      s.append("<tr><td>")
          .append(rank++)
          .append("</td><th scope=\"row\">")
          .append(esc(r.units().get(u).name()))
          .append("</th><td>")
          .append(r.units().get(u).parameters())
          .append("</td>");
      for (double v : r.loss()[u]) {
        s.append("<td>")
            .append(Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.4g", v))
            .append("</td>");
      }
      double m = r.meanLoss(u);
      s.append("<td>")
          .append(Double.isNaN(m) ? "n/a" : String.format(Locale.ROOT, "%.4g", m))
          .append("</td></tr>\n");
    }
    return s.append("</tbody></table>\n").toString();
  }

  private static String esc(String s) {
    return s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;");
  }
}
