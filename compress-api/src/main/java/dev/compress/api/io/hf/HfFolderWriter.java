package dev.compress.api.io.hf;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.compress.api.CompressionException;
import dev.compress.api.UnsupportedModelException;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.io.safetensors.SafetensorsWriter;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Writes an unquantized Hugging Face folder from a graph {@link DecoderGraph} built (and passes may
 * have changed since): each tensor under its Transformers name, in its own dtype and shape, in the
 * source's weight files ({@code model.safetensors}, or the same shards with a new index); the
 * config copied (updated only when {@code lm_head} no longer shares the embedding); every other
 * non-weight file of the source folder (tokenizer, generation config) copied.
 *
 * <p>Tensors are found through the layer names, not initializer names: {@code Gemm} node {@code
 * model.layers.3.self_attn.q_proj} gives {@code q_proj.weight} (input 1) and {@code .bias} (input
 * 2); a normalization node gives its scale and bias; the embedding {@code Gather} its table;
 * GPT-2's split {@code c_attn.q/.k/.v} are joined back into {@code c_attn}. Tensors the graph does
 * not compute with (GPT-2's mask buffers) are written as read. A read folder written back unchanged
 * has byte-identical tensors. An f32 tensor where the checkpoint held f16/bf16 (a graph widened by
 * {@link dev.compress.api.graph.FloatPrecision#widened}, or a pass that rewrote a weight in f32) is
 * rounded back to the checkpoint's dtype.
 *
 * <p>The folder is staged beside the target and renamed into place, so a reader never sees half a
 * model; the target must not exist or be an empty directory.
 */
public final class HfFolderWriter {
  private HfFolderWriter() {}

  /**
   * Writes {@code graph}, built from {@code source}, to {@code target}.
   *
   * @throws UnsupportedModelException naming the layer when a weight is missing, quantized or of
   *     another shape than the checkpoint's (this writer keeps the architecture as it is)
   * @throws CompressionException when the target exists and is not empty
   * @throws IOException if a file cannot be written
   */
  public static void write(HfCheckpoint source, ModelGraph graph, Path target)
      throws IOException, CompressionException {
    target = target.toAbsolutePath();
    if (Files.exists(target)) {
      try (Stream<Path> s = Files.list(target)) {
        if (s.findAny().isPresent()) {
          throw new CompressionException(
              target + " exists and is not empty; hf output writes a new folder");
        }
      }
    }
    Path parent = target.getParent();
    Files.createDirectories(parent);
    Path stage = Files.createTempDirectory(parent, "." + target.getFileName() + ".");
    boolean done = false;
    try {
      writeInto(source, graph, stage);
      if (Files.exists(target)) {
        Files.delete(target); // empty, checked above
      }
      Files.move(stage, target);
      done = true;
    } finally {
      if (!done) {
        deleteTree(stage);
      }
    }
  }

  /**
   * Writes the folder's files into {@code dir}, an existing directory the caller stages (e.g. the
   * pipeline's output directory), without the rename of {@link #write}.
   *
   * @throws UnsupportedModelException as {@link #write}
   * @throws IOException if a file cannot be written
   */
  public static void writeInto(HfCheckpoint source, ModelGraph graph, Path dir)
      throws IOException, UnsupportedModelException {
    writeInto(source, graph, dir, Map.of(), Map.of());
  }

  /**
   * As {@link #writeInto(HfCheckpoint, ModelGraph, Path)}, with replacement tensors for some
   * modules (e.g. a quantized layout): for a module (e.g. {@code model.layers.0.self_attn.q_proj})
   * in {@code moduleTensors}, its {@code .weight} is replaced by the given tensors (written where
   * the weight was) and its {@code .bias}, if the checkpoint has one, is taken from the graph's
   * {@code <module>_bias_add} node (or, when there is none, the module's own {@code Gemm}); {@code
   * configAdditions} are set as top-level keys of {@code config.json} (values: strings, numbers,
   * booleans, lists and maps of them).
   *
   * @throws UnsupportedModelException as {@link #write}, or when a module in {@code moduleTensors}
   *     has no {@code .weight} in the checkpoint
   * @throws IOException if a file cannot be written
   */
  public static void writeInto(
      HfCheckpoint source,
      ModelGraph graph,
      Path dir,
      Map<String, List<Tensor>> moduleTensors,
      Map<String, Object> configAdditions)
      throws IOException, UnsupportedModelException {
    for (String m : moduleTensors.keySet()) {
      if (!source.tensors().containsKey(m + ".weight")) {
        throw new UnsupportedModelException(
            "hf output: module '" + m + "' has no tensor '" + m + ".weight' in the checkpoint");
      }
    }
    Map<String, Tensor> tensors = tensors(source, graph.graph(), moduleTensors);
    writeWeights(source, tensors, dir);
    ObjectNode config = source.config().tree();
    boolean changed = !configAdditions.isEmpty();
    configAdditions.forEach((k, v) -> config.set(k, HfConfig.JSON.valueToTree(v)));
    if (source.config().tieWordEmbeddings() && !headShared(source, graph.graph())) {
      config.put("tie_word_embeddings", false);
      changed = true;
    }
    if (changed) {
      Files.writeString(
          dir.resolve(HfFolderReader.CONFIG),
          HfConfig.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(config) + "\n");
    } else {
      Files.copy(source.config().file(), dir.resolve(HfFolderReader.CONFIG));
    }
    copyOthers(source.folder(), dir);
  }

  /** Whether {@code lm_head} still reads the embedding table. */
  private static boolean headShared(HfCheckpoint source, Graph g) throws UnsupportedModelException {
    return node(g, "lm_head", "Gemm")
        .input(1)
        .equals(node(g, embedModule(source), "Gather").input(0));
  }

  private static String embedModule(HfCheckpoint source) {
    return source.config().architecture() == HfArchitecture.LLAMA
        ? "model.embed_tokens"
        : HfTensorNames.gpt2Prefix(source.tensors().keySet()) + "wte";
  }

  /** The tensors to write, by Transformers name, in the source's order. */
  static Map<String, Tensor> tensors(HfCheckpoint source, Graph g)
      throws UnsupportedModelException {
    return tensors(source, g, Map.of());
  }

  private static Map<String, Tensor> tensors(
      HfCheckpoint source, Graph g, Map<String, List<Tensor>> moduleTensors)
      throws UnsupportedModelException {
    HfConfig c = source.config();
    Map<String, Tensor> out = new LinkedHashMap<>();
    Node head = node(g, "lm_head", "Gemm");
    boolean headShared = headShared(source, g);
    for (Map.Entry<String, Tensor> e : source.tensors().entrySet()) {
      String name = e.getKey();
      Tensor original = e.getValue();
      Tensor t;
      String owner = name.contains(".") ? name.substring(0, name.lastIndexOf('.')) : name;
      if (moduleTensors.containsKey(owner) && name.endsWith(".weight")) {
        for (Tensor r : moduleTensors.get(owner)) {
          out.put(r.name(), r);
        }
        continue;
      } else if (moduleTensors.containsKey(owner) && name.endsWith(".bias")) {
        t = biasAdd(g, owner, name);
      } else if (name.equals("lm_head.weight")) {
        t = c.tieWordEmbeddings() && headShared ? original : input(g, head, 1, name);
      } else if (name.endsWith(".attn.c_attn.weight") || name.endsWith(".attn.c_attn.bias")) {
        String module = name.substring(0, name.lastIndexOf('.'));
        int slot = name.endsWith(".weight") ? 1 : 2;
        List<Tensor> parts = new ArrayList<>();
        for (String part : Gpt2Layers.QKV) {
          Node n = node(g, module + "." + part, "Gemm");
          parts.add(input(g, n, slot, name));
        }
        t = Gpt2Layers.join(name, parts);
      } else if (name.endsWith(".weight") || name.endsWith(".bias")) {
        String module = name.substring(0, name.lastIndexOf('.'));
        Optional<Node> n = g.node(module);
        if (n.isEmpty() || HfTensorNames.isIgnoredBuffer(c.architecture(), name)) {
          t = original; // not computed with: written as read
        } else {
          int slot = n.get().opType().equals("Gather") ? 0 : name.endsWith(".weight") ? 1 : 2;
          t = input(g, n.get(), slot, name);
        }
      } else {
        t = original;
      }
      if (t.dtype() == DataType.FLOAT
          && t.dtype() != original.dtype()
          && Arrays.equals(t.shape(), original.shape())
          && (original.dtype() == DataType.FLOAT16 || original.dtype() == DataType.BFLOAT16)) {
        // Widened for computing (FloatPrecision.widened) or rewritten in f32 by a pass: back to the
        // checkpoint's dtype, round to nearest even (exact for values that came from it).
        t = GraphEmitter.ofType(name, t.shape(), t.toFloatArray(), original.dtype());
      }
      if (!Arrays.equals(t.shape(), original.shape()) || t.dtype() != original.dtype()) {
        throw new UnsupportedModelException(
            "hf output: tensor '"
                + name
                + "' is now "
                + t.dtype()
                + " "
                + t.shapeString()
                + ", the checkpoint has "
                + original.dtype()
                + " "
                + original.shapeString()
                + "; this output keeps the architecture and dtype");
      }
      out.put(name, t.withName(name));
    }
    if (c.tieWordEmbeddings() && !headShared && !out.containsKey("lm_head.weight")) {
      // A pass gave lm_head its own weight: write it, untied.
      out.put("lm_head.weight", input(g, head, 1, "lm_head.weight").withName("lm_head.weight"));
    }
    return out;
  }

  /**
   * The bias of a replaced module: the constant input of {@code <module>_bias_add} (a quantized
   * layer), else input 2 of the module's own {@code Gemm} (a float layer written in another layout,
   * e.g. sparse).
   */
  private static Tensor biasAdd(Graph g, String module, String tensor)
      throws UnsupportedModelException {
    Optional<Node> gemm = g.node(module);
    if (g.node(module + "_bias_add").isEmpty()
        && gemm.isPresent()
        && gemm.get().opType().equals("Gemm")) {
      return input(g, gemm.get(), 2, tensor);
    }
    Node add = node(g, module + "_bias_add", "Add");
    for (String in : add.inputs()) {
      Optional<Tensor> k = in.isEmpty() ? Optional.empty() : g.constant(in);
      if (k.isPresent()) {
        return k.get();
      }
    }
    throw new UnsupportedModelException(
        "hf output: node '" + add.name() + "' has no constant input for tensor '" + tensor + "'");
  }

  private static Node node(Graph g, String name, String op) throws UnsupportedModelException {
    Node n = g.node(name).orElse(null);
    if (n == null || !n.opType().equals(op)) {
      throw new UnsupportedModelException(
          "hf output: the graph has no "
              + op
              + " node '"
              + name
              + "'"
              + (n == null
                  ? ""
                  : " (it is a "
                      + n.qualifiedOpType()
                      + ": a compressed layer? HINT: write it as onnx)"));
    }
    return n;
  }

  private static Tensor input(Graph g, Node n, int slot, String tensor)
      throws UnsupportedModelException {
    if (n.inputs().size() <= slot || n.input(slot).isEmpty()) {
      throw new UnsupportedModelException(
          "hf output: node '"
              + n.name()
              + "' has no input "
              + slot
              + " for tensor '"
              + tensor
              + "'");
    }
    return g.constant(n.input(slot))
        .orElseThrow(
            () ->
                new UnsupportedModelException(
                    "hf output: tensor '"
                        + tensor
                        + "' (input "
                        + slot
                        + " of '"
                        + n.name()
                        + "') is no longer a constant: a quantized layer? (HINT: hf writes"
                        + " unquantized models)"));
  }

  private static void writeWeights(HfCheckpoint source, Map<String, Tensor> tensors, Path dir)
      throws IOException {
    Map<String, List<Tensor>> byFile = new LinkedHashMap<>();
    for (Tensor t : tensors.values()) {
      String f = source.weightFiles().get(t.name());
      if (f == null && t.name().contains(".")) {
        // A replacement tensor (e.g. q_proj.qweight): in the file of the weight it replaces.
        f = source.weightFiles().get(t.name().substring(0, t.name().lastIndexOf('.')) + ".weight");
      }
      f = f == null ? lastFile(source) : f;
      byFile.computeIfAbsent(f, k -> new ArrayList<>()).add(t);
    }
    for (Map.Entry<String, List<Tensor>> e : byFile.entrySet()) {
      Map<String, String> meta =
          source.fileMetadata().getOrDefault(e.getKey(), Map.of("format", "pt"));
      SafetensorsWriter.write(dir.resolve(e.getKey()), e.getValue(), meta);
    }
    if (source.sharded()) {
      writeIndex(dir, byFile);
    }
  }

  private static String lastFile(HfCheckpoint source) {
    String last = HfFolderReader.WEIGHTS;
    for (String f : source.weightFiles().values()) {
      last = f;
    }
    return last;
  }

  /** Writes {@code model.safetensors.index.json} for tensors laid out in {@code byFile}. */
  static void writeIndex(Path dir, Map<String, List<Tensor>> byFile) throws IOException {
    ObjectNode root = HfConfig.JSON.createObjectNode();
    long total = 0;
    ObjectNode map = HfConfig.JSON.createObjectNode();
    java.util.TreeMap<String, String> sorted = new java.util.TreeMap<>();
    for (Map.Entry<String, List<Tensor>> e : byFile.entrySet()) {
      for (Tensor t : e.getValue()) {
        total += t.byteSize();
        sorted.put(t.name(), e.getKey());
      }
    }
    sorted.forEach(map::put);
    root.putObject("metadata").put("total_size", total);
    root.set("weight_map", map);
    Files.writeString(
        dir.resolve(HfFolderReader.INDEX),
        HfConfig.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n");
  }

  private static void copyOthers(Path from, Path to) throws IOException {
    try (Stream<Path> s = Files.list(from)) {
      for (Path p : s.toList()) {
        String n = p.getFileName().toString();
        if (!Files.isRegularFile(p)
            || n.endsWith(".safetensors")
            || n.equals(HfFolderReader.INDEX)
            || n.equals(HfFolderReader.CONFIG)
            || n.startsWith("pytorch_model")
            || n.startsWith(".")) {
          continue;
        }
        Files.copy(p, to.resolve(n));
      }
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
