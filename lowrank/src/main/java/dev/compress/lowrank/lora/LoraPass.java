package dev.compress.lowrank.lora;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.GraphEditor;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.layers.LinearLayers;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.pipeline.PassValidation;
import dev.compress.training.loop.TrainingHook;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * LoRA (Hu et al. 2021): low-rank adapters on the selected linear layers, trained against the
 * frozen teacher while every base weight stays frozen, then merged into the base weights.
 *
 * <ol>
 *   <li>Check every selected layer before touching anything: MatMul or Gemm ({@code transA = 0})
 *       with a 2-D float weight, {@code rank <= min(in, out)}; a selector that picks a layer an
 *       earlier pass quantized ({@code MatMulNBits}, {@code DequantizeLinear}, integer operators)
 *       is refused, naming the layer (LoRA here trains over a float base).
 *   <li>Insert {@code h = W0 x + (alpha / r) B A x} on each ({@link Adapters}): A Kaiming-uniform
 *       from the context's {@code lora/init} stream, B zero, so the model is unchanged.
 *   <li>Train only the A and B initializers with {@link TeacherStudent} (the teacher is the
 *       pipeline's input model or the {@code teacher} file; the losses are {@code distill}'s).
 *   <li>{@code merge: true}: fold {@code (alpha / r) A B} into each W0 in W0's dtype and remove the
 *       branches, so the written model has the base's structure and parameter count. {@code merge:
 *       false}: the branches stay as ordinary nodes (ONNX Runtime runs them); {@link PeftAdapters}
 *       writes them in the PEFT layout.
 * </ol>
 *
 * <p><b>After a factorization</b> (svd, asvd, svd-llm): each factor is an ordinary MatMul, so the
 * default selection puts an adapter on both {@code x Wv^T} ({@code LAYER_lowrank_in}) and {@code
 * (.) Wu^T} (the layer's own node), and the merge keeps rank k and the parameter count (SVD-LLM's
 * recovery trains the U factors, merges, then the V factors; here both train at once; two lora
 * passes with {@code targets} reproduce the sequential recipe).
 *
 * <p><b>QLoRA</b> ({@code base: nf4}; Dettmers et al. 2023): before the adapters go in, each
 * selected weight is replaced by its {@link dev.compress.api.tensor.Nf4} form, dequantized in the
 * forward by ordinary operators ({@link Nf4Base}); the adapters learn against that quantized base.
 * The merge folds {@code (alpha / r) A B} into the dequantized NF4 weight and writes it float; a
 * later quantization pass in the pipeline (e.g. int4 MatMulNBits or int8) requantizes it, since
 * lowrank cannot use the quantization module's writers. {@code merge: false} keeps the NF4 base and
 * the adapters in the graph (ONNX Runtime runs both).
 *
 * <p>Nothing is changed when a check or the training fails (inserted adapters are removed, an NF4
 * base gets its original weights back).
 */
public final class LoraPass implements Pass<LoraConfig>, PassValidation {
  private final LoraConfig config;

  /** A pass for a validated config. */
  public LoraPass(LoraConfig config) {
    this.config = config;
  }

  @Override
  public LoraConfig config() {
    return config;
  }

  @Override
  public List<String> validate(ModelGraph model, List<LinearLayer> selected) {
    List<String> p = new ArrayList<>();
    for (LinearLayer l : selected) {
      if (!Adapters.isAdapter(l)) {
        String why = Adapters.problem(l, config.rank());
        if (why != null) {
          p.add(why);
        }
      }
    }
    return p;
  }

  /**
   * The layers the selection picks among the float layers of {@code graph}, adapters excluded.
   *
   * @throws ConfigException naming every quantized layer a selector picks, every selector that
   *     matches nothing, and every selected layer that cannot take an adapter
   */
  static List<LinearLayer> selected(Graph graph, LayerSelection sel, int rank)
      throws ConfigException {
    List<String> problems = new ArrayList<>();
    for (LinearLayer.Compressed c : LinearLayers.compressed(graph)) {
      boolean in =
          sel.targets().isEmpty()
              || sel.targets().stream().anyMatch(s -> LayerSelection.matches(s, c.name()));
      boolean out = sel.ignore().stream().anyMatch(s -> LayerSelection.matches(s, c.name()));
      if (in && !out) {
        problems.add(
            "layer '"
                + c.name()
                + "' is already quantized ("
                + switch (c.form()) {
                  case MATMUL_NBITS -> "MatMulNBits";
                  case DEQUANTIZE_LINEAR -> "its weight is a DequantizeLinear of integers";
                  default -> "integer weights and activations";
                }
                + "); lora trains over a float base: run lora before quantization, or leave"
                + " the layer out with ignore");
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    List<LinearLayer> floats = new ArrayList<>();
    for (LinearLayer l : LinearLayers.of(graph)) {
      if (!Adapters.isAdapter(l)) {
        floats.add(l);
      }
    }
    // an ignore selector may name a quantized layer (that is how one leaves it out)
    List<LinearLayer.Compressed> quantized = LinearLayers.compressed(graph);
    List<String> ignore = new ArrayList<>();
    for (String s : sel.ignore()) {
      boolean onFloat = floats.stream().anyMatch(l -> LayerSelection.matches(s, l.name()));
      boolean onQuantized = quantized.stream().anyMatch(c -> LayerSelection.matches(s, c.name()));
      if (onFloat || !onQuantized) {
        ignore.add(s);
      }
    }
    List<LinearLayer> chosen = new LayerSelection(sel.targets(), ignore).select(floats);
    for (LinearLayer l : chosen) {
      String why = Adapters.problem(l, rank);
      if (why != null) {
        problems.add(why);
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    if (chosen.isEmpty()) {
      throw new ConfigException(
          "targets/ignore select no MatMul or Gemm layer to adapt (the model has "
              + floats.size()
              + " float linear layers)");
    }
    return chosen;
  }

  /**
   * Inserts adapters on {@code layers} (B zero), in graph order, A drawn from {@code random}.
   *
   * @throws ConfigException when a layer cannot take one (nothing is left inserted)
   */
  static List<Adapters.Adapter> insert(
      GraphEditor ed, List<LinearLayer> layers, int rank, double alpha, SplittableRandom random)
      throws ConfigException {
    List<Adapters.Adapter> out = new ArrayList<>();
    try {
      for (LinearLayer l : layers) {
        out.add(Adapters.insert(ed, l, rank, alpha, random));
      }
    } catch (ConfigException e) {
      for (Adapters.Adapter a : out.reversed()) {
        Adapters.remove(ed, a);
      }
      throw e;
    }
    return out;
  }

  @Override
  public PassReport apply(ModelGraph model, PassContext context) throws CompressionException {
    return AdapterRun.run(keys(), plain, model, context);
  }

  private AdapterRun.Keys keys() {
    LoraConfig c = config;
    return new AdapterRun.Keys(
        LoraProvider.TYPE,
        c.selection(),
        c.teacher(),
        c.losses(),
        c.rank(),
        c.alpha(),
        c.merge(),
        c.base(),
        c.settings());
  }

  /** Plain LoRA: A Kaiming-uniform, B zero, no hook, the adapters as trained. */
  private final AdapterRun.Method plain =
      new AdapterRun.Method() {
        @Override
        public Adapters.Adapter insert(GraphEditor ed, LinearLayer layer, SplittableRandom random)
            throws ConfigException {
          return Adapters.insert(ed, layer, config.rank(), config.alpha(), random);
        }

        @Override
        public TrainingHook hook(List<Adapters.Adapter> adapters, PassContext context) {
          return TrainingHook.NONE;
        }

        @Override
        public List<Adapters.Adapter> finish(
            GraphEditor ed,
            List<LinearLayer> layers,
            List<Adapters.Adapter> trained,
            Map<String, Double> metrics,
            Map<String, Map<String, Double>> layerMetrics,
            List<PassReport.Note> notes) {
          return trained;
        }
      };
}
