/**
 * Sensitivity analysis: the fidelity lost when only one unit of a model (a linear layer, or a
 * transformer block) is pruned or quantized by one probe, for every unit and probe ({@link
 * dev.compress.evaluation.sensitivity.SensitivityAnalysis}); the matrix with its ranking, CSV and
 * JSON ({@link dev.compress.evaluation.sensitivity.SensitivityResult}), the HTML heat map ({@link
 * dev.compress.evaluation.sensitivity.SensitivityReport}) and a suggested per-layer plan written as
 * pipeline YAML ({@link dev.compress.evaluation.sensitivity.SensitivityPlan}). Probes are passes
 * found through the pass registry by type and restricted to one unit through their {@code targets}.
 */
package dev.compress.evaluation.sensitivity;
