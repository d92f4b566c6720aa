package dev.compress.quantization.gptq;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.UnsupportedModelException;
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
import dev.compress.quantization.format.gptq.GptqCheckpoint;
import dev.compress.quantization.format.gptq.GptqLayout;
import dev.compress.quantization.grid.Granularity;
import dev.compress.quantization.grid.GroupQuantizedWeight;
import dev.compress.quantization.rtn.RtnConfig;
import dev.compress.quantization.rtn.RtnProvider;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The pipeline's {@code output: {format: hf-gptq}}: a Hugging Face folder of a Llama-family decoder
 * quantized by {@code gptq} (or {@code rtn-quantization} 4-bit), in the GPTQ layout Transformers,
 * vLLM and GPTQModel load: every quantized module's {@code .weight} replaced by {@link GptqLayout}
 * {@code qweight/qzeros/scales/g_idx} (scales fp16), every other tensor as {@link HfFolderWriter}
 * writes it, {@code quantization_config} in {@code config.json} and {@value GptqCheckpoint#CONFIG}
 * beside it, tokenizer and generation files copied.
 *
 * <p>Refused at plan time: a model that is not a folder, GPT-2 (not supported yet), no {@code
 * gptq}/{@code rtn-quantization} pass, settings that differ between passes, 8-bit RTN or
 * per-channel GPTQ (DequantizeLinear, not this layout), an {@code lm_head} the selection quantizes
 * (GPTQ checkpoints keep it float), RTN embedding quantization. Refused before anything is written:
 * a quantized layer that is not a {@code MatMulNBits} of the pass's settings.
 */
public final class HfGptqOutput implements OutputFormat {
  /** The format name. */
  public static final String NAME = "hf-gptq";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public List<String> problems(PipelineSpec spec) {
    List<String> p = new ArrayList<>();
    settings(spec, p);
    return p;
  }

  /** The checkpoint settings the spec's quantizing passes imply; problems added to {@code p}. */
  static GptqCheckpoint.Settings settings(PipelineSpec spec, List<String> p) {
    Path folder = Path.of(spec.model());
    if (!HfFolderReader.isHfFolder(folder)) {
      p.add(
          "output.format hf-gptq needs a Hugging Face folder as model (a directory with"
              + " config.json), found '"
              + spec.model()
              + "'");
    } else {
      try {
        HfConfig c = HfConfig.read(folder.resolve(HfFolderReader.CONFIG));
        if (c.architecture() == HfArchitecture.GPT2) {
          p.add(
              "output.format hf-gptq: "
                  + c.architectureName()
                  + " is not supported yet (its c_attn is split into q/k/v for computing and"
                  + " Conv1D stores in x out); HINT: write it as onnx or hf");
        }
      } catch (IOException | CompressionException e) {
        p.add("output.format hf-gptq: " + e.getMessage());
      }
    }
    GptqCheckpoint.Settings s = null;
    String first = null;
    for (int i = 0; i < spec.passes().size(); i++) {
      PipelineSpec.PassSpec ps = spec.passes().get(i);
      String at = "passes[" + i + "] (" + ps.type() + ")";
      GptqCheckpoint.Settings here;
      LayerSelection sel;
      if (ps.config() instanceof GptqConfig g) {
        if (g.bits() > 4) {
          p.add(
              at
                  + ": hf-gptq writes layers quantized to MatMulNBits (bits <= 4), found bits "
                  + g.bits());
          continue;
        }
        if (g.groupSize() == 0) {
          p.add(
              at
                  + ": groupSize 0 (per channel) writes DequantizeLinear layers, not the GPTQ"
                  + " layout; HINT: groupSize: 128");
          continue;
        }
        here =
            new GptqCheckpoint.Settings(
                g.bits(),
                g.groupSize(),
                g.actOrder(),
                g.symmetric(),
                g.staticGroups(),
                g.dampPercent());
        sel = g.selection();
      } else if (ps.config() instanceof RtnConfig r) {
        if (r.bits() != 4) {
          p.add(
              at
                  + ": bits "
                  + r.bits()
                  + " writes DequantizeLinear layers, not the GPTQ layout; HINT: bits: 4");
          continue;
        }
        if (r.embeddings()) {
          p.add(
              at
                  + ": embeddings true quantizes the embedding table, which a GPTQ checkpoint"
                  + " keeps float; HINT: embeddings: false");
        }
        here =
            new GptqCheckpoint.Settings(
                4,
                r.granularity() == Granularity.PER_GROUP ? r.groupSize() : -1,
                false,
                r.symmetric(),
                false,
                0.01);
        sel = r.selection();
      } else {
        continue;
      }
      boolean head =
          (sel.targets().isEmpty()
                  || sel.targets().stream().anyMatch(t -> LayerSelection.matches(t, "lm_head")))
              && sel.ignore().stream().noneMatch(t -> LayerSelection.matches(t, "lm_head"));
      if (head) {
        p.add(
            at
                + ": the selection quantizes lm_head (tied to the embedding or not), which GPTQ"
                + " checkpoints keep float; HINT: ignore: [lm_head]");
      }
      if (s == null) {
        s = here;
        first = at;
      } else if (s.bits() != here.bits()
          || s.groupSize() != here.groupSize()
          || s.symmetric() != here.symmetric()
          || s.descAct() != here.descAct()) {
        p.add(
            at
                + ": bits "
                + here.bits()
                + ", group size "
                + here.groupSize()
                + " differ from "
                + first
                + " (bits "
                + s.bits()
                + ", group size "
                + s.groupSize()
                + "); a GPTQ checkpoint has one setting for every layer");
      }
    }
    if (s == null && p.isEmpty()) {
      p.add(
          "output.format hf-gptq needs a gptq or "
              + RtnProvider.TYPE
              + " (bits 4) pass, found none in passes");
    }
    return s;
  }

  @Override
  public Path write(PipelineSpec spec, ModelGraph model, Path source, Path dir)
      throws IOException, CompressionException {
    List<String> p = new ArrayList<>();
    GptqCheckpoint.Settings s = settings(spec, p);
    if (!p.isEmpty()) {
      throw new ConfigException(p);
    }
    HfCheckpoint src = HfFolderReader.read(source);
    Map<String, GroupQuantizedWeight> weights;
    try {
      weights = QuantizedGraphWeights.read(model, s.bits(), s.symmetric());
    } catch (IllegalArgumentException e) {
      throw new UnsupportedModelException("hf-gptq output: " + e.getMessage());
    }
    Map<String, List<Tensor>> modules = new LinkedHashMap<>();
    for (Map.Entry<String, GroupQuantizedWeight> e : weights.entrySet()) {
      String name = e.getKey();
      GroupQuantizedWeight q = e.getValue();
      Node n = model.graph().node(name).orElseThrow();
      if (!n.opType().equals("MatMulNBits")) {
        throw new UnsupportedModelException(
            "hf-gptq output: layer '"
                + name
                + "' is an 8-bit DequantizeLinear layer, not the GPTQ layout; HINT: quantize"
                + " every layer with gptq or rtn-quantization bits 4");
      }
      if (name.equals("lm_head")) {
        throw new UnsupportedModelException(
            "hf-gptq output: lm_head is quantized; GPTQ checkpoints keep it float; HINT: ignore:"
                + " [lm_head]");
      }
      int expected = s.groupSize() == -1 ? q.cols() : s.groupSize();
      if (q.groupSize() != expected) {
        throw new UnsupportedModelException(
            "hf-gptq output: layer '"
                + name
                + "' has group size "
                + q.groupSize()
                + ", the checkpoint's is "
                + s.groupSize()
                + "; mixed group sizes do not fit one quantization_config");
      }
      if (!src.tensors().containsKey(name + ".weight")) {
        throw new UnsupportedModelException(
            "hf-gptq output: quantized layer '"
                + name
                + "' is not a module of the checkpoint (no '"
                + name
                + ".weight')");
      }
      try {
        modules.put(name, GptqLayout.pack(name, q));
      } catch (IllegalArgumentException ex) {
        throw new UnsupportedModelException("hf-gptq output: " + ex.getMessage());
      }
    }
    if (modules.isEmpty()) {
      throw new UnsupportedModelException(
          "hf-gptq output: the model has no MatMulNBits layer to write in the GPTQ layout");
    }
    HfFolderWriter.writeInto(
        src, model, dir, modules, Map.of("quantization_config", GptqCheckpoint.config(s)));
    GptqCheckpoint.writeConfig(dir, s);
    return dir.resolve(src.sharded() ? HfFolderReader.INDEX : HfFolderReader.WEIGHTS);
  }
}
