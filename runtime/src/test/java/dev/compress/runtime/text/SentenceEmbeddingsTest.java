package dev.compress.runtime.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.compress.api.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Mean pooling over the attention mask and L2 normalization, by hand. */
class SentenceEmbeddingsTest {

  @Test
  void meanPoolsRealTokensOnlyThenNormalizes() {
    // batch 2, seq 3, width 2; the second sentence has one padding token.
    Tensor hidden =
        Tensor.ofFloats("h", new long[] {2, 3, 2}, 1, 2, 3, 4, 5, 6, 3, 0, 5, 0, 100, 100);
    Tensor mask = Tensor.ofLongs("m", new long[] {2, 3}, 1, 1, 1, 1, 1, 0);
    float[][] pooled = SentenceEmbeddings.meanPool(hidden, mask);
    assertThat(pooled[0]).containsExactly(3, 4);
    assertThat(pooled[1]).containsExactly(4, 0);
    float[][] e = SentenceEmbeddings.embed(hidden, mask);
    assertThat(e[0][0]).isCloseTo(0.6f, within(1e-7f));
    assertThat(e[0][1]).isCloseTo(0.8f, within(1e-7f));
    assertThat(e[1]).containsExactly(1, 0);
    assertThat(SentenceEmbeddings.cosine(e[0], e[1])).isCloseTo(0.6, within(1e-7));
    Tensor t = SentenceEmbeddings.toTensor("emb", e);
    assertThat(t.shape()).containsExactly(2, 2);
  }

  @Test
  void fullyMaskedRowsStayZeroAndShapesAreChecked() {
    Tensor hidden = Tensor.ofFloats("h", new long[] {1, 2, 1}, 5, 7);
    float[][] e = SentenceEmbeddings.embed(hidden, Tensor.ofLongs("m", new long[] {1, 2}, 0, 0));
    assertThat(e[0]).containsExactly(0);
    assertThatThrownBy(
            () ->
                SentenceEmbeddings.meanPool(
                    hidden, Tensor.ofLongs("m", new long[] {1, 3}, 1, 1, 1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("does not match");
  }

  @Test
  void batchSelectsTheInputsAModelWants() {
    Tensor ids = Tensor.ofLongs("input_ids", new long[] {1, 2}, 101, 102);
    Tensor mask = Tensor.ofLongs("attention_mask", new long[] {1, 2}, 1, 1);
    Tensor types = Tensor.ofLongs("token_type_ids", new long[] {1, 2}, 0, 0);
    EncodedBatch b = new EncodedBatch(ids, mask, types);
    assertThat(b.inputsFor(List.of("input_ids", "attention_mask")))
        .containsOnlyKeys("input_ids", "attention_mask");
    assertThatThrownBy(() -> b.inputsFor(List.of("pixel_values")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("pixel_values");
  }
}
