package dev.compress.runtime.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.compress.api.CompressionException;
import dev.compress.api.UnsupportedModelException;
import dev.compress.api.exec.Device;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A graph compiled for the interpreter: one {@link Step} per node (kernel and value slots), the
 * constant values by slot, and liveness (which slots die after each step). It holds no native
 * resources: the inference executor ({@link DjlExecutor}) and the trainable model ({@link
 * DjlTrainableModel}) each load the constants into their own manager and run {@link #execute}.
 */
final class CompiledProgram {

  /** A compiled node: kernel plus value slots; {@code release} are slots dead after it. */
  record Step(OpNode op, Kernel kernel, List<String> inNames, int[] in, int[] out, int[] release) {}

  final List<Step> steps;
  final Map<Integer, Tensor> constants; // slot -> value, only those something reads
  final int slotCount;
  final Map<String, Integer> valueSlots; // value name -> slot
  final Map<String, Integer> feedSlots; // name -> slot, in graph order
  final Map<String, ValueInfo> feedTypes;
  final List<String> outputNames;
  final int[] outputSlots;
  final Map<String, Integer> stepOfNode; // node name -> step index, -1 for folded constants
  final Map<String, Integer> fusedKernels; // kind -> number of fused quantized layers
  final boolean kernelLayers; // some step runs on the project's quantized kernels (CPU)

  private CompiledProgram(
      List<Step> steps,
      Map<Integer, Tensor> constants,
      int slotCount,
      Map<String, Integer> valueSlots,
      Map<String, Integer> feedSlots,
      Map<String, ValueInfo> feedTypes,
      List<String> outputNames,
      int[] outputSlots,
      Map<String, Integer> stepOfNode,
      Map<String, Integer> fusedKernels,
      boolean kernelLayers) {
    this.steps = steps;
    this.constants = constants;
    this.slotCount = slotCount;
    this.valueSlots = valueSlots;
    this.feedSlots = feedSlots;
    this.feedTypes = feedTypes;
    this.outputNames = outputNames;
    this.outputSlots = outputSlots;
    this.stepOfNode = stepOfNode;
    this.fusedKernels = fusedKernels;
    this.kernelLayers = kernelLayers;
  }

  /** The hint for bfloat16 models: DJL's PyTorch engine aborts the JVM on bfloat16 arrays. */
  static final String BF16_HINT =
      "HINT: convert the model's bfloat16 tensors to float32 or float16 first (the float-precision"
          + " conversion of compress-api tensors), or run it on ONNX Runtime (--engine onnxruntime)";

  /**
   * Compiles {@code model}.
   *
   * @param who the component named in messages ({@code DjlExecutor}, {@code DjlTrainableModel})
   * @param quantizedKernels whether quantized linear layers are fused onto the project's kernels
   *     (CPU only)
   * @throws UnsupportedModelException listing every node (operator and name) or initializer the
   *     interpreter cannot handle
   */
  static CompiledProgram compile(
      ModelGraph model, Device device, boolean quantizedKernels, String who)
      throws UnsupportedModelException {
    Graph g = model.graph();
    Map<String, Integer> slots = new HashMap<>();
    List<String> problems = new ArrayList<>();
    Map<String, Integer> feedSlots = new LinkedHashMap<>();
    Map<String, ValueInfo> feedTypes = new HashMap<>();
    for (ValueInfo in : g.inputs()) {
      feedTypes.put(in.name(), in);
      if (!g.initializers().containsKey(in.name())) {
        feedSlots.put(in.name(), slots.computeIfAbsent(in.name(), k -> slots.size()));
        if (in.elemType().orElse(null) == DataType.BFLOAT16) {
          problems.add(
              "input '" + in.name() + "' is bfloat16, which DJL's PyTorch engine cannot run");
        }
      }
    }
    Map<Integer, Tensor> constantTensors = new HashMap<>();
    for (Tensor t : g.initializers().values()) {
      constantTensors.put(slots.computeIfAbsent(t.name(), k -> slots.size()), t);
    }
    Set<Integer> defined = new HashSet<>(slots.values());

    // Values known at compile time (the quantized kernels repack constant weights once).
    Map<String, Tensor> known = new HashMap<>();
    Set<String> fed = new HashSet<>();
    g.inputs().forEach(v -> fed.add(v.name()));
    for (Tensor t : g.initializers().values()) {
      if (!fed.contains(t.name())) {
        known.put(t.name(), t);
      }
    }
    for (Node node : g.nodes()) {
      if (node.domain().isEmpty() && node.opType().equals("Constant")) {
        try {
          known.put(node.output(0), ShapeOps.constantValue(new OpNode(node, opset(model, ""))));
        } catch (UnsupportedModelException | RuntimeException e) {
          // reported by the compile loop below
        }
      }
    }
    // The kernels run on the CPU: on a GPU the quantized layers stay ONNX operators on the device
    // (except MatMulNBits, which has no other implementation here).
    QuantFusion.Plan plan =
        quantizedKernels && device == Device.CPU
            ? QuantFusion.plan(g, known)
            : QuantFusion.Plan.NONE;
    Map<String, Integer> fusedKernels = Map.copyOf(plan.counts());
    boolean kernelLayers =
        device == Device.CPU
            && (!fusedKernels.isEmpty()
                || g.nodes().stream().anyMatch(n -> n.opType().equals("MatMulNBits")));

    List<Step> compiled = new ArrayList<>();
    Map<String, Integer> stepOfNode = new HashMap<>();
    Map<Node, Integer> anchorStep = new java.util.IdentityHashMap<>();
    boolean noDefaultOpset = model.opset("").isEmpty();
    for (Node node : g.nodes()) {
      if (noDefaultOpset && node.domain().isEmpty()) {
        problems.add(
            "the model imports no opset for the default ONNX domain, so operator semantics are"
                + " unknown (HINT: model.opsetImports().put(\"\", 17L))");
        noDefaultOpset = false;
      }
      OpNode op = new OpNode(node, opset(model, node.domain()), known);
      if (!node.name().isEmpty()) {
        stepOfNode.putIfAbsent(node.name(), -1);
      }
      if (plan.skipped().contains(node)) {
        continue; // its work is done by a fused kernel, and nothing else reads its outputs
      }
      QuantFusion.Group group = plan.groups().get(node);
      List<String> inputNames = group != null ? group.inputs() : node.inputs();
      int[] in = new int[inputNames.size()];
      for (int i = 0; i < in.length; i++) {
        String v = inputNames.get(i);
        Integer s = v.isEmpty() ? null : slots.get(v);
        if (!v.isEmpty() && (s == null || !defined.contains(s))) {
          problems.add(
              op.where()
                  + " reads '"
                  + v
                  + "', which no earlier node, input or initializer produces");
        }
        in[i] = s == null ? -1 : s;
      }
      int[] out = new int[node.outputs().size()];
      for (int i = 0; i < out.length; i++) {
        String v = node.output(i);
        out[i] = v.isEmpty() ? -1 : slots.computeIfAbsent(v, k -> slots.size());
        if (out[i] >= 0) {
          defined.add(out[i]);
        }
      }
      try {
        if (node.domain().isEmpty()
            && node.opType().equals("Cast")
            && node.intAttr("to", 0) == 16 /* BFLOAT16 */) {
          throw op.unsupported("it casts to bfloat16, which DJL's PyTorch engine cannot run");
        }
        if (node.domain().isEmpty() && node.opType().equals("Constant")) {
          Tensor value = ShapeOps.constantValue(op);
          if (NdConvert.toDjl(value.dtype()).isEmpty() || value.dtype() == DataType.BFLOAT16) {
            throw op.unsupported("constant of element type " + value.dtype());
          }
          constantTensors.put(out[0], value);
          continue;
        }
        if (group != null) {
          anchorStep.put(node, compiled.size());
          if (!node.name().isEmpty()) {
            stepOfNode.put(node.name(), compiled.size());
          }
          compiled.add(new Step(op, group.kernel(), inputNames, in, out, null));
          continue;
        }
        KernelFactory f = OpRegistry.find(node).orElse(null);
        if (f == null) {
          problems.add(
              "no kernel for operator " + node.qualifiedOpType() + " (node '" + node.name() + "')");
          continue;
        }
        Kernel k = f.compile(op);
        if (!node.name().isEmpty()) {
          stepOfNode.put(node.name(), compiled.size());
        }
        compiled.add(new Step(op, k, inputNames, in, out, null));
      } catch (UnsupportedModelException e) {
        problems.add(e.getMessage().replace("DjlExecutor cannot run ", ""));
      }
    }

    // Capturing a node absorbed into a fused kernel records that kernel's activation inputs.
    for (QuantFusion.Group gr : plan.groups().values()) {
      Integer at = anchorStep.get(gr.anchor());
      for (Node member : gr.members()) {
        if (at != null && plan.skipped().contains(member) && !member.name().isEmpty()) {
          stepOfNode.merge(member.name(), at, (a, b) -> a >= 0 ? a : b);
        }
      }
    }

    List<String> outputNames = g.outputs().stream().map(ValueInfo::name).toList();
    int[] outputSlots = new int[outputNames.size()];
    for (int i = 0; i < outputSlots.length; i++) {
      Integer s = slots.get(outputNames.get(i));
      if (s == null || !defined.contains(s)) {
        problems.add("graph output '" + outputNames.get(i) + "' is not produced by any node");
        outputSlots[i] = -1;
      } else {
        outputSlots[i] = s;
      }
    }
    boolean bf16 = false;
    for (Map.Entry<Integer, Tensor> c : constantTensors.entrySet()) {
      DataType t = c.getValue().dtype();
      if (t == DataType.BFLOAT16) {
        bf16 = true;
        problems.add(
            "initializer '"
                + c.getValue().name()
                + "' is bfloat16, which DJL's PyTorch engine cannot run");
      } else if (NdConvert.toDjl(t).isEmpty()) {
        problems.add(
            "initializer '"
                + c.getValue().name()
                + "' has element type "
                + t
                + ", which the PyTorch engine cannot hold");
      }
    }
    if (!problems.isEmpty()) {
      if (bf16 || problems.stream().anyMatch(p -> p.contains("bfloat16"))) {
        problems.add(BF16_HINT);
      }
      throw new UnsupportedModelException(
          who
              + " cannot run "
              + (g.name().isEmpty() ? "the graph" : "graph '" + g.name() + "'")
              + ": "
              + String.join("; ", problems));
    }

    // Liveness: release each non-output value after its last reader (or at once if none reads it).
    int slotCount = slots.size();
    int[] lastUse = new int[slotCount];
    Arrays.fill(lastUse, -1);
    Set<Integer> keep = new HashSet<>();
    for (int s : outputSlots) {
      keep.add(s);
    }
    for (int i = 0; i < compiled.size(); i++) {
      for (int s : compiled.get(i).out()) {
        if (s >= 0) {
          lastUse[s] = Math.max(lastUse[s], i);
        }
      }
      for (int s : compiled.get(i).in()) {
        if (s >= 0) {
          lastUse[s] = Math.max(lastUse[s], i);
        }
      }
    }
    List<Step> finalSteps = new ArrayList<>(compiled.size());
    for (int i = 0; i < compiled.size(); i++) {
      Step st = compiled.get(i);
      final int step = i;
      int[] release =
          Arrays.stream(concat(st.in(), st.out()))
              .filter(s -> s >= 0 && lastUse[s] == step && !keep.contains(s))
              .distinct()
              .toArray();
      finalSteps.add(new Step(st.op(), st.kernel(), st.inNames(), st.in(), st.out(), release));
    }
    Map<Integer, Tensor> live = new HashMap<>();
    for (Map.Entry<Integer, Tensor> c : constantTensors.entrySet()) {
      int s = c.getKey();
      if (lastUse[s] >= 0 || keep.contains(s)) {
        live.put(s, c.getValue());
      }
    }
    return new CompiledProgram(
        List.copyOf(finalSteps),
        Map.copyOf(live),
        slotCount,
        Map.copyOf(slots),
        feedSlots,
        feedTypes,
        outputNames,
        outputSlots,
        stepOfNode,
        fusedKernels,
        kernelLayers);
  }

  private static int[] concat(int[] a, int[] b) {
    int[] r = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }

  private static long opset(ModelGraph model, String domain) {
    return model.opset(domain).orElse(domain.isEmpty() ? -1 : 1);
  }

  /** Receives the inputs of a step that a caller asked to capture. */
  interface CaptureHook {
    void inputs(int step, Step st, NDArray[] in);
  }

  /**
   * Runs every step. {@code vals} holds the fed values by slot (each owned by {@code scope}); on
   * return it holds the graph outputs and the slots {@code keep} marks; everything else made during
   * the call has been closed. A constant enters the call as a view of {@code constants[slot]} owned
   * by {@code scope}, so gradients flow into it when it is a parameter.
   */
  void execute(
      NDArray[] vals, NDArray[] constants, NDManager scope, boolean[] keep, CaptureHook capture)
      throws CompressionException {
    for (int i = 0; i < steps.size(); i++) {
      Step st = steps.get(i);
      NDArray[] in = new NDArray[st.in().length];
      for (int j = 0; j < in.length; j++) {
        in[j] = st.in()[j] < 0 ? null : value(vals, constants, st.in()[j], scope);
      }
      if (capture != null) {
        capture.inputs(i, st, in);
      }
      NDArray[] out = run(st, in, scope);
      for (int k = 0; k < st.out().length; k++) {
        int s = st.out()[k];
        if (s < 0) {
          continue;
        }
        NDArray o = k < out.length ? out[k] : null;
        if (o == null) {
          throw new CompressionException(
              "DjlExecutor: " + st.op().where() + " produced no value for output " + k);
        }
        for (NDArray x : in) {
          if (o == x) {
            o = ShapeOps.view(o); // each slot owns its array object
          }
        }
        if (o.getManager() != scope) {
          o.attach(scope);
        }
        vals[s] = o;
      }
      for (int s : st.release()) {
        if (vals[s] != null && (keep == null || !keep[s])) {
          vals[s].close();
          vals[s] = null;
        }
      }
    }
  }

  private static NDArray[] run(Step st, NDArray[] in, NDManager scope) throws CompressionException {
    try (NDScope temporaries = new NDScope()) {
      temporaries.suppressNotUsedWarning();
      NDArray[] out = st.kernel().run(in, scope);
      for (NDArray o : out) {
        if (o != null) {
          NDScope.unregister(o);
        }
      }
      return out;
    } catch (UnsupportedModelException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new CompressionException(
          "DjlExecutor: "
              + st.op().where()
              + " failed on inputs "
              + shapes(in)
              + ": "
              + e.getMessage(),
          e);
    }
  }

  private static String shapes(NDArray[] in) {
    List<String> s = new ArrayList<>();
    for (NDArray a : in) {
      s.add(a == null ? "-" : a.getDataType() + a.getShape().toString());
    }
    return s.toString();
  }

  /** The value in a slot; a constant enters a call as a view owned by the call's manager. */
  static NDArray value(NDArray[] vals, NDArray[] constants, int slot, NDManager scope) {
    NDArray v = vals[slot];
    if (v == null && constants[slot] != null) {
      v = ShapeOps.view(constants[slot]);
      v.attach(scope);
      vals[slot] = v;
    }
    if (v == null) {
      throw new IllegalStateException("value slot " + slot + " read before it is produced");
    }
    return v;
  }

  /** Checks a fed tensor against the declared element type, rank and fixed dimensions. */
  static void checkAgainst(ValueInfo declared, DataType dtype, long[] shape) {
    declared
        .elemType()
        .ifPresent(
            type -> {
              if (type != dtype) {
                throw new IllegalArgumentException(
                    "input '" + declared.name() + "' must be " + type + ", found " + dtype);
              }
            });
    if (declared.shape() != null) {
      List<ValueInfo.Dim> dims = declared.shape();
      boolean ok = dims.size() == shape.length;
      for (int i = 0; ok && i < dims.size(); i++) {
        ok = dims.get(i).value() < 0 || dims.get(i).value() == shape[i];
      }
      if (!ok) {
        throw new IllegalArgumentException(
            "input '"
                + declared.name()
                + "' must have shape "
                + dims
                + ", found "
                + Arrays.toString(shape));
      }
    }
  }
}
