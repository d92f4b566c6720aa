package dev.compress.evaluation.report;

/**
 * One quality gate of a pipeline's {@code evaluate} block as the reports show it.
 *
 * @param metric the gated metric, e.g. {@code cosine.mean}
 * @param bound the bound as written, e.g. {@code >= 0.99}
 * @param value the measured value, or NaN when the metric was not measured
 * @param passed whether the value satisfies the bound
 */
public record GateResult(String metric, String bound, double value, boolean passed) {}
