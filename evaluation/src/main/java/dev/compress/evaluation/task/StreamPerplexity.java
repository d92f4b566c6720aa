package dev.compress.evaluation.task;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.UnsupportedModelException;
import dev.compress.api.exec.Executor;
import dev.compress.api.tensor.Tensor;
import dev.compress.runtime.calibration.TextSamples;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Perplexity of a causal language model by the protocol of the GPTQ (Frantar et al. 2022) and Wanda
 * (Sun et al. 2023) references on WikiText-2: the held-out text joined into one stream, tokenized
 * once with the model's {@code tokenizer.json} (no special tokens), cut into non-overlapping
 * windows of the model length, each window run alone (batch 1) from a fresh context; perplexity =
 * exp(mean negative log-likelihood of every token predicted inside a window).
 *
 * <p>As in the references, the tail shorter than a window is dropped, except when the whole stream
 * is shorter than one window: then it is one window of its own length. Windows are taken from the
 * start; {@code samples} caps their number. Lines of the data are joined with {@code '\n'} (the
 * data is read as {@link TextSamples} reads it: stripped, blank lines skipped).
 *
 * <p>Metrics per variant: {@code perplexity}, {@code nll.mean}, and against the baseline (variant
 * 0) {@code logits.kl} (mean KL(baseline || variant), nats) and {@code top1.agreement} over the
 * predicted positions. Data identity: {@code text} (SHA-256 of the lines used, as {@code sha256sum}
 * of a file holding them) and {@code tokens} (SHA-256 of the evaluated token ids as little-endian
 * int64, count = tokens).
 */
public final class StreamPerplexity {
  /** The window when the model does not say its length. */
  public static final int DEFAULT_WINDOW = 512;

  private StreamPerplexity() {}

  /**
   * Tokenizes {@code spec.data()} with {@code tokenizer} as one stream and runs {@link #onStream}.
   *
   * @param window tokens per window (the model length), > 1
   */
  public static TaskOutcome run(TaskSpec spec, List<Executor> variants, Path tokenizer, int window)
      throws CompressionException {
    List<String> lines = TextSamples.read(spec.data(), "data");
    String text = String.join("\n", lines);
    long[] stream = tokenize(tokenizer, text);
    DataIdentity textId = new DataIdentity(spec.data(), lines.size(), TextSamples.sha256(lines));
    return onStream(spec, variants, stream, window, textId);
  }

  /** The token ids of {@code text}, without special tokens or truncation. */
  public static long[] tokenize(Path tokenizer, String text) throws CompressionException {
    if (!Files.isRegularFile(tokenizer)) {
      throw new ConfigException("task perplexity: tokenizer file " + tokenizer + " does not exist");
    }
    try (HuggingFaceTokenizer t =
        HuggingFaceTokenizer.builder()
            .optTokenizerPath(tokenizer)
            .optAddSpecialTokens(false)
            .optTruncation(false)
            .optPadding(false)
            .build()) {
      return t.encode(text).getIds();
    } catch (IOException | RuntimeException e) {
      throw new CompressionException(
          "task perplexity: cannot use tokenizer " + tokenizer + ": " + e.getMessage(), e);
    }
  }

  /**
   * Perplexity of every variant on {@code stream}.
   *
   * @param text the identity of the text the stream came from
   */
  public static TaskOutcome onStream(
      TaskSpec spec, List<Executor> variants, long[] stream, int window, DataIdentity text)
      throws CompressionException {
    if (window < 2) {
      throw new ConfigException("task perplexity: window must be >= 2 tokens, found " + window);
    }
    if (stream.length < 2) {
      throw new ConfigException(
          "data: " + spec.data() + " gives " + stream.length + " token(s); perplexity needs 2");
    }
    int n = Math.min(window, stream.length);
    int windows = Math.min(spec.samples(), stream.length / n);
    Executor base = variants.get(0);
    for (String name : base.inputNames()) {
      if (!List.of("input_ids", "attention_mask").contains(name)) {
        throw new UnsupportedModelException(
            "task perplexity feeds input_ids (and attention_mask); the model also wants '"
                + name
                + "'");
      }
    }
    int nv = variants.size();
    double[] nll = new double[nv];
    double[] kl = new double[nv];
    long[] agree = new long[nv];
    long predicted = 0;
    MessageDigest md = sha256();
    for (int w = 0; w < windows; w++) {
      long[] ids = Arrays.copyOfRange(stream, w * n, (w + 1) * n);
      ByteBuffer b = ByteBuffer.allocate(8 * n).order(ByteOrder.LITTLE_ENDIAN);
      for (long id : ids) {
        b.putLong(id);
      }
      md.update(b.flip());
      Map<String, Tensor> in = new LinkedHashMap<>();
      for (String name : base.inputNames()) {
        long[] vals = name.equals("input_ids") ? ids : ones(n);
        in.put(name, Tensor.ofLongs(name, new long[] {1, n}, vals));
      }
      float[] ref = null;
      int vocab = -1;
      for (int v = 0; v < nv; v++) {
        Tensor out = logits(variants.get(v).forward(in));
        if (out.rank() != 3 || out.dim(0) != 1 || out.dim(1) != n) {
          throw new UnsupportedModelException(
              "perplexity needs logits (1, " + n + ", vocab); found " + out.shapeString());
        }
        int vv = (int) out.dim(2);
        float[] logits = out.toFloatArray();
        if (v == 0) {
          ref = logits;
          vocab = vv;
        } else if (vv != vocab) {
          throw new UnsupportedModelException(
              "variant " + v + " has vocabulary " + vv + ", the baseline " + vocab);
        }
        for (int p = 0; p < n - 1; p++) {
          long target = ids[p + 1];
          if (target < 0 || target >= vv) {
            throw new ConfigException(
                "data: token id " + target + " is outside the vocabulary of " + vv);
          }
          double[] lp = LogitMetrics.logSoftmax(logits, p * vv, vv);
          nll[v] -= lp[(int) target];
          if (v > 0) {
            kl[v] += LogitMetrics.kl(LogitMetrics.logSoftmax(ref, p * vv, vv), lp);
          }
          if (LogitMetrics.argmax(logits, p * vv, vv) == LogitMetrics.argmax(ref, p * vv, vv)) {
            agree[v]++;
          }
        }
      }
      predicted += n - 1;
    }
    List<Map<String, Double>> per = new ArrayList<>();
    for (int v = 0; v < nv; v++) {
      Map<String, Double> m = new LinkedHashMap<>();
      m.put("perplexity", Math.exp(nll[v] / predicted));
      m.put("nll.mean", nll[v] / predicted);
      m.put("logits.kl", kl[v] / predicted);
      m.put("top1.agreement", (double) agree[v] / predicted);
      per.add(m);
    }
    Map<String, DataIdentity> data = new LinkedHashMap<>();
    data.put("text", text);
    data.put(
        "tokens",
        new DataIdentity(spec.data(), windows * n, HexFormat.of().formatHex(md.digest())));
    Map<String, String> settings = new LinkedHashMap<>();
    settings.put("protocol", "one token stream, non-overlapping windows (GPTQ/Wanda)");
    settings.put("window", Integer.toString(n));
    settings.put("windows", Integer.toString(windows));
    settings.put("stream.tokens", Integer.toString(stream.length));
    return new TaskOutcome(
        spec.kind(),
        per,
        data,
        List.of(
            "perplexity over "
                + predicted
                + " predicted tokens in "
                + windows
                + " windows of "
                + n
                + " tokens (of a "
                + stream.length
                + "-token stream), batch 1"),
        settings);
  }

  private static long[] ones(int n) {
    long[] v = new long[n];
    Arrays.fill(v, 1);
    return v;
  }

  private static Tensor logits(Map<String, Tensor> outputs) throws UnsupportedModelException {
    Tensor t = outputs.get("logits");
    if (t != null) {
      return t;
    }
    for (Tensor o : outputs.values()) {
      if (o.rank() == 3 && o.dtype().isFloatingPoint()) {
        return o;
      }
    }
    throw new UnsupportedModelException(
        "perplexity needs a 'logits' (batch, seq, vocab) output; outputs: " + outputs.keySet());
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
