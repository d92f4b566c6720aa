package dev.compress.lowrank.lora;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.GraphEditor;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.layers.LinearLayers;
import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.tensor.Tensor;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Merges a PEFT LoRA adapter ({@link PeftAdapters#read}: {@code base_model.model.MODULE.lora_A
 * .weight [r, in]} and {@code .lora_B.weight [out, r]}, {@code r} and {@code lora_alpha} of {@code
 * adapter_config.json}) into the model's matching layers: {@code W0 += scale · B A} in each layer's
 * view ({@link Adapters#mergeInto}, the scale {@code lora_alpha / r}, or {@code / sqrt(r)} with
 * {@code use_rslora}). A module matches the float MatMul/Gemm layer whose name gives that module
 * path ({@link PeftAdapters#module}, e.g. {@code /encoder/layer.0/attention/self/query/MatMul} for
 * {@code encoder.layer.0.attention.self.query}) or whose name is the module itself.
 *
 * <p>Everything is checked before anything is merged; a module that matches no layer, a quantized
 * layer, or a layer of another shape is one line each, and nothing is changed.
 */
public final class LoraMergePass implements Pass<LoraMergeConfig> {
  private final LoraMergeConfig config;

  /** A pass for a validated config. */
  public LoraMergePass(LoraMergeConfig config) {
    this.config = config;
  }

  @Override
  public LoraMergeConfig config() {
    return config;
  }

  @Override
  public PassReport apply(ModelGraph model, PassContext context) throws CompressionException {
    long start = System.nanoTime();
    if (config.adapter().isEmpty()) {
      throw new ConfigException(
          "adapter: none given; name a PEFT adapter folder (adapter_config.json and"
              + " adapter_model.safetensors)");
    }
    PeftAdapters.Peft peft = PeftAdapters.read(Path.of(config.adapter().get()));
    Graph g = model.graph();
    Map<String, LinearLayer> byModule = new HashMap<>();
    for (LinearLayer l : LinearLayers.of(g)) {
      if (!Adapters.isAdapter(l)) {
        byModule.put(PeftAdapters.module(l.name()), l);
        byModule.putIfAbsent(l.name(), l);
      }
    }
    Map<String, String> quantized = new HashMap<>();
    for (LinearLayer.Compressed c : LinearLayers.compressed(g)) {
      quantized.put(PeftAdapters.module(c.name()), c.name());
    }
    List<String> problems = new ArrayList<>();
    Map<LinearLayer, Tensor[]> plan = new LinkedHashMap<>();
    for (Map.Entry<String, Tensor[]> e : peft.modules().entrySet()) {
      String m = e.getKey();
      LinearLayer l = byModule.get(m);
      Tensor a = e.getValue()[0]; // [r, in]
      Tensor b = e.getValue()[1]; // [out, r]
      if (l == null) {
        problems.add(
            quantized.containsKey(m)
                ? "adapter: module '"
                    + m
                    + "' is layer '"
                    + quantized.get(m)
                    + "', which is already quantized; merge the adapter before quantization"
                : "adapter: module '"
                    + m
                    + "' matches no float MatMul/Gemm layer of the model (layer names are read"
                    + " as module paths: /a/b/MatMul is a.b)");
        continue;
      }
      String why = Adapters.problem(l, 1);
      if (why != null) {
        problems.add("adapter: module '" + m + "': " + why);
      } else if (a.dim(1) != l.inFeatures() || b.dim(0) != l.outFeatures()) {
        problems.add(
            "adapter: module '"
                + m
                + "' has lora_A "
                + a.shapeString()
                + " and lora_B "
                + b.shapeString()
                + ", which does not fit layer '"
                + l.name()
                + "' (in "
                + l.inFeatures()
                + ", out "
                + l.outFeatures()
                + "); nothing was merged");
      } else {
        plan.put(l, e.getValue());
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    GraphEditor ed = GraphEditor.of(g);
    long before = AdapterRun.bytes(g);
    List<String> touched = new ArrayList<>();
    for (Map.Entry<LinearLayer, Tensor[]> e : plan.entrySet()) {
      Tensor a = PeftAdapters.onnxView("A", e.getValue()[0]); // [in, r]
      Tensor b = PeftAdapters.onnxView("B", e.getValue()[1]); // [r, out]
      Adapters.mergeInto(ed, e.getKey(), a, b, peft.scale());
      touched.add(e.getKey().name());
    }
    Map<String, Double> metrics = new LinkedHashMap<>();
    metrics.put("adapters_merged", (double) touched.size());
    metrics.put("rank", (double) peft.rank());
    metrics.put("alpha", peft.alpha());
    metrics.put("scale", peft.scale());
    return new PassReport(
        LoraMergeProvider.TYPE,
        touched,
        List.of(),
        before,
        AdapterRun.bytes(g),
        metrics,
        Map.of(),
        List.of(),
        Duration.ofNanos(System.nanoTime() - start));
  }
}
