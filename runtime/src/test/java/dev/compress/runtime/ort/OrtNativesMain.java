package dev.compress.runtime.ort;

import ai.onnxruntime.OrtEnvironment;
import java.nio.file.Files;

/**
 * Loads ONNX Runtime in a JVM of its own and prints what it extracted; {@code plain} loads it the
 * way the toolkit did before {@link OrtNatives} (for comparison by hand).
 */
public final class OrtNativesMain {
  private OrtNativesMain() {}

  public static void main(String[] args) {
    if (args.length > 0 && args[0].equals("plain")) {
      System.out.println("version " + OrtEnvironment.getEnvironment().getVersion());
      return;
    }
    OrtEnvironment env = OrtNatives.environment();
    System.out.println("version " + env.getVersion());
    System.out.println(
        "folder "
            + OrtNatives.nativeFolder()
                .map(p -> p + " exists=" + Files.isDirectory(p))
                .orElse("-"));
  }
}
