/**
 * Feeding text models: {@link dev.compress.runtime.text.SentenceTokenizer} turns sentences into the
 * int64 {@code input_ids} / {@code attention_mask} / {@code token_type_ids} tensors of a BERT-style
 * encoder from a local {@code tokenizer.json}, and {@link
 * dev.compress.runtime.text.SentenceEmbeddings} turns the encoder's hidden states into sentence
 * embeddings (mean over the attention mask, then L2 normalization, as sentence-transformers does).
 */
package dev.compress.runtime.text;
