package dev.compress.all;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's Java example, exactly as printed: the {@code java} block of the section "The same
 * pipeline in Java" is compiled against this module's class path (compress-all and what it brings,
 * nothing else of the toolkit) and its {@code main} is run.
 */
class ReadmeExampleTest {
  private static final String SECTION = "## The same pipeline in Java";

  @Test
  void readmeExampleCompilesAndRuns(@TempDir Path tmp) throws Exception {
    String readme = Files.readString(Path.of(System.getProperty("readme", "../README.md")));
    int at = readme.indexOf(SECTION);
    assertThat(at).as("README section '%s'", SECTION).isNotNegative();
    Matcher m = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL).matcher(readme);
    assertThat(m.find(at)).as("a java block in '%s'", SECTION).isTrue();
    String source = m.group(1);
    Matcher name = Pattern.compile("public class (\\w+)").matcher(source);
    assertThat(name.find()).as("the example declares a public class").isTrue();

    Path src = tmp.resolve("src/" + name.group(1) + ".java");
    Path classes = tmp.resolve("classes");
    Files.createDirectories(src.getParent());
    Files.createDirectories(classes);
    Files.writeString(src, source);
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
    try (StandardJavaFileManager files = javac.getStandardFileManager(diagnostics, null, null)) {
      boolean ok =
          javac
              .getTask(
                  null,
                  files,
                  diagnostics,
                  List.of(
                      "-classpath",
                      System.getProperty("java.class.path"),
                      "-d",
                      classes.toString(),
                      "--release",
                      "21"),
                  null,
                  files.getJavaFileObjects(src))
              .call();
      assertThat(ok).as("the README example compiles: %s", diagnostics.getDiagnostics()).isTrue();
    }

    Path out = tmp.resolve("minilm-int8");
    PrintStream stdout = System.out;
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    try (URLClassLoader loader =
        new URLClassLoader(new URL[] {classes.toUri().toURL()}, getClass().getClassLoader())) {
      Method main = loader.loadClass(name.group(1)).getMethod("main", String[].class);
      System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
      try {
        main.invoke(null, (Object) new String[] {out.toString()});
      } finally {
        System.setOut(stdout);
      }
    }
    String text = printed.toString(StandardCharsets.UTF_8);
    stdout.print(text);
    assertThat(out.resolve("model.onnx")).isRegularFile();
    assertThat(out.resolve("manifest.json")).isRegularFile();
    Matcher cosine = Pattern.compile("cosine\\.mean (\\S+)").matcher(text);
    assertThat(cosine.find()).as("the example prints the cosine: %s", text).isTrue();
    assertThat(Double.parseDouble(cosine.group(1))).isGreaterThan(0.99); // 0.9994 on 300
  }

  /** The BOM pins the versions the build uses, so an application importing it gets those. */
  @Test
  void bomVersionsAgreeWithTheBuild() throws Exception {
    Path root = Path.of(System.getProperty("readme", "../README.md")).getParent();
    String parent = Files.readString(root.resolve("pom.xml"));
    String bom = Files.readString(root.resolve("bom/pom.xml"));
    for (String p : List.of("djl.version", "pytorch.version", "onnxruntime.version")) {
      assertThat(property(bom, p)).as(p).isEqualTo(property(parent, p));
    }
    assertThat(property(bom, "compress.version")).isEqualTo(version(parent));
    for (String module : modules(parent)) {
      if (!List.of("bom", "test-fixtures", "maven-plugin", "sample-configs", "benchmarks")
          .contains(module)) {
        String artifact =
            Files.readString(root.resolve(module).resolve("pom.xml"))
                .replaceAll("(?s)<parent>.*?</parent>", "")
                .replaceAll("(?s).*?<artifactId>([^<]+)</artifactId>.*", "$1");
        assertThat(bom).as("the BOM lists %s", artifact).contains(">" + artifact + "<");
      }
    }
  }

  private static String property(String pom, String name) {
    Matcher m = Pattern.compile("<" + Pattern.quote(name) + ">([^<]+)</").matcher(pom);
    assertThat(m.find()).as("%s in the pom", name).isTrue();
    return m.group(1);
  }

  private static String version(String pom) {
    Matcher m =
        Pattern.compile("<artifactId>compress-parent</artifactId>\\s*<version>([^<]+)<")
            .matcher(pom);
    assertThat(m.find()).isTrue();
    return m.group(1);
  }

  private static List<String> modules(String pom) {
    Matcher m = Pattern.compile("<module>([^<]+)</module>").matcher(pom);
    List<String> out = new java.util.ArrayList<>();
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }
}
