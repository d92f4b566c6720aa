/**
 * The executor SPI: {@link dev.compress.api.exec.Executor} runs a model on api tensors and can
 * record the inputs of chosen nodes (calibration); {@link dev.compress.api.exec.ExecutorFactory}
 * builds executors of one engine and is found through {@link java.util.ServiceLoader}; {@link
 * dev.compress.api.exec.Device} says where they run. The engines live in the runtime module.
 */
package dev.compress.api.exec;
