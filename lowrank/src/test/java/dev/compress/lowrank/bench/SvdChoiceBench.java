package dev.compress.lowrank.bench;

import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.BuiltinModels;
import dev.compress.api.io.onnx.OnnxReader;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.layers.LinearLayers;
import dev.compress.api.tensor.Tensor;
import dev.compress.linalg.Linalg;
import dev.compress.linalg.Matrix;
import dev.compress.linalg.Svd;
import dev.compress.linalg.SvdMethod;
import java.util.List;

/**
 * Exact against randomized truncated SVD on all-MiniLM-L6-v2's real weights of the two shapes the
 * factorization passes meet (384 x 384 attention projections, 1536 x 384 and 384 x 1536 FFN), at
 * the ranks of 20% and 40% of the parameters removed: median time of each, the largest relative
 * underestimate of the top-k singular values by the randomized method, and its truncation error
 * {@code ||W - W_k||_F} over the optimal one. A benchmark: it never asserts.
 *
 * <p>Measured 2026-12-03 on 2 heavily shared cores (load ~15, so absolute times are inflated):
 * query 384 x 384 at k 153 / 115: exact 2.6 / 1.7 s, randomized 14 / 4.6 s, randomized sigma up to
 * 6.1% / 5.9% low, truncation error 1.021x optimal; intermediate 1536 x 384 at k 245 / 184: exact
 * 9.4 / 13.7 s, randomized 20 / 15 s, sigma up to 7.5% / 7.8% low, error 1.046x / 1.037x. The
 * spectra of real weights are flat and these ranks are 30-64% of {@code min(m, n)}, so the
 * randomized method buys nothing here: the passes use the exact SVD for these shapes (what {@link
 * Linalg#truncatedSvd(Matrix, int, long)}'s AUTO already picks, since {@code min(m, n) <= 512}).
 *
 * <p>Run as {@link LowRankMiniLmBench} with the main class {@code
 * dev.compress.lowrank.bench.SvdChoiceBench}.
 */
public final class SvdChoiceBench {
  private SvdChoiceBench() {}

  public static void main(String[] args) throws Exception {
    ModelGraph m = OnnxReader.read(BuiltinModels.resolve("builtin:all-minilm-l6-v2"));
    List<LinearLayer> layers = LinearLayers.of(m.graph());
    System.out.println(
        "| layer | m x n | k | exact ms | randomized ms | max sigma underestimate | trunc err"
            + " ratio |");
    System.out.println("|---|---|---|---|---|---|---|");
    for (String name :
        List.of(
            "/encoder/layer.0/attention/self/query/MatMul",
            "/encoder/layer.0/intermediate/dense/MatMul",
            "/encoder/layer.0/output/dense/MatMul")) {
      LinearLayer l = LinearLayers.find(layers, name).orElseThrow();
      Tensor t = m.graph().constant(l.weight()).orElseThrow();
      Matrix w = Matrix.fromFloats((int) t.dim(0), (int) t.dim(1), t.toFloatArray()).transpose();
      int mm = w.rows();
      int nn = w.cols();
      for (double removed : new double[] {0.2, 0.4}) {
        int k = (int) Math.floor((double) mm * nn * (1 - removed) / (mm + nn));
        double[] te = new double[5];
        double[] tr = new double[5];
        Svd exact = null;
        Svd rand = null;
        for (int it = 0; it < 5; it++) {
          long s = System.nanoTime();
          exact = Linalg.truncatedSvd(w, k, SvdMethod.EXACT, 0);
          te[it] = (System.nanoTime() - s) / 1e6;
          s = System.nanoTime();
          rand = Linalg.truncatedSvd(w, k, SvdMethod.RANDOMIZED, 0);
          tr[it] = (System.nanoTime() - s) / 1e6;
        }
        java.util.Arrays.sort(te);
        java.util.Arrays.sort(tr);
        double[] se = exact.s();
        double[] sr = rand.s();
        double under = 0;
        for (int i = 0; i < k; i++) {
          under = Math.max(under, (se[i] - sr[i]) / se[i]);
        }
        double fw = frob(w);
        double errExact = Math.sqrt(Math.max(0, fw * fw - sumSq(se)));
        double errRand = frob(minus(w, rand.reconstruct()));
        System.out.printf(
            "| %s | %dx%d | %d | %.0f | %.0f | %.2f%% | %.4f |%n",
            name.replace("/encoder/layer.0/", "").replace("/MatMul", ""),
            mm,
            nn,
            k,
            te[2],
            tr[2],
            100 * under,
            errRand / errExact);
      }
    }
  }

  static double sumSq(double[] s) {
    double t = 0;
    for (double v : s) {
      t += v * v;
    }
    return t;
  }

  static double frob(Matrix a) {
    return Math.sqrt(sumSq(a.toArray()));
  }

  static Matrix minus(Matrix a, Matrix b) {
    double[] d = a.toArray();
    double[] e = b.toArray();
    for (int i = 0; i < d.length; i++) {
      d[i] -= e[i];
    }
    return Matrix.wrap(a.rows(), a.cols(), d);
  }
}
