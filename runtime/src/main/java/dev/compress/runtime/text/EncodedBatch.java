package dev.compress.runtime.text;

import dev.compress.api.tensor.Tensor;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A tokenized batch: three int64 tensors of shape {@code (batch, sequence)}, padded on the right.
 *
 * @param inputIds token ids, named {@code input_ids}
 * @param attentionMask 1 for real tokens, 0 for padding, named {@code attention_mask}
 * @param tokenTypeIds segment ids (all 0 for single sentences), named {@code token_type_ids}
 */
public record EncodedBatch(Tensor inputIds, Tensor attentionMask, Tensor tokenTypeIds) {

  /** Number of sentences. */
  public int batchSize() {
    return (int) inputIds.dim(0);
  }

  /** Tokens per sentence after padding. */
  public int sequenceLength() {
    return (int) inputIds.dim(1);
  }

  /** All three tensors by their names. */
  public Map<String, Tensor> asMap() {
    Map<String, Tensor> m = new LinkedHashMap<>();
    m.put(inputIds.name(), inputIds);
    m.put(attentionMask.name(), attentionMask);
    m.put(tokenTypeIds.name(), tokenTypeIds);
    return m;
  }

  /**
   * The tensors a model asks for, e.g. {@code executor.inputNames()}; some exports take no {@code
   * token_type_ids}.
   *
   * @throws IllegalArgumentException when a wanted name is none of the three
   */
  public Map<String, Tensor> inputsFor(Collection<String> wanted) {
    Map<String, Tensor> all = asMap();
    Map<String, Tensor> m = new LinkedHashMap<>();
    for (String name : wanted) {
      Tensor t = all.get(name);
      if (t == null) {
        throw new IllegalArgumentException(
            "the model wants input '" + name + "'; a tokenizer provides " + all.keySet());
      }
      m.put(name, t);
    }
    return m;
  }
}
