package dev.compress.lowrank.lora;

import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.safetensors.SafetensorsWriter;
import dev.compress.api.tensor.Tensor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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
 * directory), so this is a library call for now, not a {@code lora} key.
 */
public final class PeftAdapters {
  private PeftAdapters() {}

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
