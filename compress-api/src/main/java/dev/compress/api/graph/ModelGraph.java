package dev.compress.api.graph;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;

/**
 * A whole model (ONNX {@code ModelProto}): the main graph plus IR version, operator-set imports,
 * producer and metadata. Fields the toolkit does not model (functions, training info, ...) travel
 * in {@link #preserved()}.
 */
public final class ModelGraph {
  private long irVersion;
  private final Map<String, Long> opsetImports = new LinkedHashMap<>();
  private String producerName = "";
  private String producerVersion = "";
  private String domain = "";
  private long modelVersion;
  private String docString = "";
  private final Map<String, String> metadata = new LinkedHashMap<>();
  private Graph graph;
  private final PreservedFields preserved = new PreservedFields();

  public ModelGraph(long irVersion, Graph graph) {
    this.irVersion = irVersion;
    this.graph = graph;
  }

  public long irVersion() {
    return irVersion;
  }

  public void setIrVersion(long v) {
    this.irVersion = v;
  }

  /** Mutable map from domain ("" for the default ONNX domain) to opset version. */
  public Map<String, Long> opsetImports() {
    return opsetImports;
  }

  /** The opset version imported for {@code domain} ("" or "ai.onnx" for the default one). */
  public OptionalLong opset(String domainName) {
    String d = domainName.equals("ai.onnx") ? "" : domainName;
    Long v = opsetImports.get(d);
    return v == null ? OptionalLong.empty() : OptionalLong.of(v);
  }

  public String producerName() {
    return producerName;
  }

  public void setProducerName(String s) {
    this.producerName = s == null ? "" : s;
  }

  public String producerVersion() {
    return producerVersion;
  }

  public void setProducerVersion(String s) {
    this.producerVersion = s == null ? "" : s;
  }

  public String domain() {
    return domain;
  }

  public void setDomain(String s) {
    this.domain = s == null ? "" : s;
  }

  public long modelVersion() {
    return modelVersion;
  }

  public void setModelVersion(long v) {
    this.modelVersion = v;
  }

  public String docString() {
    return docString;
  }

  public void setDocString(String s) {
    this.docString = s == null ? "" : s;
  }

  /** Mutable metadata properties ({@code metadata_props}). */
  public Map<String, String> metadata() {
    return metadata;
  }

  /** The main graph. */
  public Graph graph() {
    return graph;
  }

  public void setGraph(Graph g) {
    this.graph = g;
  }

  /** Fields not modelled here (functions, training info, configuration, future fields). */
  public PreservedFields preserved() {
    return preserved;
  }

  /**
   * A snapshot that later edits of either model do not reach: graph structure, opsets, metadata and
   * preserved fields are copied; the weight tensors are shared (they are immutable, large ones
   * read-only mapped buffers), so a copy costs the graph's structure, not its weights.
   */
  public ModelGraph copy() {
    ModelGraph m = new ModelGraph(irVersion, graph.copy());
    m.opsetImports.putAll(opsetImports);
    m.producerName = producerName;
    m.producerVersion = producerVersion;
    m.domain = domain;
    m.modelVersion = modelVersion;
    m.docString = docString;
    m.metadata.putAll(metadata);
    m.preserved.addAll(preserved);
    return m;
  }
}
