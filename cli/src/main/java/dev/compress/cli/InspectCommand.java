package dev.compress.cli;

import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.OpsetCheck;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.inspect.ModelSummary;
import dev.compress.api.io.ModelFiles;
import dev.compress.api.layers.LinearLayer;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code compress inspect MODEL}: what is in a model. */
@Command(
    name = "inspect",
    mixinStandardHelpOptions = true,
    description = {
      "Show a model's operators, parameters by type, linear layers, inputs and outputs.",
      "MODEL is an .onnx file or builtin:all-minilm-l6-v2.",
      "With --check, also check every node against the ONNX operator specification at the opset"
          + " the model imports (exit code 3 when a node does not conform)."
    })
final class InspectCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "MODEL", description = "Model file or builtin:NAME.")
  String model;

  @Option(
      names = "--json",
      description = "Print one JSON object (schema compress/inspect/v1) instead of the text.")
  boolean json;

  @Option(
      names = "--check",
      description =
          "Check every node (subgraphs too) against the ONNX operator specification at the"
              + " imported opset: the operator exists, its attributes and input count fit that"
              + " version. Operators outside the checker's table are listed as not checked."
              + " Exit code 3 when there are violations.")
  boolean check;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    ModelFiles.Loaded loaded = ModelFiles.load(model);
    ModelGraph m = loaded.model();
    ModelSummary s = ModelSummary.of(m);
    OpsetCheck.Result conformance = check ? OpsetCheck.check(m) : null;
    int exit =
        conformance == null || conformance.ok() ? CompressCommand.OK : CompressCommand.UNREADABLE;
    if (json) {
      Map<String, Object> d = json(loaded, s);
      if (conformance != null) {
        d.put("check", json(conformance));
      }
      JsonOutput.print(out, d);
      return exit;
    }

    out.printf("Model     %s%n", loaded.path());
    out.printf(
        "Format    ONNX IR %d, opsets %s, producer %s%n",
        s.irVersion(), opsets(s.opsets()), s.producer().isEmpty() ? "-" : s.producer());
    loaded.notes().forEach(n -> out.println("Note      " + n));
    out.println();
    out.println("Inputs");
    for (ValueInfo v : s.inputs()) {
      out.printf("  %-28s %s%n", v.name(), v.typeString());
    }
    out.println("Outputs");
    for (ValueInfo v : s.outputs()) {
      out.printf("  %-28s %s%n", v.name(), v.typeString());
    }
    out.println();
    if (s.subgraphCount() == 0) {
      out.printf("Operators (%d nodes)%n", s.nodeCount());
    } else {
      out.printf(
          "Operators (%d nodes in the main graph, %d in %d subgraph%s; counted together)%n",
          s.nodeCount(),
          s.subgraphNodeCount(),
          s.subgraphCount(),
          s.subgraphCount() == 1 ? "" : "s");
    }
    s.opHistogram().entrySet().stream()
        .sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
        .forEach(e -> out.printf("  %-28s %6d%n", e.getKey(), e.getValue()));
    out.println();
    out.printf(
        "Parameters %s (floating point); tensor data %s%n",
        grouped(s.parameterCount()), bytes(s.totalBytes()));
    out.printf("  %-10s %8s %14s %12s%n", "type", "tensors", "elements", "bytes");
    s.byType()
        .forEach(
            (t, v) ->
                out.printf(
                    "  %-10s %8d %14s %12s%n",
                    t, v.tensors(), grouped(v.elements()), bytes(v.bytes())));
    out.println();
    out.printf("Linear layers (%d; shape out x in)%n", s.linearLayers().size());
    int w = s.linearLayers().stream().mapToInt(l -> l.name().length()).max().orElse(10);
    for (LinearLayer l : s.linearLayers()) {
      out.printf(
          "  %-" + w + "s  %-6s %6d x %-6d %s%n",
          l.name(),
          l.kind(),
          l.outFeatures(),
          l.inFeatures(),
          l.weight());
    }
    if (conformance != null) {
      out.println();
      print(out, conformance);
    }
    out.flush();
    return exit;
  }

  private static void print(PrintWriter out, OpsetCheck.Result r) {
    if (r.ok()) {
      out.println(
          "Check     every node conforms to the ONNX operator specification at the opsets it imports");
    } else {
      int n = r.violations().size();
      out.printf(
          "Check     %d node%s not conforming to the ONNX operator specification at the opsets"
              + " it imports%n",
          n, n == 1 ? "" : "s");
      r.violations().forEach(v -> out.println("  " + v.message()));
    }
    if (!r.notChecked().isEmpty()) {
      out.println(
          "  not checked (operators outside the checker's table): "
              + String.join(", ", r.notChecked()));
    }
  }

  /** The {@code check} member of the {@code --json} document. */
  static Map<String, Object> json(OpsetCheck.Result r) {
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("ok", r.ok());
    List<Map<String, Object>> vs = new ArrayList<>();
    for (OpsetCheck.Violation v : r.violations()) {
      Map<String, Object> x = new LinkedHashMap<>();
      x.put("graph", v.graph());
      x.put("node", v.node().name());
      x.put("operator", v.node().opType());
      x.put("domain", v.domain());
      x.put("opset", v.opset());
      x.put("detail", v.detail());
      x.put("message", v.message());
      vs.add(x);
    }
    c.put("violations", vs);
    c.put("notChecked", List.copyOf(r.notChecked()));
    return c;
  }

  /** The {@code --json} document: the same facts as the text, as numbers where they are numbers. */
  static Map<String, Object> json(ModelFiles.Loaded loaded, ModelSummary s) {
    Map<String, Object> d = JsonOutput.document("inspect");
    d.put("model", loaded.path().toString());
    d.put("irVersion", s.irVersion());
    Map<String, Long> opsets = new LinkedHashMap<>();
    s.opsets().forEach((domain, v) -> opsets.put(domain.isEmpty() ? "ai.onnx" : domain, v));
    d.put("opsets", opsets);
    d.put("producer", s.producer());
    d.put("inputs", s.inputs().stream().map(InspectCommand::value).toList());
    d.put("outputs", s.outputs().stream().map(InspectCommand::value).toList());
    d.put("nodeCount", s.nodeCount());
    d.put("operators", s.opHistogram());
    d.put("parameters", s.parameterCount());
    d.put("tensorBytes", s.totalBytes());
    Map<String, Object> types = new LinkedHashMap<>();
    s.byType()
        .forEach(
            (t, v) -> {
              Map<String, Object> x = new LinkedHashMap<>();
              x.put("tensors", v.tensors());
              x.put("elements", v.elements());
              x.put("bytes", v.bytes());
              types.put(t.name(), x);
            });
    d.put("byType", types);
    List<Map<String, Object>> layers = new ArrayList<>();
    for (LinearLayer l : s.linearLayers()) {
      Map<String, Object> x = new LinkedHashMap<>();
      x.put("name", l.name());
      x.put("kind", l.kind().name());
      x.put("outFeatures", l.outFeatures());
      x.put("inFeatures", l.inFeatures());
      x.put("weight", l.weight());
      layers.add(x);
    }
    d.put("linearLayers", layers);
    return d;
  }

  private static Map<String, Object> value(ValueInfo v) {
    Map<String, Object> x = new LinkedHashMap<>();
    x.put("name", v.name());
    x.put("type", v.typeString());
    x.put("elemType", v.elemType().map(Enum::name).orElse(null));
    x.put(
        "shape",
        v.shape() == null
            ? null
            : v.shape().stream()
                .map( // a size, a symbolic name, or null when unknown
                    dim ->
                        dim.value() >= 0
                            ? (Object) dim.value()
                            : dim.param().isEmpty() ? null : dim.param())
                .toList());
    return x;
  }

  private static String opsets(Map<String, Long> opsets) {
    StringBuilder sb = new StringBuilder();
    opsets.forEach(
        (d, v) ->
            sb.append(sb.isEmpty() ? "" : ", ")
                .append(d.isEmpty() ? "ai.onnx" : d)
                .append(' ')
                .append(v));
    return sb.toString();
  }

  static String grouped(long n) {
    return String.format(Locale.ROOT, "%,d", n);
  }

  static String bytes(long b) {
    if (b < 1024) {
      return b + " B";
    }
    double v = b;
    String[] units = {"KiB", "MiB", "GiB", "TiB"};
    int u = -1;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
  }
}
