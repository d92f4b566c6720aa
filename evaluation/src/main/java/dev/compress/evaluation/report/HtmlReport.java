package dev.compress.evaluation.report;

import dev.compress.evaluation.bench.BenchReport;
import dev.compress.evaluation.bench.BenchTable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A self-contained HTML report of a {@link BenchReport}: one file, no network (no CDN, fonts or
 * images), so it opens offline and can be attached to a build. The JSON report ({@link JsonReport})
 * is embedded in a {@code <script type="application/json">} element and a small inline script draws
 * the charts as SVG:
 *
 * <ul>
 *   <li>{@code data-chart="latency"}: for each point of the sweep, every timed run of every variant
 *       (one {@code circle.pt} per run), with the p50 and its confidence interval;
 *   <li>{@code data-chart="accuracy-size"} and {@code data-chart="accuracy-latency"}: the task's
 *       headline metric against bytes on disk and against p50 latency, one {@code circle.pt} per
 *       variant;
 *   <li>{@code data-chart="layers"}: per-layer error of each variant against the baseline, one
 *       {@code rect.bar} per layer, labelled with how it was measured.
 * </ul>
 *
 * The text table is also written as static HTML, so the numbers are readable without scripts. When
 * the script finishes it sets {@code data-rendered} on {@code <body>} to the number of charts
 * drawn.
 */
public final class HtmlReport {
  private HtmlReport() {}

  /** The page. */
  public static String render(BenchReport r, String title) {
    String json = JsonReport.toJson(r).replace("</", "<\\/").replace("<!--", "<\\u0021--");
    return PAGE.replace("%TITLE%", escape(title))
        .replace("%TABLE%", escape(BenchTable.render(r)))
        .replace("%JSON%", json)
        .replace("%SCRIPT%", SCRIPT);
  }

  /** Writes the page to {@code file} (UTF-8). */
  public static void write(BenchReport r, String title, Path file) throws IOException {
    Files.writeString(file, render(r, title), StandardCharsets.UTF_8);
  }

  static String escape(String s) {
    return s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;");
  }

  private static final String PAGE =
      """
      <!DOCTYPE html>
      <html lang="en">
      <head>
      <meta charset="utf-8">
      <title>%TITLE%</title>
      <style>
      body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
      h1{font-size:20px} h2{font-size:16px;margin-top:28px}
      pre{background:#f6f6f6;padding:10px;overflow-x:auto;font-size:12px}
      svg{background:#fff;border:1px solid #ddd;margin:6px 6px 0 0}
      .axis{stroke:#999} .grid{stroke:#eee} text{font-size:11px;fill:#333}
      .ci{fill:#000;opacity:.12} .p50{stroke:#000;stroke-width:2}
      .note{color:#666;font-size:12px}
      </style>
      </head>
      <body>
      <h1>%TITLE%</h1>
      <p class="note">Self-contained report: the charts are drawn by the inline script from the
      embedded JSON (schema compress-report/1). Ratios are variant / baseline (the first row).</p>
      <h2>Side by side</h2>
      <pre id="table">%TABLE%</pre>
      <h2>Latency distributions</h2>
      <p class="note">Every timed run (dots), the median (bar) and its 95% bootstrap interval (band).</p>
      <div id="latency"></div>
      <h2>Accuracy against size and latency</h2>
      <div id="scatter"></div>
      <h2>Per-layer error against the baseline</h2>
      <div id="layers"></div>
      <noscript><p>Charts need JavaScript; the table above has every number.</p></noscript>
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
      var NS='http://www.w3.org/2000/svg';
      var COLORS=['#1f77b4','#d62728','#2ca02c','#9467bd','#ff7f0e','#8c564b','#e377c2','#17becf'];
      var charts=0;
      function el(name,attrs,parent,text){var e=document.createElementNS(NS,name);
        for(var k in attrs){e.setAttribute(k,attrs[k]);} if(text!==undefined){e.textContent=text;}
        if(parent){parent.appendChild(e);} return e;}
      function svg(parent,kind,w,h,title){var s=el('svg',{width:w,height:h,viewBox:'0 0 '+w+' '+h,
        'class':'chart','data-chart':kind},null);el('text',{x:w/2,y:16,'text-anchor':'middle',
        'font-weight':'bold'},s,title);parent.appendChild(s);charts++;return s;}
      function fmt(v){if(!isFinite(v))return String(v);var a=Math.abs(v);
        return a>=100?v.toFixed(0):a>=10?v.toFixed(1):a>=1?v.toFixed(2):v.toPrecision(3);}
      function scale(lo,hi,a,b){if(hi<=lo){hi=lo+1;lo=lo-1;}var pad=(hi-lo)*0.08;lo-=pad;hi+=pad;
        var f=function(v){return a+(v-lo)/(hi-lo)*(b-a);};f.lo=lo;f.hi=hi;return f;}
      function axes(s,x,y,L,T,W,H,xl,yl){
        el('line',{x1:L,y1:T+H,x2:L+W,y2:T+H,'class':'axis'},s);el('line',{x1:L,y1:T,x2:L,y2:T+H,'class':'axis'},s);
        for(var i=0;i<=4;i++){var vy=y.lo+(y.hi-y.lo)*i/4,py=y(vy);
          el('line',{x1:L,y1:py,x2:L+W,y2:py,'class':'grid'},s);el('text',{x:L-4,y:py+4,'text-anchor':'end'},s,fmt(vy));
          if(x){var vx=x.lo+(x.hi-x.lo)*i/4,px=x(vx);el('text',{x:px,y:T+H+14,'text-anchor':'middle'},s,fmt(vx));}}
        if(xl){el('text',{x:L+W/2,y:T+H+30,'text-anchor':'middle'},s,xl);}
        el('text',{x:12,y:T+H/2,transform:'rotate(-90 12 '+(T+H/2)+')','text-anchor':'middle'},s,yl);}
      // Latency distributions: one chart per point of the sweep.
      var lat=document.getElementById('latency');
      if(R.latency.length===0){lat.textContent='No latency was measured.';}
      R.latency.forEach(function(p){
        var n=p.variants.length,W=Math.max(240,110*n),H=220,L=56,T=28;
        var all=[];p.variants.forEach(function(v){all=all.concat(v.runsMs);});
        var y=scale(Math.min.apply(null,all),Math.max.apply(null,all),T+H,T);
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
      function scatter(kind,title,xs,xl){
        var ys=R.variants.map(function(v){return v.metrics[R.task.primaryMetric];});
        var W=380,H=240,L=60,T=28;
        var x=scale(Math.min.apply(null,xs),Math.max.apply(null,xs),L,L+W);
        var y=scale(Math.min.apply(null,ys),Math.max.apply(null,ys),T+H,T);
        var s=svg(sc,kind,L+W+20,T+H+44,title);axes(s,x,y,L,T,W,H,xl,R.task.primaryMetric);
        R.variants.forEach(function(v,i){var c=COLORS[i%COLORS.length];
          el('circle',{cx:x(xs[i]),cy:y(ys[i]),r:5,fill:c,'class':'pt','data-variant':v.name},s);
          var right=x(xs[i])>L+W*0.7;
          el('text',{x:x(xs[i])+(right?-7:7),y:y(ys[i])-6,'text-anchor':right?'end':'start'},s,v.name+' '+fmt(ys[i]));});}
      if(!R.task||R.variants.some(function(v){return v.metrics[R.task.primaryMetric]===undefined;})){
        sc.textContent='No accuracy task ran, so there is nothing to plot against size and latency.';
      }else{
        scatter('accuracy-size',R.task.primaryMetric+' vs size',R.variants.map(function(v){return v.bytes/1e6;}),'size on disk (MB)');
        if(R.latency.length>0){var p=R.latency[0];
          scatter('accuracy-latency',R.task.primaryMetric+' vs p50 latency (batch '+p.batch+(p.sequenceLength?', '+p.sequenceLength+' tokens':'')+')',
            p.variants.map(function(v){return v.p50Ms;}),'p50 latency (ms)');}
      }
      // Per-layer error bars.
      var ly=document.getElementById('layers'),names=Object.keys(R.layerErrors);
      if(names.length===0){ly.textContent='No per-layer error was measured (one variant, or disabled).';}
      names.forEach(function(name,vi){var list=R.layerErrors[name];
        if(list.length===0){var p=document.createElement('p');p.textContent=name+': no layer could be compared.';ly.appendChild(p);return;}
        var rowH=14,L=330,W=420,T=28,H=rowH*list.length;
        var max=Math.max.apply(null,list.map(function(e){return e.relativeError;}));if(!(max>0))max=1;
        var methods={};list.forEach(function(e){methods[e.method]=1;});
        var s=svg(ly,'layers',L+W+90,T+H+30,name+': relative error per linear layer ('+Object.keys(methods).join(', ')+')');
        s.setAttribute('data-variant',name);
        list.forEach(function(e,i){var w=W*e.relativeError/max,yy=T+i*rowH;
          var label=e.layer.length>52?'...'+e.layer.slice(-49):e.layer;
          el('text',{x:L-4,y:yy+rowH-4,'text-anchor':'end'},s,label);
          el('rect',{x:L,y:yy+2,width:Math.max(w,0.5),height:rowH-4,fill:e.method==='weight'?'#ff7f0e':COLORS[(vi+1)%COLORS.length],
            'class':'bar','data-layer':e.layer,'data-error':e.relativeError},s);
          el('text',{x:L+w+4,y:yy+rowH-4},s,fmt(e.relativeError));});
        el('text',{x:L,y:T+H+20},s,'bar length: ||y_c - y_o|| / ||y_o|| (activation) or ||W_c - W_o|| / ||W_o|| (weight)');
      });
      document.body.setAttribute('data-rendered',String(charts));
      })();
      """;
}
