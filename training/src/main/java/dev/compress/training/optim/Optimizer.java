package dev.compress.training.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.compress.api.tensor.Tensor;
import dev.compress.training.Parameter;
import dev.compress.training.TensorNd;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Updates parameters from their accumulated gradients. State (moments, momentum buffers) lives in
 * native memory owned by the optimizer, one set of arrays per parameter, created on the first step;
 * {@link #state()} and {@link #loadState} round-trip it through host tensors for checkpoints. Every
 * temporary of a step is released before it returns. Weight decay applies to parameters of rank 2
 * or more (matrices, convolution kernels), not to biases and normalization scales, as is usual.
 */
public abstract sealed class Optimizer implements AutoCloseable permits AdamW, Sgd {
  private final int slotsPerParameter;
  private final Map<String, NDArray[]> state = new LinkedHashMap<>();
  private NDManager manager;

  Optimizer(int slotsPerParameter) {
    this.slotsPerParameter = slotsPerParameter;
  }

  /**
   * Names of the state slots, e.g. {@code m}, {@code v}; checkpoint keys are {@code slot/param}.
   */
  abstract String[] slotNames();

  /** Updates one parameter: {@code w} is a detached alias to modify in place. */
  abstract void update(NDArray w, NDArray g, NDArray[] slots, double lr, long t, boolean decay);

  /**
   * One update of every parameter with learning rate {@code lr}; {@code t} counts updates from 1
   * (Adam's bias correction).
   */
  public final void step(List<Parameter> params, double lr, long t) {
    for (Parameter p : params) {
      NDArray[] slots = slots(p);
      try (NDScope temporaries = new NDScope();
          NDArray g = p.gradient()) {
        temporaries.suppressNotUsedWarning();
        p.update(w -> update(w, g, slots, lr, t, p.shape().length >= 2));
      }
    }
  }

  private NDArray[] slots(Parameter p) {
    NDArray[] s = state.get(p.name());
    if (s == null) {
      if (manager == null) {
        manager = p.value().getManager().newSubManager();
      }
      s = new NDArray[slotsPerParameter];
      for (int i = 0; i < s.length; i++) {
        s[i] = manager.zeros(p.value().getShape(), p.value().getDataType());
      }
      state.put(p.name(), s);
    }
    return s;
  }

  /** The state as host tensors named {@code slot/parameter}. */
  public final Map<String, Tensor> state() {
    Map<String, Tensor> out = new LinkedHashMap<>();
    String[] names = slotNames();
    for (Map.Entry<String, NDArray[]> e : state.entrySet()) {
      for (int i = 0; i < names.length; i++) {
        String key = names[i] + "/" + e.getKey();
        out.put(key, TensorNd.toTensor(key, e.getValue()[i]));
      }
    }
    return out;
  }

  /**
   * Replaces the state of {@code params} with {@code saved} (as {@link #state()} wrote it).
   *
   * @throws IllegalArgumentException naming a missing slot or a shape mismatch
   */
  public final void loadState(List<Parameter> params, Map<String, Tensor> saved) {
    String[] names = slotNames();
    Map<String, Tensor> left = new HashMap<>(saved);
    for (Parameter p : params) {
      boolean any = names.length > 0 && saved.containsKey(names[0] + "/" + p.name());
      if (!any) {
        continue; // no update of this parameter was saved
      }
      NDArray[] s = slots(p);
      for (int i = 0; i < names.length; i++) {
        String key = names[i] + "/" + p.name();
        Tensor t = left.remove(key);
        if (t == null) {
          throw new IllegalArgumentException("optimizer state has no '" + key + "'");
        }
        if (!Arrays.equals(t.shape(), p.shape())) {
          throw new IllegalArgumentException(
              "optimizer state '"
                  + key
                  + "' has shape "
                  + t.shapeString()
                  + ", parameter has "
                  + Arrays.toString(p.shape()));
        }
        s[i].close();
        s[i] = TensorNd.toNd(t, manager);
      }
    }
    if (!left.isEmpty()) {
      throw new IllegalArgumentException(
          "optimizer state for unknown parameters: " + left.keySet());
    }
  }

  /** Frees the state. */
  @Override
  public void close() {
    if (manager != null) {
      manager.close();
      manager = null;
    }
    state.clear();
  }
}
