package dev.compress.maven;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class LibraryLogsTest {
  static final String DJL = "org.slf4j.simpleLogger.log.ai.djl";
  static final String CUDA = "org.slf4j.simpleLogger.log.ai.djl.util.cuda";

  @AfterEach
  void clear() {
    System.clearProperty(DJL);
    System.clearProperty(CUDA);
  }

  @Test
  void djlIsWarningsOnlyAndItsCudaProbeErrorsOnly() {
    clear();
    LibraryLogs.quiet();
    assertThat(System.getProperty(DJL)).isEqualTo("warn");
    assertThat(System.getProperty(CUDA)).isEqualTo("error");
  }

  @Test
  void aLevelTheUserSetIsKept() {
    System.setProperty(DJL, "debug");
    LibraryLogs.quiet();
    assertThat(System.getProperty(DJL)).isEqualTo("debug");
    assertThat(System.getProperty(CUDA)).isEqualTo("error");
  }
}
