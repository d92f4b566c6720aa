package dev.compress.runtime.kernels;

/**
 * Whether the JDK Vector API kernels can run: the incubator module {@code jdk.incubator.vector}
 * must be in the boot layer (the JVM started with {@code --add-modules jdk.incubator.vector}), the
 * CPU must have 256-bit vectors, and {@code compress.kernels.vector} must not be {@code false}.
 * Otherwise every kernel runs its scalar implementation. Vector API classes are only touched
 * through {@code VectorGemm}, which is loaded only after this check succeeds, so a JVM without the
 * module never sees a {@code NoClassDefFoundError}.
 */
public final class VectorSupport {
  /** System property: {@code false} forces the scalar kernels. */
  public static final String PROPERTY = "compress.kernels.vector";

  private static final String REASON;
  private static final boolean AVAILABLE;

  static {
    String reason = null;
    if ("false".equalsIgnoreCase(System.getProperty(PROPERTY, "true").trim())) {
      reason = "disabled by -D" + PROPERTY + "=false";
    } else if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
      reason =
          "module jdk.incubator.vector is not in the boot layer (start the JVM with"
              + " --add-modules jdk.incubator.vector)";
    } else {
      try {
        int bits = VectorGemm.vectorBits();
        if (bits < 256) {
          reason = "the CPU's preferred vector size is " + bits + " bits; the kernels need 256";
        }
      } catch (Throwable e) {
        reason = "the Vector API failed to initialise: " + e;
      }
    }
    REASON = reason;
    AVAILABLE = reason == null;
  }

  private VectorSupport() {}

  /** Whether the Vector API kernels run. */
  public static boolean available() {
    return AVAILABLE;
  }

  /** Why they do not run ({@code "available"} when they do). */
  public static String reason() {
    return AVAILABLE ? "available" : REASON;
  }
}
