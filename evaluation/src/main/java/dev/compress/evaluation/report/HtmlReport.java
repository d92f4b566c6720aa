package dev.compress.evaluation.report;

import dev.compress.evaluation.bench.BenchReport;
import dev.compress.evaluation.bench.BenchTable;
import dev.compress.evaluation.latency.LatencyStats;
import dev.compress.evaluation.layers.LayerErrors;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A self-contained HTML report of a {@link BenchReport}: one file, no network (no CDN, fonts or
 * images), so it opens offline and can be attached to a build. The numbers are static HTML tables
 * ({@code table#table}: the side-by-side table of {@link BenchTable#tables}; the latency sweep and
 * memory tables; {@code table#gates}: each quality gate's metric, bound, value and result),
 * readable without scripts. The JSON report ({@link JsonReport}) and the chart axes ({@link
 * NiceAxis}: round ticks, accuracy axes kept inside [0, 1] for bounded metrics, one scale for every
 * per-layer chart) are embedded in {@code <script type="application/json">} elements and a small
 * inline script draws the charts as SVG:
 *
 * <ul>
 *   <li>{@code data-chart="latency"}: for each point of the sweep, every timed run of every variant
 *       (one {@code circle.pt} per run), with the p50 and its confidence interval;
 *   <li>{@code data-chart="accuracy-size"} and {@code data-chart="accuracy-latency"}: the task's
 *       headline metric against bytes on disk and against p50 latency, one {@code circle.pt} per
 *       variant;
 *   <li>{@code data-chart="layers"}: per-layer error of each variant against the baseline, one
 *       {@code rect.bar} per layer, one chart per variant and mode ({@code data-mode}: accumulated
 *       or isolated), all on one scale.
 * </ul>
 *
 * When the script finishes it sets {@code data-rendered} on {@code <body>} to the number of charts
 * drawn.
 */
public final class HtmlReport {
  private HtmlReport() {}

  /** The page, without gates. */
  public static String render(BenchReport r, String title) {
    return render(r, title, List.of());
  }

  /** The page, with the results of the evaluate block's gates. */
  public static String render(BenchReport r, String title, List<GateResult> gates) {
    String json = script(JsonReport.toJson(r, gates));
    String axes = script(axesJson(r));
    return PAGE.replace("%STYLE%", STYLE)
        .replace("%TITLE%", escape(title))
        .replace("%TABLES%", tables(r))
        .replace("%GATES%", gates(gates))
        .replace("%DETAILS%", details(r))
        .replace("%LAYERS%", layersNote(r))
        .replace("%AXES%", axes)
        .replace("%JSON%", json)
        .replace("%SCRIPT%", SCRIPT);
  }

  /** Writes the page to {@code file} (UTF-8). */
  public static void write(BenchReport r, String title, Path file) throws IOException {
    write(r, title, List.of(), file);
  }

  /** Writes the page with the gates' results to {@code file} (UTF-8). */
  public static void write(BenchReport r, String title, List<GateResult> gates, Path file)
      throws IOException {
    Files.writeString(file, render(r, title, gates), StandardCharsets.UTF_8);
  }

  static String escape(String s) {
    return s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;");
  }

  /** JSON made safe inside a {@code <script>} element. */
  private static String script(String json) {
    return json.replace("</", "<\\/").replace("<!--", "<\\u0021--");
  }

  private static String tables(BenchReport r) {
    StringBuilder sb = new StringBuilder();
    boolean main = true;
    for (BenchTable.Table t : BenchTable.tables(r)) {
      if (!t.caption().isEmpty()) {
        sb.append("<h3>").append(escape(t.caption())).append("</h3>\n");
      }
      sb.append(main ? "<table id=\"table\" class=\"side\">" : "<table class=\"side\">");
      main = false;
      List<List<String>> rows = t.rows();
      sb.append("<thead><tr>");
      for (String h : rows.get(0)) {
        sb.append("<th scope=\"col\">").append(escape(h)).append("</th>");
      }
      sb.append("</tr></thead>\n<tbody>\n");
      for (List<String> row : rows.subList(1, rows.size())) {
        sb.append("<tr>");
        for (int c = 0; c < row.size(); c++) {
          String tag = c == 0 ? "th scope=\"row\"" : "td";
          sb.append('<').append(tag).append('>').append(escape(row.get(c)));
          sb.append(c == 0 ? "</th>" : "</td>");
        }
        sb.append("</tr>\n");
      }
      sb.append("</tbody></table>\n");
    }
    return sb.toString();
  }

  private static String gates(List<GateResult> gates) {
    if (gates.isEmpty()) {
      return "<p class=\"note\">No quality gates were set.</p>";
    }
    StringBuilder sb =
        new StringBuilder(
            "<table id=\"gates\" class=\"side\"><thead><tr><th scope=\"col\">metric</th>"
                + "<th scope=\"col\">bound</th><th scope=\"col\">value</th>"
                + "<th scope=\"col\">result</th></tr></thead>\n<tbody>\n");
    for (GateResult g : gates) {
      sb.append("<tr class=\"")
          .append(g.passed() ? "pass" : "fail")
          .append("\"><th scope=\"row\">")
          .append(escape(g.metric()))
          .append("</th><td>")
          .append(escape(g.bound()))
          .append("</td><td>")
          .append(Double.isFinite(g.value()) ? escape(value(g.value())) : "not measured")
          .append("</td><td>")
          .append(g.passed() ? "passed" : "FAILED")
          .append("</td></tr>\n");
    }
    return sb.append("</tbody></table>").toString();
  }

  private static String value(double v) {
    double a = Math.abs(v);
    return a != 0 && (a < 1e-3 || a >= 1e7)
        ? String.format(Locale.ROOT, "%.4g", v)
        : String.format(Locale.ROOT, "%.6g", v)
            .replaceFirst("(\\.\\d*?)0+$", "$1")
            .replaceFirst("\\.$", "");
  }

  private static String details(BenchReport r) {
    StringBuilder sb = new StringBuilder("<ul id=\"details\" class=\"note\">\n");
    for (String l : BenchTable.details(r)) {
      sb.append("<li>").append(escape(l)).append("</li>\n");
    }
    return sb.append("</ul>").toString();
  }

  private static String layersNote(BenchReport r) {
    if (r.layerErrorModes().isEmpty()) {
      return "";
    }
    StringBuilder sb = new StringBuilder("<p class=\"note\" id=\"layer-modes\">");
    sb.append("Measured: ")
        .append(
            escape(
                String.join(
                    " and ", r.layerErrorModes().stream().map(LayerErrors.Mode::id).toList())))
        .append(". <b>Accumulated</b>: each layer's output through the compressed network against")
        .append(" the original's, errors of earlier layers included. <b>Isolated</b>: each")
        .append(" compressed layer alone, fed the original network's input (the rest float).")
        .append(" Every chart shares one scale.");
    if (!r.layerErrorInputs().isEmpty()) {
      sb.append(" Inputs: ").append(escape(r.layerErrorInputs())).append('.');
    }
    return sb.append("</p>").toString();
  }

  /** The axes of every chart, computed here so that their ticks are round and tested. */
  static String axesJson(BenchReport r) {
    Map<String, Object> m = new LinkedHashMap<>();
    List<Object> latency = new ArrayList<>();
    for (BenchReport.LatencyPoint p : r.latency()) {
      List<Double> all = new ArrayList<>();
      for (LatencyStats s : p.stats()) {
        all.addAll(s.runsMs());
        all.add(s.p50Ci().lower());
        all.add(s.p50Ci().upper());
      }
      latency.add(axis(NiceAxis.of(all, false, false)));
    }
    m.put("latency", latency);
    if (r.task().isPresent()) {
      String metric = r.task().get().kind().primaryMetric();
      List<Double> ys = new ArrayList<>();
      for (int i = 0; i < r.variants().size(); i++) {
        Double v = r.taskMetrics(i).get(metric);
        if (v != null) {
          ys.add(v);
        }
      }
      m.put("accuracy", axis(NiceAxis.of(ys, r.task().get().kind().unitInterval(), false)));
    } else {
      m.put("accuracy", null);
    }
    m.put(
        "size",
        axis(NiceAxis.of(r.variants().stream().map(v -> v.bytes() / 1e6).toList(), false, false)));
    m.put(
        "p50",
        r.latency().isEmpty()
            ? null
            : axis(
                NiceAxis.of(
                    r.latency().get(0).stats().stream().map(LatencyStats::p50Ms).toList(),
                    false,
                    false)));
    List<Double> errors = new ArrayList<>();
    r.layerErrors().values().forEach(l -> l.forEach(e -> errors.add(e.relativeError())));
    m.put("layers", axis(NiceAxis.of(errors, false, true)));
    try {
      return new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(m);
    } catch (IOException e) {
      throw new IllegalStateException("cannot serialize the axes", e);
    }
  }

  private static Map<String, Object> axis(NiceAxis a) {
    Map<String, Object> x = new LinkedHashMap<>();
    x.put("lo", a.lo());
    x.put("hi", a.hi());
    x.put("ticks", a.ticks());
    x.put("labels", a.labels());
    return x;
  }

  private static final String STYLE =
      """
      body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
      h1{font-size:20px} h2{font-size:16px;margin-top:28px} h3{font-size:14px;margin:16px 0 4px}
      table.side{border-collapse:collapse;font-size:13px;margin:6px 0}
      table.side th,table.side td{border:1px solid #ddd;padding:3px 8px;text-align:right;
        font-variant-numeric:tabular-nums;white-space:nowrap}
      table.side th[scope=row],table.side thead th:first-child{text-align:left}
      table.side thead th{background:#f3f3f3}
      tr.pass td:last-child{color:#1a7f37;font-weight:bold} tr.fail td:last-child{color:#cf222e;font-weight:bold}
      svg{background:#fff;border:1px solid #ddd;margin:6px 6px 0 0}
      .axis{stroke:#999} .grid{stroke:#eee} text{font-size:11px;fill:#333}
      .ci{fill:#000;opacity:.12} .p50{stroke:#000;stroke-width:2}
      .note{color:#666;font-size:12px}
      """;

  /**
   * The report's style sheet (without {@code <style>}), for other pages that should look the same
   * (the sensitivity report).
   */
  public static String style() {
    return STYLE;
  }

  private static final String PAGE =
      """
      <!DOCTYPE html>
      <html lang="en">
      <head>
      <meta charset="utf-8">
      <title>%TITLE%</title>
      <style>
      %STYLE%
      </style>
      </head>
      <body>
      <h1>%TITLE%</h1>
      <p class="note">Self-contained report: the charts are drawn by the inline script from the
      embedded JSON (schema compress-report/1). Ratios are variant / baseline (the first row).</p>
      <h2>Side by side</h2>
      %TABLES%
      <h2>Quality gates</h2>
      %GATES%
      <h2>How it was measured</h2>
      %DETAILS%
      <h2>Latency distributions</h2>
      <p class="note">Every timed run (dots), the median (bar) and its 95% bootstrap interval (band).</p>
      <div id="latency"></div>
      <h2>Accuracy against size and latency</h2>
      <div id="scatter"></div>
      <h2>Per-layer error against the baseline</h2>
      %LAYERS%
      <div id="layers"></div>
      <noscript><p>Charts need JavaScript; the tables above have every number.</p></noscript>
      <script type="application/json" id="report-axes">%AXES%</script>
      <script type="application/json" id="report-data">%JSON%</script>
      <script>%SCRIPT%</script>
      </body>
      </html>
      """;

  private static final String SCRIPT =
      """
      (function(){
      'use strict';
      var R=JSON.parse(document.getElementById('report-data').textContent);
      var AX=JSON.parse(document.getElementById('report-axes').textContent);
      var NS='http://www.w3.org/2000/svg';
      var COLORS=['#1f77b4','#d62728','#2ca02c','#9467bd','#ff7f0e','#8c564b','#e377c2','#17becf'];
      var MODES={accumulated:'accumulated: output through the compressed network vs the original\u2019s',
        isolated:'isolated: the layer alone, fed the original\u2019s input'};
      var charts=0;
      function el(name,attrs,parent,text){var e=document.createElementNS(NS,name);
        for(var k in attrs){e.setAttribute(k,attrs[k]);} if(text!==undefined){e.textContent=text;}
        if(parent){parent.appendChild(e);} return e;}
      function svg(parent,kind,w,h,title){var s=el('svg',{width:w,height:h,viewBox:'0 0 '+w+' '+h,
        'class':'chart','data-chart':kind},null);el('text',{x:w/2,y:16,'text-anchor':'middle',
        'font-weight':'bold'},s,title);parent.appendChild(s);charts++;return s;}
      function fmt(v){if(!isFinite(v))return String(v);var a=Math.abs(v);
        return a>=100?v.toFixed(0):a>=10?v.toFixed(1):a>=1?v.toFixed(2):v.toPrecision(3);}
      // A linear map from an axis (lo, hi, round ticks computed by the report) onto pixels a..b.
      function lin(ax,a,b){var span=ax.hi-ax.lo||1;var f=function(v){return a+(v-ax.lo)/span*(b-a);};f.ax=ax;return f;}
      function axes(s,x,y,L,T,W,H,xl,yl){
        el('line',{x1:L,y1:T+H,x2:L+W,y2:T+H,'class':'axis'},s);el('line',{x1:L,y1:T,x2:L,y2:T+H,'class':'axis'},s);
        y.ax.ticks.forEach(function(v,i){var py=y(v);
          el('line',{x1:L,y1:py,x2:L+W,y2:py,'class':'grid'},s);
          el('text',{x:L-4,y:py+4,'text-anchor':'end','class':'tick'},s,y.ax.labels[i]);});
        if(x){x.ax.ticks.forEach(function(v,i){var px=x(v);
          el('line',{x1:px,y1:T+H,x2:px,y2:T+H+4,'class':'axis'},s);
          el('text',{x:px,y:T+H+15,'text-anchor':'middle','class':'tick'},s,x.ax.labels[i]);});}
        if(xl){el('text',{x:L+W/2,y:T+H+30,'text-anchor':'middle'},s,xl);}
        el('text',{x:12,y:T+H/2,transform:'rotate(-90 12 '+(T+H/2)+')','text-anchor':'middle'},s,yl);}
      // Latency distributions: one chart per point of the sweep.
      var lat=document.getElementById('latency');
      if(R.latency.length===0){lat.textContent='No latency was measured.';}
      R.latency.forEach(function(p,pi){
        var n=p.variants.length,W=Math.max(240,110*n),H=220,L=56,T=28;
        var y=lin(AX.latency[pi],T+H,T);
        var s=svg(lat,'latency',L+W+20,T+H+44,'batch '+p.batch+(p.sequenceLength?', '+p.sequenceLength+' tokens':'')+': run times (ms)');
        s.setAttribute('data-batch',p.batch);s.setAttribute('data-seq',p.sequenceLength);
        axes(s,null,y,L,T,W,H,null,'ms');
        p.variants.forEach(function(v,i){var cx=L+W*(i+0.5)/n,c=COLORS[i%COLORS.length];
          el('rect',{x:cx-22,y:y(v.p50Ci[1]),width:44,height:Math.max(1,y(v.p50Ci[0])-y(v.p50Ci[1])),'class':'ci'},s);
          v.runsMs.forEach(function(t,j){var jit=((j*37)%21-10)*1.6;
            el('circle',{cx:cx+jit,cy:y(t),r:2.2,fill:c,'fill-opacity':0.55,'class':'pt','data-ms':t},s);});
          el('line',{x1:cx-24,x2:cx+24,y1:y(v.p50Ms),y2:y(v.p50Ms),'class':'p50'},s);
          el('text',{x:cx,y:T+H+14,'text-anchor':'middle'},s,v.name);
          el('text',{x:cx,y:T+H+28,'text-anchor':'middle'},s,'p50 '+fmt(v.p50Ms)+(i?' ('+v.p50Ratio.toFixed(2)+'x)':''));});
      });
      // Accuracy scatter plots.
      var sc=document.getElementById('scatter');
      function scatter(kind,title,xs,xax,xl){
        var ys=R.variants.map(function(v){return v.metrics[R.task.primaryMetric];});
        var W=380,H=240,L=60,T=28;
        var x=lin(xax,L,L+W),y=lin(AX.accuracy,T+H,T);
        var s=svg(sc,kind,L+W+20,T+H+44,title);axes(s,x,y,L,T,W,H,xl,R.task.primaryMetric);
        R.variants.forEach(function(v,i){var c=COLORS[i%COLORS.length];
          el('circle',{cx:x(xs[i]),cy:y(ys[i]),r:5,fill:c,'class':'pt','data-variant':v.name},s);
          var right=x(xs[i])>L+W*0.7,below=y(ys[i])<T+14;
          el('text',{x:x(xs[i])+(right?-7:7),y:y(ys[i])+(below?16:-6),'text-anchor':right?'end':'start'},s,
            v.name+' '+(Math.abs(ys[i])<10?ys[i].toPrecision(5):fmt(ys[i])));});}
      if(!R.task||R.variants.some(function(v){return v.metrics[R.task.primaryMetric]===undefined;})){
        sc.textContent='No accuracy task ran, so there is nothing to plot against size and latency.';
      }else{
        scatter('accuracy-size',R.task.primaryMetric+' vs size',R.variants.map(function(v){return v.bytes/1e6;}),AX.size,'size on disk (MB)');
        if(R.latency.length>0){var p=R.latency[0];
          scatter('accuracy-latency',R.task.primaryMetric+' vs p50 latency (batch '+p.batch+(p.sequenceLength?', '+p.sequenceLength+' tokens':'')+')',
            p.variants.map(function(v){return v.p50Ms;}),AX.p50,'p50 latency (ms)');}
      }
      // Per-layer error bars: one chart per mode and variant, all on one scale.
      var ly=document.getElementById('layers'),names=Object.keys(R.layerErrors);
      if(names.length===0){ly.textContent='No per-layer error was measured (one variant, or disabled).';}
      (R.layerErrorModes.length?R.layerErrorModes:['accumulated']).forEach(function(mode){
      names.forEach(function(name){var vi=R.variants.findIndex(function(v){return v.name===name;});
        var list=R.layerErrors[name].filter(function(e){return (e.mode||'accumulated')===mode;});
        if(list.length===0){var p=document.createElement('p');p.textContent=name+' ('+mode+'): no layer could be compared.';ly.appendChild(p);return;}
        var rowH=14,L=330,W=420,T=28,H=rowH*list.length;
        var x=lin(AX.layers,L,L+W);
        var s=svg(ly,'layers',L+W+90,T+H+44,name+' \u2014 '+(MODES[mode]||mode));
        s.setAttribute('data-variant',name);s.setAttribute('data-mode',mode);
        AX.layers.ticks.forEach(function(v,i){var px=x(v);
          el('line',{x1:px,y1:T,x2:px,y2:T+H,'class':'grid'},s);
          el('text',{x:px,y:T+H+14,'text-anchor':'middle','class':'tick'},s,AX.layers.labels[i]);});
        list.forEach(function(e,i){var w=Math.min(x(e.relativeError),L+W)-L,yy=T+i*rowH;
          var label=e.layer.length>52?'...'+e.layer.slice(-49):e.layer;
          el('text',{x:L-4,y:yy+rowH-4,'text-anchor':'end'},s,label);
          el('rect',{x:L,y:yy+2,width:Math.max(w,0.5),height:rowH-4,fill:e.method==='weight'?'#ff7f0e':COLORS[Math.max(vi,1)%COLORS.length],
            'class':'bar','data-layer':e.layer,'data-error':e.relativeError},s);
          el('text',{x:L+w+4,y:yy+rowH-4},s,fmt(e.relativeError));});
        el('text',{x:L,y:T+H+32},s,'relative error: ||y_c - y_o|| / ||y_o|| (activation) or ||W_c - W_o|| / ||W_o|| (weight, orange)');
      });});
      document.body.setAttribute('data-rendered',String(charts));
      })();
      """;
}
