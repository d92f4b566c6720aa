package dev.compress.quantization.output;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.UnsupportedModelException;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.io.hf.HfArchitecture;
import dev.compress.api.io.hf.HfCheckpoint;
import dev.compress.api.io.hf.HfConfig;
import dev.compress.api.io.hf.HfFolderReader;
import dev.compress.api.io.hf.HfFolderWriter;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pipeline.OutputFormat;
import dev.compress.api.pipeline.PipelineSpec;
import dev.compress.api.tensor.Tensor;
import dev.compress.quantization.format.QuantizedGraphWeights;
import dev.compress.quantization.format.compressedtensors.CompressedTensorsCheckpoint;
import dev.compress.quantization.format.compressedtensors.CompressedTensorsCheckpoint.Scheme;
import dev.compress.quantization.format.compressedtensors.PackQuantizedLayout;
import dev.compress.quantization.format.compressedtensors.SparseBitmaskLayout;
import dev.compress.quantization.gptq.GptqConfig;
import dev.compress.quantization.grid.Granularity;
import dev.compress.quantization.grid.GroupQuantizedWeight;
import dev.compress.quantization.rtn.RtnConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The pipeline's {@code output: {format: compressed-tensors}}: a Hugging Face folder of a
 * Llama-family decoder in the layout of compressed-tensors (what llm-compressor writes and vLLM and
 * Transformers load), every tensor the passes did not compress as {@link HfFolderWriter} writes it
 * (byte-identical to the source when unchanged), tokenizer and generation files copied:
 *
 * <ul>
 *   <li>Quantized by {@code rtn-quantization} or {@code gptq} (4 or 8 bits): {@code
 *       pack-quantized}, each quantized module's {@code .weight} replaced by {@link
 *       PackQuantizedLayout} tensors (scales in the checkpoint's dtype), {@code
 *       quantization_config} of {@link CompressedTensorsCheckpoint#quantizationConfig} with the
 *       float linear modules (always {@code lm_head}) in {@code ignore}.
 *   <li>Pruned only (by {@code magnitude-pruning}, {@code wanda} or {@code sparsegpt}): every
 *       linear module whose weight the passes changed in {@link SparseBitmaskLayout} ({@code
 *       sparse-24-bitmask} when every pruning pass has {@code pattern: 2:4}, else {@code
 *       sparse-bitmask}); {@code quantization_config} holds {@code quant_method}, {@code version}
 *       and {@code sparsity_config} ({@code format}, {@code targets: [Linear]}, {@code ignore}: the
 *       unchanged linear modules, {@code global_sparsity}: the fraction of zeros over every tensor
 *       of the model, {@code sparsity_structure}: {@code 2:4} or {@code unstructured}).
 * </ul>
 *
 * A model both pruned and quantized is written {@code pack-quantized} (exact: the codes hold the
 * zeros), without a sparsity layout.
 *
 * <p>Refused at plan time, one line each: a model that is not a folder, GPT-2 (its fused {@code
 * c_attn} is split for computing), a pass this output cannot write (any other than the five above),
 * bits other than 4 and 8, settings that differ between quantizing passes (one config group), a
 * selection that quantizes {@code lm_head}, RTN embedding quantization. Refused before anything is
 * written: a quantized layer that does not match the pass's settings, a pruned weight that is not
 * 2:4 where the format says so.
 */
public final class CompressedTensorsOutput implements OutputFormat {
  /** The format name. */
  public static final String NAME = "compressed-tensors";

  /** The pass types whose models are written in a sparse layout. */
  public static final List<String> PRUNING = List.of("magnitude-pruning", "wanda", "sparsegpt");

  /**
   * What the passes ask for.
   *
   * @param scheme the quantization scheme, or null for a model that is only pruned
   * @param sparseFormat the sparse layout of a model that is only pruned, else null
   */
  record Plan(Scheme scheme, String sparseFormat) {}

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public List<String> problems(PipelineSpec spec) {
    List<String> p = new ArrayList<>();
    plan(spec, p);
    return p;
  }

  /** The plan the spec's passes imply; problems added to {@code p}. */
  static Plan plan(PipelineSpec spec, List<String> p) {
    Path folder = Path.of(spec.model());
    if (!HfFolderReader.isHfFolder(folder)) {
      p.add(
          "output.format compressed-tensors needs a Hugging Face folder as model (a directory with"
              + " config.json), found '"
              + spec.model()
              + "'");
    } else {
      try {
        HfConfig c = HfConfig.read(folder.resolve(HfFolderReader.CONFIG));
        if (c.architecture() == HfArchitecture.GPT2) {
          p.add(
              "output.format compressed-tensors: "
                  + c.architectureName()
                  + " is not supported yet (its c_attn is split into q/k/v for computing and"
                  + " Conv1D stores in x out); HINT: write it as onnx or hf");
        }
      } catch (IOException | CompressionException e) {
        p.add("output.format compressed-tensors: " + e.getMessage());
      }
    }
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> passMaps = (List<Map<String, Object>>) spec.toMap().get("passes");
    Scheme s = null;
    String first = null;
    boolean pruned = false;
    boolean all24 = true;
    for (int i = 0; i < spec.passes().size(); i++) {
      PipelineSpec.PassSpec ps = spec.passes().get(i);
      String at = "passes[" + i + "] (" + ps.type() + ")";
      Scheme here;
      if (ps.config() instanceof GptqConfig g) {
        if (g.bits() != 4 && g.bits() != 8) {
          p.add(
              at
                  + ": bits "
                  + g.bits()
                  + ": compressed-tensors pack-quantized holds 4- or 8-bit weights; HINT: bits: 4");
          continue;
        }
        // compressed-tensors allows act-order only with group strategy.
        String actOrder =
            !g.actOrder() || g.groupSize() == 0 ? null : g.staticGroups() ? "weight" : "group";
        here = new Scheme(g.bits(), g.groupSize(), g.symmetric(), actOrder, List.of());
      } else if (ps.config() instanceof RtnConfig r) {
        if (r.embeddings()) {
          p.add(
              at
                  + ": embeddings true quantizes the embedding table, which compressed-tensors"
                  + " keeps float here; HINT: embeddings: false");
        }
        here =
            new Scheme(
                r.bits(),
                r.granularity() == Granularity.PER_GROUP ? r.groupSize() : 0,
                r.symmetric(),
                null,
                List.of());
      } else if (PRUNING.contains(ps.type())) {
        pruned = true;
        all24 &= "2:4".equals(String.valueOf(passMaps.get(i).get("pattern")));
        continue;
      } else {
        p.add(
            at
                + ": output.format compressed-tensors writes models of rtn-quantization or gptq"
                + " (pack-quantized) and of "
                + String.join(", ", PRUNING)
                + " (sparse bitmask formats); HINT: write this pipeline as hf or onnx");
        continue;
      }
      LayerSelection sel = ps.config().selection();
      boolean head =
          (sel.targets().isEmpty()
                  || sel.targets().stream().anyMatch(t -> LayerSelection.matches(t, "lm_head")))
              && sel.ignore().stream().noneMatch(t -> LayerSelection.matches(t, "lm_head"));
      if (head) {
        p.add(
            at
                + ": the selection quantizes lm_head, which this output keeps float; HINT:"
                + " ignore: [lm_head]");
      }
      if (s == null) {
        s = here;
        first = at;
      } else if (s.bits() != here.bits()
          || s.groupSize() != here.groupSize()
          || s.symmetric() != here.symmetric()
          || !java.util.Objects.equals(s.actOrder(), here.actOrder())) {
        p.add(
            at
                + ": bits "
                + here.bits()
                + ", group size "
                + here.groupSize()
                + (here.symmetric() ? ", symmetric" : ", asymmetric")
                + " differ from "
                + first
                + " (bits "
                + s.bits()
                + ", group size "
                + s.groupSize()
                + (s.symmetric() ? ", symmetric" : ", asymmetric")
                + "); this output writes one config group for every layer");
      }
    }
    if (s == null && !pruned && p.isEmpty()) {
      p.add(
          "output.format compressed-tensors needs a rtn-quantization or gptq pass (pack-quantized)"
              + " or a "
              + String.join(", ", PRUNING)
              + " pass (sparse), found none in passes");
    }
    String sparse =
        s == null && pruned
            ? (all24 ? SparseBitmaskLayout.SPARSE_24 : SparseBitmaskLayout.SPARSE)
            : null;
    return new Plan(s, sparse);
  }

  @Override
  public Path write(PipelineSpec spec, ModelGraph model, Path source, Path dir)
      throws IOException, CompressionException {
    List<String> p = new ArrayList<>();
    Plan plan = plan(spec, p);
    if (!p.isEmpty()) {
      throw new ConfigException(p);
    }
    HfCheckpoint src = HfFolderReader.read(source);
    Map<String, List<Tensor>> modules = new LinkedHashMap<>();
    ObjectNode qc =
        plan.scheme() != null
            ? packQuantized(src, model, plan.scheme(), modules)
            : SparseOutput.write(src, model, plan.sparseFormat(), modules);
    HfFolderWriter.writeInto(src, model, dir, modules, Map.of("quantization_config", qc));
    return dir.resolve(src.sharded() ? HfFolderReader.INDEX : HfFolderReader.WEIGHTS);
  }

  /** The linear modules of the checkpoint among the graph's nodes, in graph order. */
  static List<Node> linearModules(HfCheckpoint src, Graph g) {
    List<Node> out = new ArrayList<>();
    for (Node n : g.nodes()) {
      if (src.tensors().containsKey(n.name() + ".weight")
          && List.of("Gemm", "MatMul", "MatMulNBits").contains(n.opType())) {
        out.add(n);
      }
    }
    return out;
  }

  private static ObjectNode packQuantized(
      HfCheckpoint src, ModelGraph model, Scheme s, Map<String, List<Tensor>> modules)
      throws UnsupportedModelException {
    Map<String, GroupQuantizedWeight> weights;
    try {
      weights = QuantizedGraphWeights.read(model, s.bits(), s.symmetric());
    } catch (IllegalArgumentException e) {
      throw new UnsupportedModelException("compressed-tensors output: " + e.getMessage());
    }
    String expectedOp = s.bits() == 4 ? "MatMulNBits" : "Gemm";
    for (Map.Entry<String, GroupQuantizedWeight> e : weights.entrySet()) {
      String name = e.getKey();
      GroupQuantizedWeight q = e.getValue();
      Node n = model.graph().node(name).orElseThrow();
      if (!n.opType().equals(expectedOp)) {
        throw new UnsupportedModelException(
            "compressed-tensors output: layer '"
                + name
                + "' is a "
                + n.opType()
                + " layer, not the "
                + s.bits()
                + "-bit layers of the pass; mixed bits do not fit one config group");
      }
      if (name.equals("lm_head")) {
        throw new UnsupportedModelException(
            "compressed-tensors output: lm_head is quantized; this output keeps it float; HINT:"
                + " ignore: [lm_head]");
      }
      if (!src.tensors().containsKey(name + ".weight")) {
        throw new UnsupportedModelException(
            "compressed-tensors output: quantized layer '"
                + name
                + "' is not a module of the checkpoint (no '"
                + name
                + ".weight')");
      }
      boolean channel = q.groups() == 1;
      if (s.groupSize() == 0 ? !channel : q.groupSize() != s.groupSize()) {
        throw new UnsupportedModelException(
            "compressed-tensors output: layer '"
                + name
                + "' has "
                + (channel && s.groupSize() > 0
                    ? "one group per channel"
                    : "group size " + q.groupSize())
                + ", the pass's setting is "
                + (s.groupSize() == 0 ? "per channel" : "group size " + s.groupSize())
                + "; mixed group sizes do not fit one config group");
      }
      try {
        modules.put(
            name, PackQuantizedLayout.pack(name, q, src.dtype(), "group".equals(s.actOrder())));
      } catch (IllegalArgumentException ex) {
        throw new UnsupportedModelException("compressed-tensors output: " + ex.getMessage());
      }
    }
    if (modules.isEmpty()) {
      throw new UnsupportedModelException(
          "compressed-tensors output: the model has no quantized linear layer to write");
    }
    List<String> ignore = new ArrayList<>();
    for (Node n : linearModules(src, model.graph())) {
      if (!modules.containsKey(n.name())) {
        ignore.add(n.name());
      }
    }
    return CompressedTensorsCheckpoint.quantizationConfig(
        new Scheme(s.bits(), s.groupSize(), s.symmetric(), s.actOrder(), ignore));
  }
}
