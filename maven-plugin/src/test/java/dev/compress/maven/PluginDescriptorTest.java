package dev.compress.maven;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * The generated plugin descriptors read whole in {@code mvn help:describe -Ddetail}: the help
 * plugin reads each description as HTML, so text such as {@code <kind>} (an element name written
 * the POM way) is dropped as an unknown tag and leaves holes such as "calibration (, , , )".
 */
class PluginDescriptorTest {
  /** What a reader of HTML takes for a tag: {@code <} followed by a letter, /, ! or ?. */
  private static final Pattern TAG = Pattern.compile("<[A-Za-z/!?][^>]*>?");

  /** What is left where words went missing: "(, ", ", ,", "( )", ", )", " / " between nothing. */
  private static final Pattern HOLE =
      Pattern.compile("\\(\\s*[,/)]|,\\s*[,)]|\\(\\s*\\)|\\s/\\s*[,)]|\\{@");

  private static List<String> descriptions(String file) throws Exception {
    Path p = Path.of("target", "classes", "META-INF", "maven", file);
    assertThat(p)
        .as("%s is written by maven-plugin-plugin:descriptor (process-classes)", p)
        .isRegularFile();
    Document d =
        DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(Files.newInputStream(p));
    NodeList nodes = d.getElementsByTagName("description");
    List<String> out = new ArrayList<>();
    for (int i = 0; i < nodes.getLength(); i++) {
      Element e = (Element) nodes.item(i);
      out.add(where(e) + ": " + e.getTextContent());
    }
    return out;
  }

  /** "mojo compress, parameter calibration" for a description element. */
  private static String where(Element description) {
    Node owner = description.getParentNode();
    String kind = owner.getNodeName();
    String name = child(owner, kind.equals("mojo") ? "goal" : "name");
    if (kind.equals("parameter")) {
      Node mojo = owner.getParentNode().getParentNode();
      return "goal " + child(mojo, "goal") + ", parameter " + name;
    }
    return kind + " " + name;
  }

  private static String child(Node n, String name) {
    for (Node c = n.getFirstChild(); c != null; c = c.getNextSibling()) {
      if (c.getNodeName().equals(name)) {
        return c.getTextContent();
      }
    }
    return "?";
  }

  @Test
  void descriptionsHoldNoTextThatHelpDescribeDropsAsATag() throws Exception {
    for (String file :
        List.of("plugin.xml", "dev.compress/compress-maven-plugin/plugin-help.xml")) {
      List<String> all = descriptions(file);
      assertThat(all).as(file).hasSizeGreaterThan(20); // both goals and their parameters
      assertThat(all)
          .as("%s: descriptions an HTML reader would cut (write element names bare)", file)
          .filteredOn(d -> TAG.matcher(d).find())
          .isEmpty();
      assertThat(all)
          .as("%s: descriptions with holes or unresolved Javadoc tags", file)
          .filteredOn(d -> HOLE.matcher(d).find())
          .isEmpty();
    }
  }

  @Test
  void theParameterListsNameTheirElements() throws Exception {
    String calibration =
        descriptions("plugin.xml").stream()
            .filter(d -> d.startsWith("goal compress, parameter calibration: "))
            .findFirst()
            .orElseThrow();
    assertThat(calibration)
        .contains("(kind, source, samples, sequenceLength, batchSize, seed, shuffle)");
  }
}
