package dev.compress.maven;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.codehaus.plexus.configuration.PlexusConfiguration;

/**
 * One element of a plugin's {@code <configuration>} as written in the POM: its name, its text and
 * its child elements in order. A plain copy of Maven's {@link PlexusConfiguration}, so the
 * conversion to a pipeline tree ({@link PomTree}) does not depend on Maven's classes.
 *
 * @param name the element name
 * @param value the trimmed text, or null when the element has none
 * @param children the child elements, in document order
 */
record PomElement(String name, String value, List<PomElement> children) {
  PomElement {
    Objects.requireNonNull(name, "name");
    children = List.copyOf(children);
    if (value != null) {
      value = value.strip();
    }
  }

  /** A leaf element. */
  static PomElement leaf(String name, String value) {
    return new PomElement(name, value, List.of());
  }

  /** An element with children. */
  static PomElement of(String name, PomElement... children) {
    return new PomElement(name, null, List.of(children));
  }

  /** Copies Maven's configuration element. */
  static PomElement from(PlexusConfiguration c) {
    List<PomElement> kids = new ArrayList<>();
    for (PlexusConfiguration k : c.getChildren()) {
      kids.add(from(k));
    }
    String v;
    try {
      v = c.getValue(null);
    } catch (RuntimeException e) {
      v = null;
    }
    return new PomElement(c.getName(), v, kids);
  }

  /** The first child named {@code n}, or null. */
  PomElement child(String n) {
    for (PomElement c : children) {
      if (c.name.equals(n)) {
        return c;
      }
    }
    return null;
  }
}
