package dev.compress.runtime;

import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/** Small graphs built in code for the executor tests. */
public final class TestGraphs {
  private final Graph graph = new Graph("test");
  private final ModelGraph model = new ModelGraph(8, graph);

  private TestGraphs(long opset) {
    model.opsetImports().put("", opset);
    model.setProducerName("compress-runtime-tests");
  }

  /** A new builder importing {@code opset} for the default domain. */
  public static TestGraphs opset(long opset) {
    return new TestGraphs(opset);
  }

  /** Imports a custom domain. */
  public TestGraphs domain(String domain, long version) {
    model.opsetImports().put(domain, version);
    return this;
  }

  /** A graph input; a negative dimension is symbolic. */
  public TestGraphs input(String name, DataType type, long... dims) {
    List<ValueInfo.Dim> d = new ArrayList<>();
    for (int i = 0; i < dims.length; i++) {
      d.add(dims[i] < 0 ? ValueInfo.Dim.of("d" + name + i) : ValueInfo.Dim.of(dims[i]));
    }
    graph.inputs().add(ValueInfo.tensor(name, type, d));
    return this;
  }

  /** An initializer. */
  public TestGraphs init(Tensor t) {
    graph.putInitializer(t);
    return this;
  }

  /** A node in the default domain. */
  public TestGraphs node(String op, List<String> in, List<String> out, Attribute... attrs) {
    return node("", op, in, out, attrs);
  }

  /** A node in any domain, named after its first output. */
  public TestGraphs node(
      String domain, String op, List<String> in, List<String> out, Attribute... attrs) {
    Node n = new Node("/" + op + "_" + graph.nodes().size(), op, domain, in, out);
    for (Attribute a : attrs) {
      n.put(a);
    }
    graph.nodes().add(n);
    return this;
  }

  /** A graph output of unknown shape. */
  public TestGraphs output(String name, DataType type) {
    graph.outputs().add(ValueInfo.tensor(name, type, null));
    return this;
  }

  public ModelGraph build() {
    return model;
  }

  /** A constant node producing {@code t} under its name. */
  public TestGraphs constant(Tensor t) {
    return node("Constant", List.of(), List.of(t.name()), Attribute.of("value", t));
  }

  /** Seeded uniform values in [-1, 1). */
  public static float[] random(long seed, int n) {
    Random r = new Random(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = r.nextFloat() * 2 - 1;
    }
    return v;
  }

  /** A seeded random f32 tensor. */
  public static Tensor randomTensor(String name, long seed, long... shape) {
    return Tensor.ofFloats(name, shape, random(seed, (int) Tensor.elementCount(shape)));
  }

  /** Largest absolute difference of two tensors of equal shape (as floats). */
  public static double maxAbsDiff(Tensor a, Tensor b) {
    if (!Arrays.equals(a.shape(), b.shape())) {
      throw new AssertionError(
          "shapes differ: " + a.shapeString() + " vs " + b.shapeString() + " for " + a.name());
    }
    float[] x = a.toFloatArray();
    float[] y = b.toFloatArray();
    double m = 0;
    for (int i = 0; i < x.length; i++) {
      double d = Math.abs((double) x[i] - y[i]);
      if (Double.isNaN(d)) {
        if (!(Float.isNaN(x[i]) && Float.isNaN(y[i]))) {
          return Double.NaN;
        }
        continue;
      }
      if (Float.isInfinite(x[i]) && x[i] == y[i]) {
        continue;
      }
      m = Math.max(m, d);
    }
    return m;
  }
}
