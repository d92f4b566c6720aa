package dev.compress.evaluation.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.compress.evaluation.bench.BenchReport;
import dev.compress.evaluation.bench.BenchReport.LatencyPoint;
import dev.compress.evaluation.bench.BenchReport.VariantResult;
import dev.compress.evaluation.latency.LatencyStats;
import dev.compress.evaluation.layers.LayerErrors.LayerError;
import dev.compress.evaluation.layers.LayerErrors.Method;
import dev.compress.evaluation.task.DataIdentity;
import dev.compress.evaluation.task.TaskKind;
import dev.compress.evaluation.task.TaskOutcome;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Renders the HTML report in headless Chromium (Debian's {@code chromium}) and checks the charts
 * are in the rendered page with the right number of data points. Skipped where Chromium is absent.
 */
class HtmlReportRenderTest {
  static BenchReport report() {
    List<VariantResult> v =
        List.of(
            new VariantResult("fp32", "a.onnx", 90_000_000, Optional.empty()),
            new VariantResult("int8", "b.onnx", 23_000_000, Optional.empty()),
            new VariantResult("int4", "c.onnx", 52_000_000, Optional.empty()));
    LatencyPoint p1 =
        new LatencyPoint(
            1,
            128,
            List.of(
                LatencyStats.ofNanos(new long[] {10_000_000, 11_000_000, 12_000_000, 10_500_000}),
                LatencyStats.ofNanos(new long[] {6_000_000, 6_500_000, 7_000_000, 6_200_000}),
                LatencyStats.ofNanos(new long[] {9_000_000, 9_500_000, 9_900_000, 9_200_000})));
    LatencyPoint p2 =
        new LatencyPoint(
            8,
            128,
            List.of(
                LatencyStats.ofNanos(new long[] {60_000_000, 61_000_000, 62_000_000}),
                LatencyStats.ofNanos(new long[] {40_000_000, 41_000_000, 43_000_000}),
                LatencyStats.ofNanos(new long[] {50_000_000, 52_000_000, 55_000_000})));
    TaskOutcome t =
        new TaskOutcome(
            TaskKind.EMBEDDING_FIDELITY,
            List.of(
                Map.of("cosine.mean", 1.0),
                Map.of("cosine.mean", 0.995),
                Map.of("cosine.mean", 0.97)),
            Map.of("heldout", new DataIdentity("builtin:heldout-sentences", 300, "ab".repeat(32))),
            List.of("a note with </script> and <!-- inside"));
    Map<String, List<LayerError>> layers =
        Map.of(
            "int8",
            List.of(
                new LayerError(
                    "/encoder/layer.0/attention/self/query/MatMul", Method.ACTIVATION, 0.01),
                new LayerError(
                    "/encoder/layer.0/attention/self/key/MatMul", Method.ACTIVATION, 0.02)),
            "int4",
            List.of(
                new LayerError(
                    "/encoder/layer.0/attention/self/query/MatMul", Method.WEIGHT, 0.1)));
    return new BenchReport(
        Map.of("engine", "test"), v, List.of(p1, p2), Optional.of(t), layers, List.of());
  }

  static Optional<Path> chromium() {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      for (String name : List.of("chromium", "chromium-browser", "google-chrome")) {
        Path p = Path.of(dir, name);
        if (Files.isExecutable(p)) {
          return Optional.of(p);
        }
      }
    }
    return Optional.empty();
  }

  static int count(String dom, String regex) {
    Matcher m = Pattern.compile(regex).matcher(dom);
    int n = 0;
    while (m.find()) {
      n++;
    }
    return n;
  }

  @Test
  void pageIsSelfContained() {
    String html = HtmlReport.render(report(), "t");
    assertThat(html).doesNotContain("src=\"http").doesNotContain("href=\"http");
    assertThat(html).doesNotContain("a note with </script>"); // escaped inside the JSON
  }

  @Test
  void chromiumDrawsEveryChart(@TempDir Path dir) throws Exception {
    Optional<Path> chrome = chromium();
    assumeTrue(chrome.isPresent(), "chromium is not installed (apt-get install -y chromium)");
    Path html = dir.resolve("report.html");
    HtmlReport.write(report(), "render check", html);
    Path out = dir.resolve("dom.html");
    Process p =
        new ProcessBuilder(
                chrome.get().toString(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--proxy-server=127.0.0.1:9", // offline: any network fetch would fail
                "--user-data-dir=" + dir.resolve("profile"),
                "--virtual-time-budget=5000",
                "--dump-dom",
                html.toUri().toString())
            .redirectOutput(out.toFile())
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("chromium finished").isTrue();
    String dom = Files.readString(out, StandardCharsets.UTF_8);
    // 2 latency charts + 2 scatter plots + 2 per-layer charts.
    assertThat(dom).contains("data-rendered=\"6\"");
    assertThat(count(dom, "data-chart=\"latency\"")).isEqualTo(2);
    assertThat(count(dom, "data-chart=\"accuracy-size\"")).isEqualTo(1);
    assertThat(count(dom, "data-chart=\"accuracy-latency\"")).isEqualTo(1);
    assertThat(count(dom, "data-chart=\"layers\"")).isEqualTo(2);
    // Points: 3 x 4 + 3 x 3 runs in the latency charts, 3 + 3 in the scatter plots.
    assertThat(count(dom, "class=\"pt\"")).isEqualTo(12 + 9 + 6);
    assertThat(count(dom, "class=\"bar\"")).isEqualTo(3);
  }
}
