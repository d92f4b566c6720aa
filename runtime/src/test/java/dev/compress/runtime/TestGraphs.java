package dev.compress.runtime;

import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.GraphBuilder;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Small graphs built in code for the executor tests: a fluent front of the api's {@link
 * GraphBuilder} (one builder for tests and importers), with the executor tests' conventions: nodes
 * named {@code /OP_INDEX}, symbolic dimensions named after their input, and no structural check on
 * {@link #build()} (some tests feed the executors graphs they must refuse).
 */
public final class TestGraphs {
  private final GraphBuilder b;

  private TestGraphs(long opset) {
    b = GraphBuilder.create("test").opset("", opset).producer("compress-runtime-tests");
  }

  /** A new builder importing {@code opset} for the default domain. */
  public static TestGraphs opset(long opset) {
    return new TestGraphs(opset);
  }

  /** Imports a custom domain. */
  public TestGraphs domain(String domain, long version) {
    b.opset(domain, version);
    return this;
  }

  /** A graph input; a negative dimension is symbolic. */
  public TestGraphs input(String name, DataType type, long... dims) {
    List<ValueInfo.Dim> d = new ArrayList<>();
    for (int i = 0; i < dims.length; i++) {
      d.add(dims[i] < 0 ? ValueInfo.Dim.of("d" + name + i) : ValueInfo.Dim.of(dims[i]));
    }
    b.input(name, type, d);
    return this;
  }

  /** An initializer. */
  public TestGraphs init(Tensor t) {
    b.initializer(t);
    return this;
  }

  /** A node in the default domain. */
  public TestGraphs node(String op, List<String> in, List<String> out, Attribute... attrs) {
    return node("", op, in, out, attrs);
  }

  /** A node in any domain, named {@code /OP_INDEX} (its position in the graph). */
  public TestGraphs node(
      String domain, String op, List<String> in, List<String> out, Attribute... attrs) {
    b.nodeTo(domain, op, "/" + op + "_" + b.model().graph().nodes().size(), in, out, attrs);
    return this;
  }

  /** A graph output of unknown shape. */
  public TestGraphs output(String name, DataType type) {
    b.output(name, type);
    return this;
  }

  /** The model as built, unchecked. */
  public ModelGraph build() {
    return b.model();
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
