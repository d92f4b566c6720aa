package dev.compress.runtime.kernels;

import java.util.Arrays;

/** Started by a test in a JVM without {@code jdk.incubator.vector}: runs a product, prints it. */
public final class ScalarFallbackMain {
  private ScalarFallbackMain() {}

  public static void main(String[] args) {
    // W [K=2, N=1] = [1, 2] (int8, scale 1); x = [[1, 2], [3, 4]] -> y = [5, 11]
    Int8Linear l = Int8Linear.of(new byte[] {1, 2}, false, 2, 1, false, new float[] {1f}, null);
    float[] y = new float[2];
    l.multiply(new float[] {1, 2, 3, 4}, 2, y);
    System.out.println("available=" + VectorSupport.available() + " " + VectorSupport.reason());
    System.out.println("y=" + Arrays.toString(y));
  }
}
