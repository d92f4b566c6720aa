package dev.compress.runtime.djl;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import dev.compress.api.CompressionException;
import dev.compress.api.UnsupportedModelException;
import dev.compress.api.exec.Device;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.training.GradientRecording;
import dev.compress.training.Parameter;
import dev.compress.training.ParameterSelection;
import dev.compress.training.TensorNd;
import dev.compress.training.TrainableModel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The interpreter with autograd: the same {@link CompiledProgram} as {@link DjlExecutor}, compiled
 * without quantized-kernel fusion, with the selected initializers loaded as float32 leaf arrays
 * that require gradients (a float16 initializer is trained in float32 and cast to float16 inside
 * each forward, so the graph's arithmetic is unchanged). At build time every step that reads a
 * value depending on a parameter is checked against {@link Differentiable}; the rejected ones are
 * listed at once, by operator and node. See {@link TrainableModel} for the lifecycle.
 */
public final class DjlTrainableModel implements TrainableModel {
  private static final String ENGINE = "PyTorch";
  private static final String WHO = "DjlTrainableModel";

  /** The PyTorch engine has one autograd recorder per JVM (see PtGradientCollector). */
  private static final AtomicBoolean RECORDING = new AtomicBoolean();

  private final Device device;
  private final CompiledProgram program;
  private final NDManager root;
  private final NDArray[] constants; // by slot: frozen weights (parameters are prefilled per call)
  private final List<Parameter> parameters;
  private final Map<String, Parameter> byName;
  private final int[] paramSlots; // parallel to parameters; -1 when nothing reads it
  private final AtomicBoolean closed = new AtomicBoolean();

  private DjlTrainableModel(ModelGraph model, ParameterSelection selection, Device device)
      throws CompressionException {
    this.device = device;
    ai.djl.Device djlDevice = DjlExecutor.djlDevice(device);
    List<String> names = selection.resolve(model.graph());
    program = CompiledProgram.compile(model, device, false, WHO);
    paramSlots = new int[names.size()];
    boolean[] carries = new boolean[program.slotCount];
    for (int i = 0; i < names.size(); i++) {
      Integer s = program.valueSlots.get(names.get(i));
      paramSlots[i] = s != null && program.constants.containsKey(s) ? s : -1;
      if (paramSlots[i] >= 0) {
        carries[paramSlots[i]] = true;
      }
    }
    checkDifferentiable(model, carries);

    root = NDManager.newBaseManager(djlDevice, ENGINE);
    constants = new NDArray[program.slotCount];
    List<Parameter> params = new ArrayList<>();
    try {
      Set<String> trainable = Set.copyOf(names);
      for (Map.Entry<Integer, Tensor> c : program.constants.entrySet()) {
        if (!trainable.contains(c.getValue().name())) {
          constants[c.getKey()] = NdConvert.toNd(c.getValue(), root);
        }
      }
      for (String name : names) {
        Tensor t = model.graph().initializers().get(name);
        NDArray v;
        try (NDArray stored = NdConvert.toNd(t, root)) {
          v = stored.toType(ai.djl.ndarray.types.DataType.FLOAT32, true);
        }
        v.setRequiresGradient(true);
        v.setName(name);
        params.add(new Parameter(name, t.dtype(), t.shape(), v));
      }
    } catch (RuntimeException e) {
      root.close();
      throw new CompressionException(WHO + ": cannot load the weights: " + e.getMessage(), e);
    }
    parameters = List.copyOf(params);
    byName = new LinkedHashMap<>();
    parameters.forEach(p -> byName.put(p.name(), p));
  }

  /**
   * A trainable model over a snapshot of {@code model}.
   *
   * @throws dev.compress.api.ConfigException for a selector that matches nothing, or no GPU
   * @throws UnsupportedModelException naming every node that cannot run or be differentiated
   */
  public static DjlTrainableModel create(
      ModelGraph model, ParameterSelection selection, Device device) throws CompressionException {
    return new DjlTrainableModel(model, selection, device);
  }

  private void checkDifferentiable(ModelGraph model, boolean[] carries)
      throws UnsupportedModelException {
    List<String> problems = new ArrayList<>();
    for (CompiledProgram.Step st : program.steps) {
      String reads = null;
      for (int j = 0; j < st.in().length; j++) {
        if (st.in()[j] >= 0 && carries[st.in()[j]]) {
          reads = st.inNames().get(j);
          break;
        }
      }
      if (reads == null) {
        continue;
      }
      String op = st.op().node().qualifiedOpType();
      boolean stops = Differentiable.STOPS.contains(op);
      if (op.equals("Cast")) {
        long to = st.op().intAttr("to", 1);
        stops = !(to == 1 || to == 10 || to == 11); // float, float16, double
      }
      if (stops) {
        continue;
      }
      if (!Differentiable.THROUGH.contains(op)) {
        problems.add(
            st.op().where()
                + " reads '"
                + reads
                + "', which depends on a trainable parameter, but "
                + Differentiable.why(op));
        continue;
      }
      for (int s : st.out()) {
        if (s >= 0) {
          carries[s] = true;
        }
      }
    }
    if (!problems.isEmpty()) {
      String g = model.graph().name();
      throw new UnsupportedModelException(
          WHO
              + " cannot train "
              + (g.isEmpty() ? "the graph" : "graph '" + g + "'")
              + ": "
              + String.join("; ", problems));
    }
  }

  @Override
  public List<String> inputNames() {
    return List.copyOf(program.feedSlots.keySet());
  }

  @Override
  public List<String> outputNames() {
    return program.outputNames;
  }

  @Override
  public Device device() {
    return device;
  }

  @Override
  public List<Parameter> parameters() {
    return parameters;
  }

  @Override
  public NDManager newManager() {
    checkOpen();
    return root.newSubManager();
  }

  @Override
  public Map<String, NDArray> forward(
      NDManager manager, Map<String, NDArray> inputs, Set<String> values)
      throws CompressionException {
    checkOpen();
    for (String name : program.feedSlots.keySet()) {
      if (!inputs.containsKey(name)) {
        throw new IllegalArgumentException(
            "missing input '" + name + "'; the model needs " + program.feedSlots.keySet());
      }
    }
    for (Map.Entry<String, NDArray> e : inputs.entrySet()) {
      ValueInfo declared = program.feedTypes.get(e.getKey());
      if (declared == null || !program.feedSlots.containsKey(e.getKey())) {
        throw new IllegalArgumentException(
            "unknown input '"
                + e.getKey()
                + "'; the model's inputs are "
                + program.feedSlots.keySet());
      }
      CompiledProgram.checkAgainst(
          declared,
          TensorNd.fromDjl(e.getValue().getDataType()),
          e.getValue().getShape().getShape());
    }
    boolean[] keep = new boolean[program.slotCount];
    List<String> names = new ArrayList<>(program.outputNames);
    List<Integer> slots = new ArrayList<>();
    for (int s : program.outputSlots) {
      slots.add(s);
    }
    for (String v : values) {
      Integer s = program.valueSlots.get(v);
      if (s == null) {
        throw new IllegalArgumentException(
            "cannot return value '" + v + "': no node, input or initializer of the graph has it");
      }
      if (!names.contains(v)) {
        names.add(v);
        slots.add(s);
        keep[s] = true;
      }
    }
    try (NDManager scope = root.newSubManager()) {
      NDArray[] vals = new NDArray[program.slotCount];
      for (Map.Entry<String, Integer> f : program.feedSlots.entrySet()) {
        NDArray in = ShapeOps.view(inputs.get(f.getKey())); // the call may close its own handle
        in.attach(scope);
        vals[f.getValue()] = in;
      }
      for (int i = 0; i < parameters.size(); i++) {
        if (paramSlots[i] >= 0) {
          vals[paramSlots[i]] = parameterView(parameters.get(i), scope);
        }
      }
      program.execute(vals, constants, scope, keep, null);
      Map<String, NDArray> out = new LinkedHashMap<>();
      List<NDArray> taken = new ArrayList<>();
      for (int i = 0; i < names.size(); i++) {
        int s = slots.get(i);
        NDArray a = vals[s];
        if (a == null) {
          a =
              constants[s] != null
                  ? CompiledProgram.value(vals, constants, s, scope)
                  : parameterViewOfSlot(s, scope);
        }
        for (NDArray x : taken) {
          if (x == a) {
            a = ShapeOps.view(a);
            break;
          }
        }
        taken.add(a);
        a.attach(manager);
        out.put(names.get(i), a);
      }
      return out;
    }
  }

  private NDArray parameterViewOfSlot(int slot, NDManager scope) {
    for (int i = 0; i < paramSlots.length; i++) {
      if (paramSlots[i] == slot) {
        return parameterView(parameters.get(i), scope);
      }
    }
    throw new IllegalArgumentException("value slot " + slot + " is not computed by the graph");
  }

  /** The parameter as the graph sees it: a differentiable view, cast to its stored type. */
  private static NDArray parameterView(Parameter p, NDManager scope) {
    NDArray v =
        p.storedType() == DataType.FLOAT
            ? ShapeOps.view(p.value())
            : p.value().toType(NdConvert.toDjl(p.storedType()).orElseThrow(), true);
    v.attach(scope);
    return v;
  }

  @Override
  public GradientRecording recordGradients() {
    checkOpen();
    if (!RECORDING.compareAndSet(false, true)) {
      throw new IllegalStateException(
          "a gradient recording is already open in this process (the PyTorch engine records one"
              + " at a time); close it before opening another");
    }
    GradientCollector gc;
    try {
      gc = Engine.getEngine(ENGINE).newGradientCollector();
    } catch (RuntimeException e) {
      RECORDING.set(false);
      throw e;
    }
    return new GradientRecording() {
      private boolean open = true;

      @Override
      public void backward(NDArray loss) {
        if (!open) {
          throw new IllegalStateException("the gradient recording is closed");
        }
        if (loss.size() != 1) {
          throw new IllegalArgumentException(
              "backward needs a scalar loss, found shape " + loss.getShape());
        }
        gc.backward(loss);
      }

      @Override
      public void close() {
        if (open) {
          open = false;
          try {
            gc.close();
          } finally {
            RECORDING.set(false);
          }
        }
      }
    };
  }

  @Override
  public void zeroGradients() {
    checkOpen();
    for (Parameter p : parameters) {
      JniUtils.zeroGrad((PtNDArray) p.value());
    }
  }

  @Override
  public Map<String, Tensor> parameterValues() {
    checkOpen();
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (Parameter p : parameters) {
      out.put(p.name(), stored(p));
    }
    return out;
  }

  private static Tensor stored(Parameter p) {
    try (NDArray d = p.value().stopGradient();
        NDArray c = d.toType(NdConvert.toDjl(p.storedType()).orElseThrow(), true)) {
      return NdConvert.toTensor(p.name(), c);
    }
  }

  @Override
  public void loadParameters(Map<String, Tensor> values) {
    checkOpen();
    for (Map.Entry<String, Tensor> e : values.entrySet()) {
      Parameter p = byName.get(e.getKey());
      if (p == null) {
        throw new IllegalArgumentException(
            "'" + e.getKey() + "' is not a parameter; the parameters are " + byName.keySet());
      }
      if (!Arrays.equals(p.shape(), e.getValue().shape())) {
        throw new IllegalArgumentException(
            "parameter '"
                + e.getKey()
                + "' has shape "
                + Arrays.toString(p.shape())
                + ", found "
                + e.getValue().shapeString());
      }
      try (NDManager tmp = root.newSubManager()) {
        NDArray src =
            NdConvert.toNd(e.getValue(), tmp).toType(ai.djl.ndarray.types.DataType.FLOAT32, false);
        p.update(a -> a.set(src.toByteBuffer()));
      }
    }
  }

  @Override
  public void writeTo(ModelGraph model) {
    checkOpen();
    Map<String, Tensor> inits = model.graph().initializers();
    List<String> problems = new ArrayList<>();
    Map<String, Tensor> updates = new HashMap<>();
    for (Parameter p : parameters) {
      Tensor old = inits.get(p.name());
      if (old == null) {
        problems.add("the target has no initializer '" + p.name() + "'");
      } else if (!Arrays.equals(old.shape(), p.shape())) {
        problems.add(
            "initializer '"
                + p.name()
                + "' has shape "
                + old.shapeString()
                + " in the target, "
                + Arrays.toString(p.shape())
                + " here");
      } else {
        Tensor t = stored(p);
        updates.put(p.name(), old.docString().isEmpty() ? t : t.withDocString(old.docString()));
      }
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(String.join("; ", problems));
    }
    updates.values().forEach(model.graph()::putInitializer);
  }

  /** Arrays held by the root manager and its children: between calls, exactly the weights. */
  int residentArrayCount() {
    return root.getManagedArrays().size();
  }

  private void checkOpen() {
    if (closed.get()) {
      throw new IllegalStateException(WHO + " is closed");
    }
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      root.close();
    }
  }
}
