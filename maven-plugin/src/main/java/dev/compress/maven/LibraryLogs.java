package dev.compress.maven;

import java.util.Map;

/**
 * Keeps the libraries' chatter out of the build log, as the CLI does with its {@code
 * simplelogger.properties}: inside Maven, DJL logs through Maven's own slf4j provider (slf4j-simple
 * underneath), whose per-logger levels are read from system properties when a logger is created. So
 * before any DJL class loads, DJL is set to warnings only and its CUDA probe (which warns "Failed
 * to detect GPU count" on every machine without a driver) to errors only. A level the user set
 * ({@code mvn -Dorg.slf4j.simpleLogger.log.ai.djl=debug ...}) is kept.
 */
final class LibraryLogs {
  /** Logger name prefix to level, the same as the CLI's defaults. */
  static final Map<String, String> LEVELS =
      Map.of(
          "org.slf4j.simpleLogger.log.ai.djl", "warn",
          "org.slf4j.simpleLogger.log.ai.djl.util.cuda", "error");

  private LibraryLogs() {}

  /** Sets each level that is not set yet. */
  static void quiet() {
    LEVELS.forEach(
        (key, level) -> {
          if (System.getProperty(key) == null) {
            System.setProperty(key, level);
          }
        });
  }
}
