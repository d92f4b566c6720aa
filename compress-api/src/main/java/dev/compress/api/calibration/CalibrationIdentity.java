package dev.compress.api.calibration;

/**
 * The identity of a calibration set, as recorded in the manifest: enough to know two runs saw the
 * same samples.
 *
 * @param source where the samples came from (a file path, {@code builtin:NAME}, ...)
 * @param kind text, images or tensors
 * @param samples number of samples used
 * @param sequenceLength tokens per sample for text (0 otherwise)
 * @param seed the shuffle seed
 * @param shuffle whether samples were shuffled before taking {@code samples}
 * @param sha256 SHA-256 over the samples actually used, in order
 */
public record CalibrationIdentity(
    String source,
    String kind,
    int samples,
    int sequenceLength,
    long seed,
    boolean shuffle,
    String sha256) {}
