package dev.compress.evaluation.report;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The static parts of the HTML report: real tables, gates, and the axes the charts use. */
class HtmlReportTest {
  static final List<GateResult> GATES =
      List.of(
          new GateResult("cosine.mean", ">= 0.99", 0.995, true),
          new GateResult("size.ratio", "< 0.2", 0.255, false),
          new GateResult("latency.b1.ratio", "< 1", Double.NaN, false));

  static JsonNode script(String html, String id) throws Exception {
    Matcher m =
        Pattern.compile("<script type=\"application/json\" id=\"" + id + "\">(.*?)</script>", 32)
            .matcher(html);
    assertThat(m.find()).as(id).isTrue();
    return new ObjectMapper().readTree(m.group(1));
  }

  @Test
  void theSideBySideTableIsAnHtmlTable() {
    String html = HtmlReport.render(HtmlReportRenderTest.report(), "t", GATES);
    assertThat(html).doesNotContain("<pre");
    assertThat(html)
        .contains("<table id=\"table\" class=\"side\"><thead><tr><th scope=\"col\">variant</th>");
    assertThat(html).contains("<th scope=\"col\">cosine.mean</th>");
    assertThat(html).contains("<tr><th scope=\"row\">int8</th><td>23.00</td><td>0.256</td>");
    // The sweep has two points: a second table.
    assertThat(html).contains("<h3>latency sweep, p50 ms (ratio to fp32)</h3>");
    assertThat(Pattern.compile("<table ").matcher(html).results().count()).isEqualTo(3);
  }

  @Test
  void gatesAreATableOfMetricBoundValueAndResult() throws Exception {
    String html = HtmlReport.render(HtmlReportRenderTest.report(), "t", GATES);
    assertThat(html)
        .contains(
            "<tr class=\"pass\"><th scope=\"row\">cosine.mean</th><td>&gt;= 0.99</td>"
                + "<td>0.995</td><td>passed</td></tr>")
        .contains(
            "<tr class=\"fail\"><th scope=\"row\">size.ratio</th><td>&lt; 0.2</td>"
                + "<td>0.255</td><td>FAILED</td></tr>")
        .contains("<td>not measured</td><td>FAILED</td>");
    JsonNode gates = script(html, "report-data").get("gates");
    assertThat(gates).hasSize(3);
    assertThat(gates.get(1).get("passed").asBoolean()).isFalse();
    assertThat(gates.get(2).get("value").isNull()).isTrue();
    assertThat(HtmlReport.render(HtmlReportRenderTest.report(), "t"))
        .contains("No quality gates were set.");
  }

  @Test
  void accuracyAxesStayInTheUnitIntervalAndLayerChartsShareOneScale() throws Exception {
    JsonNode axes = script(HtmlReport.render(HtmlReportRenderTest.report(), "t"), "report-axes");
    JsonNode acc = axes.get("accuracy");
    // cosine.mean of 1.0, 0.995 and 0.97: never above 1.
    assertThat(acc.get("hi").asDouble()).isEqualTo(1.0);
    assertThat(acc.get("lo").asDouble()).isBetween(0.9, 0.97);
    // One layer axis for both variants, up to the largest error of either (int4's 0.1).
    JsonNode layers = axes.get("layers");
    assertThat(layers.get("lo").asDouble()).isEqualTo(0);
    assertThat(layers.get("hi").asDouble()).isGreaterThanOrEqualTo(0.1).isLessThanOrEqualTo(0.2);
    assertThat(axes.get("latency")).hasSize(2);
    for (JsonNode a : List.of(acc, layers, axes.get("latency").get(0), axes.get("size"))) {
      assertThat(a.get("labels")).hasSameSizeAs(a.get("ticks"));
    }
  }
}
