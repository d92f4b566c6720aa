package dev.compress.lowrank.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.safetensors.SafetensorsFile;
import dev.compress.api.io.safetensors.SafetensorsReader;
import dev.compress.api.io.safetensors.SafetensorsWriter;
import dev.compress.api.tensor.Tensor;
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
 * The adapters a {@code lora} pass left unmerged, in Hugging Face PEFT's layout: {@code
 * adapter_model.safetensors} with {@code base_model.model.MODULE.lora_A.weight [r, in]} and {@code
 * base_model.model.MODULE.lora_B.weight [out, r]} (float32, PyTorch's {@code out x in} view, the
 * transposes of the ONNX {@code [in, r]} / {@code [r, out]} initializers), and {@code
 * adapter_config.json} ({@code peft_type LORA}, {@code r}, {@code lora_alpha}, {@code
 * target_modules}).
 *
 * <p>MODULE is the layer's node name as a module path: the leading {@code /} dropped, a final
 * {@code /MatMul} or {@code /Gemm} dropped, {@code /} read as {@code .} ({@code
 * /encoder/layer.0/attention/self/query/MatMul} is {@code encoder.layer.0.attention.self.query},
 * Hugging Face BERT's module). Names an exporter did not derive from modules stay as they are.
 *
 * <p>The pipeline's output holds the ONNX model only (a pass has no hook to add files to the output
 * directory), so this is a library call for now, not a {@code lora} key. {@link #read} reads the
 * same layout back (the {@code lora-merge} pass merges it into a model).
 */
public final class PeftAdapters {
  private PeftAdapters() {}

  /**
   * A PEFT LoRA adapter as read from its folder.
   *
   * @param dir the folder
   * @param rank {@code r} of {@code adapter_config.json}
   * @param alpha {@code lora_alpha}
   * @param scale the branch scale: {@code alpha / r}, or {@code alpha / sqrt(r)} with {@code
   *     use_rslora}
   * @param modules per module path, {@code {lora_A [r, in], lora_B [out, r]}}, in file order
   */
  public record Peft(
      Path dir, int rank, double alpha, double scale, Map<String, Tensor[]> modules) {}

  /**
   * Reads a PEFT LoRA adapter: {@code dir} is its folder, or its {@code adapter_model.safetensors}
   * or {@code adapter_config.json}.
   *
   * @throws ConfigException one line per problem, each naming the file and what was found: a
   *     missing file, a config that is not JSON, {@code peft_type} other than LORA, {@code r} or
   *     {@code lora_alpha} missing or out of range, DoRA, trained biases, rank/alpha patterns, a
   *     tensor that is not {@code base_model.model.MODULE.lora_A/B.weight}, a module without its A
   *     or B, factors whose rank differs from {@code r}
   */
  public static Peft read(Path dir) throws ConfigException {
    Path d = Files.isDirectory(dir) ? dir : dir.toAbsolutePath().getParent();
    Path cfg = d.resolve("adapter_config.json");
    Path st = d.resolve("adapter_model.safetensors");
    List<String> p = new ArrayList<>();
    if (!Files.isDirectory(dir) && !Files.isRegularFile(dir)) {
      throw new ConfigException("adapter: " + dir + " does not exist");
    }
    for (Path f : List.of(cfg, st)) {
      if (!Files.isRegularFile(f)) {
        p.add("adapter: " + f + " does not exist (a PEFT adapter folder holds both files)");
      }
    }
    if (!p.isEmpty()) {
      throw new ConfigException(p);
    }
    JsonNode json;
    try {
      json = new ObjectMapper().readTree(cfg.toFile());
    } catch (IOException e) {
      throw new ConfigException(
          "adapter: "
              + cfg
              + " is not JSON ("
              + e.getMessage().lines().findFirst().orElse("")
              + ")");
    }
    if (json == null || !json.isObject()) {
      throw new ConfigException("adapter: " + cfg + " holds no JSON object");
    }
    String type = json.path("peft_type").asText("");
    if (!type.equalsIgnoreCase("LORA")) {
      p.add("adapter: peft_type is '" + type + "' in " + cfg + "; lora-merge merges LORA adapters");
    }
    JsonNode rn = json.get("r");
    int r = rn != null && rn.isIntegralNumber() ? rn.asInt() : 0;
    if (r < 1) {
      p.add("adapter: r must be an integer >= 1 in " + cfg + ", found " + rn);
    }
    JsonNode an = json.get("lora_alpha");
    double alpha = an != null && an.isNumber() ? an.asDouble() : Double.NaN;
    if (!(alpha > 0) || Double.isInfinite(alpha)) {
      p.add("adapter: lora_alpha must be a number > 0 in " + cfg + ", found " + an);
    }
    if (json.path("use_dora").asBoolean(false)) {
      p.add("adapter: use_dora is true in " + cfg + "; lora-merge merges plain LoRA (no DoRA)");
    }
    String bias = json.path("bias").asText("none");
    if (!bias.equals("none")) {
      p.add("adapter: bias is '" + bias + "' in " + cfg + "; lora-merge merges bias: none only");
    }
    for (String k : List.of("rank_pattern", "alpha_pattern")) {
      JsonNode n = json.get(k);
      if (n != null && !n.isNull() && n.size() > 0) {
        p.add("adapter: " + k + " is not empty in " + cfg + "; lora-merge takes one r and alpha");
      }
    }
    if (!p.isEmpty()) {
      throw new ConfigException(p);
    }
    double scale = json.path("use_rslora").asBoolean(false) ? alpha / Math.sqrt(r) : alpha / r;
    SafetensorsFile f;
    try {
      f = SafetensorsReader.read(st);
    } catch (IOException | CompressionException e) {
      throw new ConfigException("adapter: cannot read " + st + ": " + e.getMessage());
    }
    String pre = "base_model.model.";
    Map<String, Tensor[]> modules = new LinkedHashMap<>();
    for (Map.Entry<String, Tensor> e : f.tensors().entrySet()) {
      String k = e.getKey();
      int which = k.endsWith(".lora_A.weight") ? 0 : k.endsWith(".lora_B.weight") ? 1 : -1;
      if (!k.startsWith(pre) || which < 0) {
        p.add(
            "adapter: tensor '"
                + k
                + "' in "
                + st
                + " is not base_model.model.MODULE.lora_A.weight or .lora_B.weight");
        continue;
      }
      String m = k.substring(pre.length(), k.length() - ".lora_A.weight".length());
      modules.computeIfAbsent(m, x -> new Tensor[2])[which] = e.getValue();
    }
    for (Map.Entry<String, Tensor[]> e : modules.entrySet()) {
      Tensor a = e.getValue()[0];
      Tensor b = e.getValue()[1];
      if (a == null || b == null) {
        p.add(
            "adapter: module '"
                + e.getKey()
                + "' has no "
                + (a == null ? "lora_A" : "lora_B")
                + ".weight in "
                + st);
      } else if (a.rank() != 2 || b.rank() != 2 || a.dim(0) != r || b.dim(1) != r) {
        p.add(
            "adapter: module '"
                + e.getKey()
                + "' has lora_A "
                + a.shapeString()
                + " and lora_B "
                + b.shapeString()
                + "; with r = "
                + r
                + " they must be [r, in] and [out, r]");
      }
    }
    if (modules.isEmpty() && p.isEmpty()) {
      p.add("adapter: " + st + " holds no LoRA tensors");
    }
    if (!p.isEmpty()) {
      throw new ConfigException(p);
    }
    return new Peft(d, r, alpha, scale, modules);
  }

  /** {@code t [p, q]} transposed, float32, named {@code name}: PEFT's view to the ONNX one. */
  static Tensor onnxView(String name, Tensor t) {
    return transposed(name, t);
  }

  /** The PEFT module path of a layer name (see the class comment). */
  public static String module(String layer) {
    String s = layer.startsWith("/") ? layer.substring(1) : layer;
    if (s.endsWith("/MatMul") || s.endsWith("/Gemm")) {
      s = s.substring(0, s.lastIndexOf('/'));
    }
    return s.replace('/', '.');
  }

  /**
   * Writes the adapters of {@code model} into {@code dir}.
   *
   * @return the number of adapters written
   * @throws IllegalArgumentException when the model holds no adapters, or adapters of different
   *     ranks or alphas (PEFT's config has one of each)
   */
  public static int write(ModelGraph model, Path dir) throws IOException {
    Graph g = model.graph();
    List<Tensor> tensors = new ArrayList<>();
    List<String> modules = new ArrayList<>();
    long rank = -1;
    double alpha = Double.NaN;
    for (Map.Entry<String, Tensor> e : g.initializers().entrySet()) {
      if (!e.getKey().endsWith(".lora_A")) {
        continue;
      }
      String layer = e.getKey().substring(0, e.getKey().length() - ".lora_A".length());
      Tensor a = e.getValue(); // [in, r]
      Tensor b = g.initializers().get(layer + ".lora_B"); // [r, out]
      Tensor s = g.initializers().get(layer + ".lora_scale");
      if (b == null || s == null) {
        continue;
      }
      long r = a.dim(1);
      double al = s.toFloatArray()[0] * r;
      if (rank >= 0 && (r != rank || Math.abs(al - alpha) > 1e-4 * alpha)) {
        throw new IllegalArgumentException(
            "adapters of rank/alpha "
                + rank
                + "/"
                + alpha
                + " and "
                + r
                + "/"
                + al
                + " ("
                + layer
                + "): PEFT's adapter_config.json holds one rank and one alpha");
      }
      rank = r;
      alpha = al;
      String m = module(layer);
      modules.add(m);
      tensors.add(transposed("base_model.model." + m + ".lora_A.weight", a));
      tensors.add(transposed("base_model.model." + m + ".lora_B.weight", b));
    }
    if (modules.isEmpty()) {
      throw new IllegalArgumentException(
          "the model holds no LoRA adapters (LAYER.lora_A / .lora_B / .lora_scale); run lora"
              + " with merge: false");
    }
    Files.createDirectories(dir);
    SafetensorsWriter.write(
        dir.resolve("adapter_model.safetensors"), tensors, Map.of("format", "pt"));
    StringBuilder json = new StringBuilder();
    json.append("{\n  \"peft_type\": \"LORA\",\n");
    json.append("  \"r\": ").append(rank).append(",\n");
    json.append("  \"lora_alpha\": ")
        .append(String.format(Locale.ROOT, "%s", trim(alpha)))
        .append(",\n");
    json.append("  \"lora_dropout\": 0.0,\n  \"bias\": \"none\",\n");
    json.append("  \"fan_in_fan_out\": false,\n  \"inference_mode\": true,\n");
    json.append("  \"target_modules\": [");
    for (int i = 0; i < modules.size(); i++) {
      json.append(i == 0 ? "" : ", ").append('"').append(escape(modules.get(i))).append('"');
    }
    json.append("]\n}\n");
    Files.writeString(dir.resolve("adapter_config.json"), json, StandardCharsets.UTF_8);
    return modules.size();
  }

  private static String trim(double v) {
    return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
  }

  private static String escape(String s) {
    return s.replace("\\", "\\\\").replace("\"", "\\\"");
  }

  /** {@code t [p, q]} as float32 {@code [q, p]} named {@code name}. */
  private static Tensor transposed(String name, Tensor t) {
    int p = (int) t.dim(0);
    int q = (int) t.dim(1);
    float[] v = t.toFloatArray();
    float[] o = new float[v.length];
    for (int i = 0; i < p; i++) {
      for (int j = 0; j < q; j++) {
        o[j * p + i] = v[i * q + j];
      }
    }
    return Tensor.ofFloats(name, new long[] {q, p}, o);
  }
}
