/**
 * Calibration data for the pipeline's {@code calibration} block: {@link
 * dev.compress.runtime.calibration.TextCalibrationLoader} ({@code kind: text}, tokenized with the
 * model's tokenizer) and {@link dev.compress.runtime.calibration.TensorFileCalibrationLoader}
 * ({@code kind: tensors}, a safetensors file of ready model inputs) and {@link
 * dev.compress.runtime.calibration.ImageCalibrationLoader} ({@code kind: images}, IDX/JSON/CSV
 * images, with class labels when {@code labels} names a file), all registered as {@link
 * dev.compress.api.calibration.CalibrationLoader} services; the text sets that ship with the
 * toolkit ({@link dev.compress.runtime.calibration.BuiltinTextData}); and the seeded, documented
 * sample selection ({@link dev.compress.runtime.calibration.SampleSelection}) that makes a
 * calibration set reproducible from its identity.
 */
package dev.compress.runtime.calibration;
