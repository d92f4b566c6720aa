/**
 * The safetensors checkpoint format (the Hugging Face standard): {@link
 * dev.compress.api.io.safetensors.SafetensorsReader} validates the whole header and then
 * memory-maps the tensors, {@link dev.compress.api.io.safetensors.SafetensorsWriter} streams
 * tensors to a new file, and {@link dev.compress.api.io.safetensors.SafetensorsFile} is what a read
 * returns.
 *
 * <p>Layout: an 8-byte little-endian unsigned header length {@code N}, {@code N} bytes of UTF-8
 * JSON mapping each tensor name to {@code {"dtype", "shape", "data_offsets": [begin, end]}} (plus
 * an optional {@code "__metadata__"} object of strings), then the data section, where each tensor
 * is stored little-endian and row-major at {@code [begin, end)} relative to the section's start.
 */
package dev.compress.api.io.safetensors;
