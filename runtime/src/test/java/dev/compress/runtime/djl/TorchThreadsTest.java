package dev.compress.runtime.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.tensor.Tensor;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** PyTorch's intra-op threads during forwards that run quantized layers on the kernels. */
class TorchThreadsTest {
  private int before;

  @BeforeEach
  void threeThreads() {
    Engine.getEngine("PyTorch");
    before = JniUtils.getNumThreads();
    JniUtils.setNumThreads(3); // any value other than the limit, whatever the machine's cores
  }

  @AfterEach
  void restore() {
    System.clearProperty(TorchThreads.PROPERTY);
    JniUtils.setNumThreads(before);
  }

  @Test
  void limitStartsAtTheFirstKernelAndEndsWithTheScope() {
    try (TorchThreads.Scope s = TorchThreads.scope(1)) {
      assertThat(JniUtils.getNumThreads()).as("before any kernel").isEqualTo(3);
      TorchThreads.beforeKernel();
      assertThat(JniUtils.getNumThreads()).isEqualTo(1);
      TorchThreads.beforeKernel();
      assertThat(JniUtils.getNumThreads()).isEqualTo(1);
    }
    assertThat(JniUtils.getNumThreads()).isEqualTo(3);
    TorchThreads.beforeKernel(); // outside any forward: nothing to arm
    assertThat(JniUtils.getNumThreads()).isEqualTo(3);
  }

  @Test
  void zeroLeavesPyTorchAlone() {
    try (TorchThreads.Scope s = TorchThreads.scope(0)) {
      TorchThreads.beforeKernel();
      assertThat(JniUtils.getNumThreads()).isEqualTo(3);
    }
    assertThat(JniUtils.getNumThreads()).isEqualTo(3);
  }

  @Test
  void theLimitHoldsForTheForwardsThreadOnly() throws Exception {
    ExecutorService other = Executors.newSingleThreadExecutor();
    try {
      // a thread that already ran a parallel PyTorch operator (it then keeps its own setting)
      other
          .submit(
              () -> {
                try (NDManager m = NDManager.newBaseManager("PyTorch")) {
                  NDArray a = m.ones(new Shape(256, 256));
                  return a.matMul(a).getFloat(0, 0);
                }
              })
          .get();
      try (TorchThreads.Scope s = TorchThreads.scope(1)) {
        TorchThreads.beforeKernel();
        assertThat(JniUtils.getNumThreads()).isEqualTo(1);
        assertThat(other.submit(JniUtils::getNumThreads).get()).isEqualTo(3);
        Future<Integer> elsewhere =
            other.submit(
                () -> {
                  try (TorchThreads.Scope t = TorchThreads.scope(1)) {
                    TorchThreads.beforeKernel();
                    return JniUtils.getNumThreads();
                  }
                });
        assertThat(elsewhere.get()).isEqualTo(1);
        assertThat(other.submit(JniUtils::getNumThreads).get()).isEqualTo(3);
        assertThat(JniUtils.getNumThreads()).isEqualTo(1);
      }
      assertThat(JniUtils.getNumThreads()).isEqualTo(3);
    } finally {
      other.shutdownNow();
    }
  }

  @Test
  void nestedScopesOnOneThread() {
    try (TorchThreads.Scope outer = TorchThreads.scope(1)) {
      try (TorchThreads.Scope inner = TorchThreads.scope(0)) {
        TorchThreads.beforeKernel(); // the inner forward asked for no limit
        assertThat(JniUtils.getNumThreads()).isEqualTo(3);
      }
      TorchThreads.beforeKernel();
      assertThat(JniUtils.getNumThreads()).isEqualTo(1);
      outer.close();
      outer.close(); // idempotent
      assertThat(JniUtils.getNumThreads()).isEqualTo(3);
    }
  }

  @Test
  void executorForwardsRestorePyTorchsThreads() throws Exception {
    System.setProperty(TorchThreads.PROPERTY, "1"); // read when the executor is built
    ModelGraph q = QuantOpsTest.matMulNBits(64, 16, 32, false, false);
    Map<String, Tensor> in =
        Map.of("x", Tensor.ofFloats("x", new long[] {2, 64}, new float[2 * 64]));
    try (DjlExecutor kernels = DjlExecutor.create(q);
        DjlExecutor ops = DjlExecutor.builder().setModel(q).optQuantizedKernels(false).build()) {
      assertThat(kernels.forward(in)).isNotEmpty();
      assertThat(JniUtils.getNumThreads()).isEqualTo(3);
      assertThat(ops.forward(in)).isNotEmpty();
      assertThat(JniUtils.getNumThreads()).isEqualTo(3);
    }
  }

  @Test
  void badPropertyNamesIt() {
    System.setProperty(TorchThreads.PROPERTY, "two");
    assertThatThrownBy(TorchThreads::configured)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "system property compress.djl.torchThreadsWithKernels must be an integer >= 0,"
                + " found 'two'");
    System.setProperty(TorchThreads.PROPERTY, "-1");
    assertThatThrownBy(TorchThreads::configured).hasMessageContaining("found '-1'");
    System.setProperty(TorchThreads.PROPERTY, " 2 ");
    assertThat(TorchThreads.configured()).isEqualTo(2);
    System.clearProperty(TorchThreads.PROPERTY);
    assertThat(TorchThreads.configured()).as("off by default").isEqualTo(0);
  }
}
