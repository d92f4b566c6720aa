package dev.compress.api;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * The version of this toolkit and of the engines it was built against, as recorded in manifests and
 * compared by the Maven plugin's up-to-date check.
 *
 * <p>The values come from {@code dev/compress/api/build.properties}, which the build fills in: the
 * project version, the abbreviated git commit of the source tree (with {@code .dirty} when it had
 * uncommitted changes), and the DJL, PyTorch and ONNX Runtime versions pinned in the parent POM. A
 * snapshot version alone would not change between two builds of different sources, so the commit is
 * part of {@link #version()}: {@code 0.1.0-SNAPSHOT+3f2a91c0de}. A tree built without git reports
 * the bare project version.
 */
public final class ToolVersion {
  private static final String RESOURCE = "build.properties";
  private static final Properties PROPS = load();

  private ToolVersion() {}

  /** The tool version, e.g. {@code 0.1.0-SNAPSHOT+3f2a91c0de}; never null. */
  public static String version() {
    String v = value("version", "unknown");
    String commit = value("commit", "");
    if (commit.isEmpty()) {
      return v;
    }
    return v + "+" + commit + ("true".equals(value("dirty", "")) ? ".dirty" : "");
  }

  /**
   * The engine versions the toolkit was built against, by name: {@code djl}, {@code pytorch},
   * {@code onnxruntime}.
   */
  public static Map<String, String> engines() {
    Map<String, String> m = new LinkedHashMap<>();
    for (String k : new String[] {"djl", "pytorch", "onnxruntime"}) {
      m.put(k, value(k, "unknown"));
    }
    return m;
  }

  private static String value(String key, String fallback) {
    String v = PROPS.getProperty(key, "").trim();
    // An unfiltered placeholder (the properties read from the source tree) counts as absent.
    return v.isEmpty() || v.startsWith("${") ? fallback : v;
  }

  private static Properties load() {
    Properties p = new Properties();
    try (InputStream in = ToolVersion.class.getResourceAsStream(RESOURCE)) {
      if (in != null) {
        p.load(in);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + RESOURCE + " of compress-api", e);
    }
    return p;
  }
}
