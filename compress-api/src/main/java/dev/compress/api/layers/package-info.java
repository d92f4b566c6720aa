/**
 * The linear-layer view of a model graph: every MatMul, Gemm and Conv with a constant weight
 * ({@link dev.compress.api.layers.LinearLayer}), found by {@link
 * dev.compress.api.layers.LinearLayers#of}, with the context compression passes need: storage
 * layout and {@code out x in} feature counts, bias, input producer, layers sharing an input
 * (q/k/v), and the normalization feeding the layer. {@link
 * dev.compress.api.layers.LinearLayers#compressed} lists the layers an earlier pass compressed,
 * with their {@link dev.compress.api.layers.LinearLayer.WeightForm}; {@link
 * dev.compress.api.layers.ChannelScaling} is the per-input-channel scaling SmoothQuant and AWQ
 * share.
 */
package dev.compress.api.layers;
