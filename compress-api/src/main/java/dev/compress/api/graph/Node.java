package dev.compress.api.graph;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A graph node with ONNX semantics: an operator ({@code domain}, {@code opType}) applied to named
 * inputs, producing named outputs. An empty input name means an omitted optional input.
 *
 * <p>Nodes are mutable so passes can rewire them; the graph owns them.
 */
public final class Node {
  private String name;
  private String opType;
  private String domain;
  private String overload = "";
  private final List<String> inputs;
  private final List<String> outputs;
  private final Map<String, Attribute> attributes = new LinkedHashMap<>();
  private String docString = "";
  private final Map<String, String> metadata = new LinkedHashMap<>();
  private final PreservedFields preserved = new PreservedFields();

  /**
   * @param name node name (may be empty in the file; layer views need it)
   * @param opType operator type, e.g. {@code MatMul}
   * @param domain operator domain; empty for the default ONNX domain
   * @param inputs input value names
   * @param outputs output value names
   */
  public Node(
      String name, String opType, String domain, List<String> inputs, List<String> outputs) {
    this.name = name == null ? "" : name;
    this.opType = Objects.requireNonNull(opType, "opType");
    this.domain = domain == null || domain.equals("ai.onnx") ? "" : domain;
    this.inputs = new ArrayList<>(inputs);
    this.outputs = new ArrayList<>(outputs);
  }

  /** A node in the default domain. */
  public static Node of(String name, String opType, List<String> inputs, List<String> outputs) {
    return new Node(name, opType, "", inputs, outputs);
  }

  public String name() {
    return name;
  }

  public void setName(String name) {
    this.name = name == null ? "" : name;
  }

  public String opType() {
    return opType;
  }

  public void setOpType(String opType) {
    this.opType = Objects.requireNonNull(opType);
  }

  /** The domain; empty string for the default ONNX domain. */
  public String domain() {
    return domain;
  }

  public void setDomain(String domain) {
    this.domain = domain == null || domain.equals("ai.onnx") ? "" : domain;
  }

  public String overload() {
    return overload;
  }

  public void setOverload(String overload) {
    this.overload = overload == null ? "" : overload;
  }

  /** Mutable list of input names. */
  public List<String> inputs() {
    return inputs;
  }

  /** Input {@code i}, or empty when absent or omitted. */
  public String input(int i) {
    return i < inputs.size() ? inputs.get(i) : "";
  }

  /** Mutable list of output names. */
  public List<String> outputs() {
    return outputs;
  }

  /** Output {@code i}, or empty when absent. */
  public String output(int i) {
    return i < outputs.size() ? outputs.get(i) : "";
  }

  /** Mutable, ordered map of attributes by name. */
  public Map<String, Attribute> attributes() {
    return attributes;
  }

  /** The attribute with this name, if present. */
  public Optional<Attribute> attribute(String attrName) {
    return Optional.ofNullable(attributes.get(attrName));
  }

  /** Adds or replaces an attribute; returns this node. */
  public Node put(Attribute a) {
    attributes.put(a.name(), a);
    return this;
  }

  /** INT attribute or a default. */
  public long intAttr(String attrName, long dflt) {
    Attribute a = attributes.get(attrName);
    return a == null ? dflt : a.asLong();
  }

  /** FLOAT attribute or a default. */
  public float floatAttr(String attrName, float dflt) {
    Attribute a = attributes.get(attrName);
    return a == null ? dflt : a.asFloat();
  }

  /** INTS attribute or a default (may be null). */
  public long[] intsAttr(String attrName, long[] dflt) {
    Attribute a = attributes.get(attrName);
    return a == null ? dflt : a.asLongs();
  }

  /** STRING attribute or a default. */
  public String stringAttr(String attrName, String dflt) {
    Attribute a = attributes.get(attrName);
    return a == null ? dflt : a.asString();
  }

  public String docString() {
    return docString;
  }

  public void setDocString(String doc) {
    this.docString = doc == null ? "" : doc;
  }

  /** Mutable metadata properties. */
  public Map<String, String> metadata() {
    return metadata;
  }

  /** Fields of the node not modelled here, written back unchanged. */
  public PreservedFields preserved() {
    return preserved;
  }

  /**
   * The subgraphs this node holds in GRAPH and GRAPHS attributes (If branches, Loop and Scan
   * bodies), in attribute order.
   */
  public List<Graph> subgraphs() {
    List<Graph> out = new ArrayList<>();
    for (Attribute a : attributes.values()) {
      if (a.type() == Attribute.Type.GRAPH && a.value() != null) {
        out.add(a.asGraph());
      } else if (a.type() == Attribute.Type.GRAPHS && a.value() != null) {
        out.addAll(a.asGraphs());
      }
    }
    return out;
  }

  /** {@code domain::opType} for custom domains, just {@code opType} for the default one. */
  public String qualifiedOpType() {
    return domain.isEmpty() ? opType : domain + "::" + opType;
  }

  /**
   * A structural copy: own input/output lists, attributes, metadata and preserved fields; subgraphs
   * (GRAPH/GRAPHS attributes) are copied deeply, tensors (immutable) are shared.
   */
  public Node copy() {
    Node n = new Node(name, opType, domain, inputs, outputs);
    n.overload = overload;
    n.docString = docString;
    n.metadata.putAll(metadata);
    n.preserved.addAll(preserved);
    for (Attribute a : attributes.values()) {
      n.attributes.put(a.name(), copy(a));
    }
    return n;
  }

  private static Attribute copy(Attribute a) {
    Object v = a.value();
    if (a.type() == Attribute.Type.GRAPH && v != null) {
      v = ((Graph) v).copy();
    } else if (a.type() == Attribute.Type.GRAPHS && v != null) {
      v = a.asGraphs().stream().map(Graph::copy).toList();
    } else if (a.type() == Attribute.Type.STRING && v != null) {
      v = ((byte[]) v).clone();
    } else if (a.type() == Attribute.Type.STRINGS && v != null) {
      @SuppressWarnings("unchecked")
      List<byte[]> l = (List<byte[]>) v;
      v = l.stream().map(byte[]::clone).toList();
    }
    PreservedFields p = new PreservedFields();
    p.addAll(a.preserved());
    return new Attribute(a.name(), a.type(), v, a.refAttrName(), a.docString(), p);
  }

  @Override
  public String toString() {
    return qualifiedOpType() + " '" + name + "' " + inputs + " -> " + outputs;
  }
}
