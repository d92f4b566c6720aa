package dev.compress.api.surface;

import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.api.pipeline.PipelineSpec;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The api's public surface uses only JDK and own types: no Jackson (or any other library's) type
 * appears in a public or protected signature of a public type, so callers need no third-party type
 * to use the api and the libraries behind it can change.
 */
class PublicSurfaceTest {
  @Test
  void publicSignaturesUseOnlyJdkAndOwnTypes() throws Exception {
    List<Class<?>> types = apiClasses();
    assertThat(types).hasSizeGreaterThan(100); // the scan found the api's classes
    TreeSet<String> problems = new TreeSet<>();
    for (Class<?> c : types) {
      if (!exported(c)) {
        continue;
      }
      check(c.getGenericSuperclass(), c.getName() + " extends", problems);
      for (Type t : c.getGenericInterfaces()) {
        check(t, c.getName() + " implements", problems);
      }
      for (Field f : c.getDeclaredFields()) {
        if (visible(f.getModifiers()) && !f.isSynthetic()) {
          check(f.getGenericType(), c.getName() + "." + f.getName(), problems);
        }
      }
      for (Method m : c.getDeclaredMethods()) {
        if (visible(m.getModifiers()) && !m.isSynthetic() && !m.isBridge()) {
          check(m.getGenericReturnType(), c.getName() + "." + m.getName() + " returns", problems);
          params(m, c, problems);
        }
      }
      for (Constructor<?> k : c.getDeclaredConstructors()) {
        if (visible(k.getModifiers()) && !k.isSynthetic()) {
          params(k, c, problems);
        }
      }
    }
    assertThat(problems).as("public signatures with foreign types").isEmpty();
  }

  /** Every public type declared in the api's sources has a Javadoc comment. */
  @Test
  void everyPublicTypeHasJavadoc() throws IOException {
    Path src = Path.of("src/main/java");
    assertThat(src).isDirectory();
    java.util.regex.Pattern decl =
        java.util.regex.Pattern.compile(
            "^\\s*public\\s+(?:static\\s+|final\\s+|abstract\\s+|sealed\\s+|non-sealed\\s+)*"
                + "(?:class|interface|record|enum|@interface)\\s+(\\w+)");
    TreeSet<String> missing = new TreeSet<>();
    int types = 0;
    try (Stream<Path> files = Files.walk(src)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
        List<String> lines = Files.readAllLines(f);
        for (int i = 0; i < lines.size(); i++) {
          java.util.regex.Matcher m = decl.matcher(lines.get(i));
          if (!m.find()) {
            continue;
          }
          types++;
          int j = i - 1;
          while (j >= 0 && (lines.get(j).isBlank() || lines.get(j).trim().startsWith("@"))) {
            j--;
          }
          if (j < 0 || !lines.get(j).trim().endsWith("*/") || !javadocEndsAt(lines, j)) {
            missing.add(src.relativize(f) + ": " + m.group(1));
          }
        }
      }
    }
    assertThat(types).isGreaterThan(100);
    assertThat(missing).as("public types without Javadoc").isEmpty();
  }

  /** Whether the comment ending on line {@code end} opens with {@code /**}. */
  private static boolean javadocEndsAt(List<String> lines, int end) {
    for (int k = end; k >= 0; k--) {
      String t = lines.get(k).trim();
      if (t.startsWith("/**")) {
        return true;
      }
      if (t.startsWith("/*") || (k < end && t.endsWith("*/"))) {
        return false;
      }
    }
    return false;
  }

  /** A class a caller outside the api can name: public, and nested only in such classes. */
  private static boolean exported(Class<?> c) {
    for (Class<?> k = c; k != null; k = k.getDeclaringClass()) {
      if (!Modifier.isPublic(k.getModifiers())) {
        return false;
      }
    }
    return !c.isAnonymousClass() && !c.isLocalClass() && !c.isSynthetic();
  }

  private static boolean visible(int modifiers) {
    return Modifier.isPublic(modifiers) || Modifier.isProtected(modifiers);
  }

  private static void params(Executable e, Class<?> owner, TreeSet<String> problems) {
    for (Type t : e.getGenericParameterTypes()) {
      check(t, owner.getName() + "." + e.getName() + "(...)", problems);
    }
    for (Type t : e.getGenericExceptionTypes()) {
      check(t, owner.getName() + "." + e.getName() + " throws", problems);
    }
  }

  private static void check(Type t, String where, TreeSet<String> problems) {
    check(t, where, problems, new HashSet<>());
  }

  /** {@code seen}: type variables being checked, for recursive bounds ({@code B extends X<B>}). */
  private static void check(
      Type t, String where, TreeSet<String> problems, Set<TypeVariable<?>> seen) {
    if (t == null) {
      return;
    }
    if (t instanceof Class<?> c) {
      while (c.isArray()) {
        c = c.getComponentType();
      }
      if (c.isPrimitive()) {
        return;
      }
      String n = c.getName();
      if (!(n.startsWith("java.") || n.startsWith("dev.compress."))) {
        problems.add(where + ": " + n);
      }
    } else if (t instanceof ParameterizedType p) {
      check(p.getRawType(), where, problems, seen);
      for (Type a : p.getActualTypeArguments()) {
        check(a, where, problems, seen);
      }
    } else if (t instanceof GenericArrayType g) {
      check(g.getGenericComponentType(), where, problems, seen);
    } else if (t instanceof WildcardType w) {
      Stream.of(w.getUpperBounds()).forEach(b -> check(b, where, problems, seen));
      Stream.of(w.getLowerBounds()).forEach(b -> check(b, where, problems, seen));
    } else if (t instanceof TypeVariable<?> v && seen.add(v)) {
      for (Type b : v.getBounds()) {
        if (b != Object.class) {
          check(b, where, problems, seen);
        }
      }
    }
  }

  /** Every class compiled from the api's main sources. */
  private static List<Class<?>> apiClasses() throws IOException, URISyntaxException {
    Path root =
        Path.of(PipelineSpec.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    List<Class<?>> out = new ArrayList<>();
    try (Stream<Path> files = Files.walk(root)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".class")).toList()) {
        String rel = root.relativize(f).toString();
        if (rel.endsWith("package-info.class") || rel.endsWith("module-info.class")) {
          continue;
        }
        String name = rel.substring(0, rel.length() - ".class".length()).replace('/', '.');
        try {
          out.add(Class.forName(name, false, PublicSurfaceTest.class.getClassLoader()));
        } catch (ClassNotFoundException | LinkageError e) {
          throw new AssertionError("cannot load " + name, e);
        }
      }
    }
    return out;
  }
}
