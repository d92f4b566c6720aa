package dev.compress.evaluation.task;

import java.util.Objects;

/**
 * Which data a metric was computed on, as in the manifest: where it came from, how many samples,
 * and the SHA-256 of exactly the samples used, in the order used.
 *
 * @param source the data source as given ({@code builtin:NAME} or a path)
 * @param count samples used
 * @param sha256 lowercase hex SHA-256 of the samples used (the format is described by each task)
 */
public record DataIdentity(String source, int count, String sha256) {
  /** Validates the arguments. */
  public DataIdentity {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(sha256, "sha256");
    if (count <= 0) {
      throw new IllegalArgumentException("count must be > 0, found " + count);
    }
  }
}
