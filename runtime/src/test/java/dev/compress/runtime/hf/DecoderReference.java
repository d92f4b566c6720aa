package dev.compress.runtime.hf;

import dev.compress.api.io.hf.HfArchitecture;
import dev.compress.api.io.hf.HfCheckpoint;
import dev.compress.api.io.hf.HfConfig;

/**
 * The Llama-family and GPT-2 forwards written out in plain Java, one sequence at a time, straight
 * from Transformers' modeling code (eager attention), in double precision over the checkpoint's
 * weights widened to f32. The oracle for the graphs {@code DecoderGraph} builds.
 */
final class DecoderReference {
  private final HfCheckpoint ck;
  private final HfConfig c;

  DecoderReference(HfCheckpoint ck) {
    this.ck = ck;
    this.c = ck.config();
  }

  /** Logits {@code [T][vocab]} of one sequence with its attention mask. */
  double[][] forward(long[] ids, long[] mask) {
    return c.architecture() == HfArchitecture.LLAMA ? llama(ids, mask) : gpt2(ids, mask);
  }

  private float[] w(String name) {
    return ck.tensor(name).toFloatArray();
  }

  // ---- Llama ----

  private double[][] llama(long[] ids, long[] mask) {
    int t = ids.length;
    int h = c.hiddenSize();
    int hd = c.headDim();
    double[][] x = embed(w("model.embed_tokens.weight"), ids, h);
    float[] inv = c.rope().inverseFrequencies(c.ropeTheta(), hd);
    for (int l = 0; l < c.layers(); l++) {
      String p = "model.layers." + l + ".";
      double[][] n = rms(x, w(p + "input_layernorm.weight"));
      double[][] q = linearOutIn(n, p + "self_attn.q_proj", c.qkvBias());
      double[][] k = linearOutIn(n, p + "self_attn.k_proj", c.qkvBias());
      double[][] v = linearOutIn(n, p + "self_attn.v_proj", c.qkvBias());
      rope(q, c.heads(), hd, inv);
      rope(k, c.kvHeads(), hd, inv);
      double[][] ctx = attention(q, k, v, c.heads(), c.groupSize(), hd, mask, c.slidingWindow());
      add(x, linearOutIn(ctx, p + "self_attn.o_proj", c.outputBias()));
      double[][] n2 = rms(x, w(p + "post_attention_layernorm.weight"));
      double[][] g = linearOutIn(n2, p + "mlp.gate_proj", c.mlpBias());
      double[][] u = linearOutIn(n2, p + "mlp.up_proj", c.mlpBias());
      for (int i = 0; i < t; i++) {
        for (int j = 0; j < g[i].length; j++) {
          g[i][j] = g[i][j] / (1 + Math.exp(-g[i][j])) * u[i][j];
        }
      }
      add(x, linearOutIn(g, p + "mlp.down_proj", c.mlpBias()));
    }
    double[][] n = rms(x, w("model.norm.weight"));
    String head = c.tieWordEmbeddings() ? "model.embed_tokens.weight" : "lm_head.weight";
    return matmulOutIn(n, w(head), c.vocabSize(), null);
  }

  private double[][] rms(double[][] x, float[] g) {
    double[][] out = new double[x.length][];
    for (int i = 0; i < x.length; i++) {
      double ms = 0;
      for (double v : x[i]) {
        ms += v * v;
      }
      double r = 1 / Math.sqrt(ms / x[i].length + c.normEps());
      out[i] = new double[x[i].length];
      for (int j = 0; j < x[i].length; j++) {
        out[i][j] = x[i][j] * r * g[j];
      }
    }
    return out;
  }

  /** Rotate-half rotary embedding at positions 0..T-1, per head, in place. */
  private static void rope(double[][] x, int heads, int hd, float[] inv) {
    int half = hd / 2;
    for (int t = 0; t < x.length; t++) {
      for (int hh = 0; hh < heads; hh++) {
        int o = hh * hd;
        for (int i = 0; i < half; i++) {
          float angle = t * inv[i]; // f32, as Transformers computes the table
          double cos = (float) Math.cos(angle);
          double sin = (float) Math.sin(angle);
          double a = x[t][o + i];
          double b = x[t][o + i + half];
          x[t][o + i] = a * cos - b * sin;
          x[t][o + i + half] = b * cos + a * sin;
        }
      }
    }
  }

  private double[][] linearOutIn(double[][] x, String module, boolean bias) {
    float[] wt = w(module + ".weight");
    int out = (int) ck.tensor(module + ".weight").dim(0);
    return matmulOutIn(x, wt, out, bias ? w(module + ".bias") : null);
  }

  /** x @ W^T + b with W stored [out, in]. */
  private static double[][] matmulOutIn(double[][] x, float[] wt, int out, float[] b) {
    int in = x[0].length;
    double[][] y = new double[x.length][out];
    for (int t = 0; t < x.length; t++) {
      for (int o = 0; o < out; o++) {
        double s = b == null ? 0 : b[o];
        for (int i = 0; i < in; i++) {
          s += x[t][i] * wt[o * in + i];
        }
        y[t][o] = s;
      }
    }
    return y;
  }

  // ---- GPT-2 ----

  private double[][] gpt2(long[] ids, long[] mask) {
    String pre = ck.tensors().containsKey("transformer.wte.weight") ? "transformer." : "";
    int t = ids.length;
    int h = c.hiddenSize();
    double[][] x = embed(w(pre + "wte.weight"), ids, h);
    float[] wpe = w(pre + "wpe.weight");
    for (int i = 0; i < t; i++) {
      for (int j = 0; j < h; j++) {
        x[i][j] += wpe[i * h + j];
      }
    }
    for (int l = 0; l < c.layers(); l++) {
      String p = pre + "h." + l + ".";
      double[][] n = layerNorm(x, p + "ln_1");
      double[][] qkv = conv1d(n, p + "attn.c_attn");
      double[][] q = new double[t][h];
      double[][] k = new double[t][h];
      double[][] v = new double[t][h];
      for (int i = 0; i < t; i++) {
        System.arraycopy(qkv[i], 0, q[i], 0, h);
        System.arraycopy(qkv[i], h, k[i], 0, h);
        System.arraycopy(qkv[i], 2 * h, v[i], 0, h);
      }
      double[][] ctx = attention(q, k, v, c.heads(), 1, c.headDim(), mask, 0);
      add(x, conv1d(ctx, p + "attn.c_proj"));
      double[][] f = conv1d(layerNorm(x, p + "ln_2"), p + "mlp.c_fc");
      for (double[] row : f) {
        for (int j = 0; j < row.length; j++) {
          double z = row[j];
          row[j] = 0.5 * z * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (z + 0.044715 * z * z * z)));
        }
      }
      add(x, conv1d(f, p + "mlp.c_proj"));
    }
    double[][] n = layerNorm(x, pre + "ln_f");
    String head = c.tieWordEmbeddings() ? pre + "wte.weight" : "lm_head.weight";
    return matmulOutIn(n, w(head), c.vocabSize(), null);
  }

  private double[][] layerNorm(double[][] x, String module) {
    float[] g = w(module + ".weight");
    float[] b = w(module + ".bias");
    double[][] out = new double[x.length][];
    for (int i = 0; i < x.length; i++) {
      double mean = 0;
      for (double v : x[i]) {
        mean += v;
      }
      mean /= x[i].length;
      double var = 0;
      for (double v : x[i]) {
        var += (v - mean) * (v - mean);
      }
      var /= x[i].length;
      double r = 1 / Math.sqrt(var + c.normEps());
      out[i] = new double[x[i].length];
      for (int j = 0; j < x[i].length; j++) {
        out[i][j] = (x[i][j] - mean) * r * g[j] + b[j];
      }
    }
    return out;
  }

  /** x @ W + b with W stored [in, out] (Conv1D). */
  private double[][] conv1d(double[][] x, String module) {
    float[] wt = w(module + ".weight");
    float[] b = w(module + ".bias");
    int in = x[0].length;
    int out = b.length;
    double[][] y = new double[x.length][out];
    for (int t = 0; t < x.length; t++) {
      for (int o = 0; o < out; o++) {
        double s = b[o];
        for (int i = 0; i < in; i++) {
          s += x[t][i] * wt[i * out + o];
        }
        y[t][o] = s;
      }
    }
    return y;
  }

  // ---- shared ----

  private static double[][] embed(float[] table, long[] ids, int h) {
    double[][] x = new double[ids.length][h];
    for (int i = 0; i < ids.length; i++) {
      for (int j = 0; j < h; j++) {
        x[i][j] = table[(int) ids[i] * h + j];
      }
    }
    return x;
  }

  private static void add(double[][] x, double[][] y) {
    for (int i = 0; i < x.length; i++) {
      for (int j = 0; j < x[i].length; j++) {
        x[i][j] += y[i][j];
      }
    }
  }

  /**
   * Causal scaled dot-product attention; query head {@code h} reads key/value head {@code h /
   * group}; key {@code u} is visible to query {@code t} when {@code u <= t}, {@code mask[u] = 1}
   * and (with a window) {@code t - u < window}. A query that sees no key averages all of them
   * uniformly (every score masked to the same lowest value).
   */
  private static double[][] attention(
      double[][] q,
      double[][] k,
      double[][] v,
      int heads,
      int group,
      int hd,
      long[] mask,
      int window) {
    int t = q.length;
    double[][] out = new double[t][heads * hd];
    double scale = 1 / Math.sqrt(hd);
    for (int hh = 0; hh < heads; hh++) {
      int qo = hh * hd;
      int ko = (hh / group) * hd;
      for (int i = 0; i < t; i++) {
        double[] s = new double[t];
        boolean any = false;
        double max = Double.NEGATIVE_INFINITY;
        for (int u = 0; u < t; u++) {
          boolean ok = u <= i && mask[u] != 0 && (window == 0 || i - u < window);
          if (ok) {
            double d = 0;
            for (int j = 0; j < hd; j++) {
              d += q[i][qo + j] * k[u][ko + j];
            }
            s[u] = d * scale;
            max = Math.max(max, s[u]);
            any = true;
          } else {
            s[u] = Double.NaN;
          }
        }
        double sum = 0;
        for (int u = 0; u < t; u++) {
          s[u] = !any ? 1 : Double.isNaN(s[u]) ? 0 : Math.exp(s[u] - max);
          sum += s[u];
        }
        for (int u = 0; u < t; u++) {
          double p = s[u] / sum;
          for (int j = 0; j < hd; j++) {
            out[i][qo + j] += p * v[u][ko + j];
          }
        }
      }
    }
    return out;
  }
}
