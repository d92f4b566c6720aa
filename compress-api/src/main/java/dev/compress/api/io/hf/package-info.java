/**
 * Hugging Face checkpoint folders of decoder language models: {@link
 * dev.compress.api.io.hf.HfFolderReader} checks {@code config.json}, the shard index and every
 * safetensors header before mapping the weights; {@link dev.compress.api.io.hf.DecoderGraph} builds
 * the ONNX-semantics graph of a Llama-family (Llama, Mistral, Qwen2) or GPT-2 checkpoint whose
 * linear layers carry the Transformers module names; {@link dev.compress.api.io.hf.HfFolderWriter}
 * writes an unquantized folder back; {@link dev.compress.api.io.hf.SyntheticCheckpoint} writes
 * seeded random folders for tests and benchmarks.
 */
package dev.compress.api.io.hf;
