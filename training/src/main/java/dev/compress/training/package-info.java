/**
 * Training through a model graph, engine-free: the {@link dev.compress.training.TrainableModel} SPI
 * (an engine runs the graph with chosen initializers as parameters and returns NDArrays a loss can
 * be built on), its {@link dev.compress.training.TrainableFactory} found through {@link
 * java.util.ServiceLoader}, and conversions between api tensors and NDArrays. The loop, optimizers,
 * schedules, clipping and checkpoints are in {@code training.loop}; losses in {@code
 * training.loss}; batch sources in {@code training.data}; straight-through fake quantization in
 * {@code training.quant}.
 */
package dev.compress.training;
