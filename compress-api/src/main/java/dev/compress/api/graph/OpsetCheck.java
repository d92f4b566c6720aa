package dev.compress.api.graph;

import dev.compress.api.graph.OperatorTable.Signature;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Whether every node conforms to the ONNX operator specification at the opset its model imports,
 * not only to what ONNX Runtime tolerates (ONNX Runtime, for one, registers {@code
 * LayerNormalization} at opsets 1-16 although ONNX defines it from 17; the ONNX checker and other
 * runtimes refuse such a model). {@link GraphCheck} holds the structural rules; this class the
 * per-operator ones.
 *
 * <p>For every node of the main graph and of every subgraph (GRAPH and GRAPHS attributes, at the
 * model's opset imports), in the default domain ({@code ""} or {@code ai.onnx}) and in {@code
 * com.microsoft} (ONNX Runtime's contrib operators):
 *
 * <ol>
 *   <li>the node's domain is imported by the model;
 *   <li>the operator exists in its domain at the imported version: the newest signature introduced
 *       at or before that version is the one that applies;
 *   <li>every attribute of the node is defined by that signature (an attribute that became an
 *       input, such as {@code Unsqueeze}'s {@code axes} at 13, is a violation at 13 and after);
 *   <li>the number of inputs, not counting trailing omitted optional inputs (empty names), is
 *       within the signature's bounds.
 * </ol>
 *
 * <p>The table holds the operators this project reads or writes (132 in ai.onnx, 7 in
 * com.microsoft; see {@link #knownOperators()}), complete for default-domain opsets up to {@value
 * OperatorTable#COMPLETE_TO}. At a newer imported opset only existence is checked, since a newer
 * signature may define attributes or inputs the table lacks. An operator the table does not know
 * (or a node of another domain) is not an error: it is listed in {@link Result#notChecked()}.
 *
 * <p>Not covered: output counts, attribute types and values (ranges, enumerations such as {@code
 * auto_pad}), required attributes, element types of inputs and outputs, and shape and type
 * inference of any depth; model-local functions are not expanded. Those are left to the runtime
 * that loads the model.
 *
 * <p>A pure function of the model: it changes nothing and runs in time linear in the nodes.
 */
public final class OpsetCheck {
  private OpsetCheck() {}

  /**
   * One node that breaks its operator's signature.
   *
   * @param graph where: {@code graph 'main'}, or for a subgraph the path through the nodes that
   *     hold it, as in {@link GraphCheck.Problem#graph()}
   * @param node the node
   * @param domain the operator's domain ({@code ai.onnx} for the default one)
   * @param opset the version of that domain the model imports (0 when it imports none)
   * @param detail what is wrong, one line
   */
  public record Violation(String graph, Node node, String domain, long opset, String detail) {
    /** The violation as one line: where, the node, the operator and the opset, then what. */
    public String message() {
      return graph
          + ": node '"
          + label(node)
          + "' ("
          + (domain.equals(OperatorTable.ONNX) ? "" : domain + "::")
          + node.opType()
          + ", "
          + domain
          + " opset "
          + opset
          + "): "
          + detail;
    }

    @Override
    public String toString() {
      return message();
    }
  }

  /**
   * The outcome of a check.
   *
   * @param violations every node that breaks its signature, main graph first, in node order
   * @param notChecked the operators ({@code domain::op} outside the default domain) the table does
   *     not know, sorted; they may be valid or not
   */
  public record Result(List<Violation> violations, SortedSet<String> notChecked) {
    public Result {
      violations = List.copyOf(violations);
      notChecked = Collections.unmodifiableSortedSet(new TreeSet<>(notChecked));
    }

    /** Whether no violation was found. */
    public boolean ok() {
      return violations.isEmpty();
    }

    /**
     * One line: the first violation, and how many more there are.
     *
     * @throws IllegalStateException when there is no violation
     */
    public String summary() {
      if (violations.isEmpty()) {
        throw new IllegalStateException("no violations");
      }
      int more = violations.size() - 1;
      return violations.getFirst().message()
          + (more == 0 ? "" : " (and " + more + " more violation" + (more > 1 ? "s" : "") + ")");
    }
  }

  /** Checks every node of {@code model} against the table at the model's opset imports. */
  public static Result check(ModelGraph model) {
    List<Violation> out = new ArrayList<>();
    SortedSet<String> unknown = new TreeSet<>();
    Graph g = model.graph();
    if (g != null) {
      check(model, g, "graph '" + g.name() + "'", out, unknown);
    }
    return new Result(out, unknown);
  }

  /**
   * The lowest default-domain opset at which every default-domain operator of {@code model} that
   * the table knows exists (the newest introduction among them; 1 when there is none). A pass that
   * wrote an operator newer than the imported opset raises the model to at least this ({@link
   * OpsetUpgrade}).
   */
  public static long minimumDefaultOpset(ModelGraph model) {
    long[] max = {1};
    if (model.graph() != null) {
      forEachNode(
          model.graph(),
          n -> {
            if (isDefault(n.domain())) {
              List<Signature> s = OperatorTable.signatures(OperatorTable.ONNX, n.opType());
              if (s != null) {
                max[0] = Math.max(max[0], s.getFirst().since());
              }
            }
          });
    }
    return max[0];
  }

  /** The operators the table knows, by domain ({@code ai.onnx}, {@code com.microsoft}), sorted. */
  public static Map<String, Set<String>> knownOperators() {
    return OperatorTable.operators();
  }

  private static void check(
      ModelGraph model, Graph g, String where, List<Violation> out, Set<String> unknown) {
    for (Node n : g.nodes()) {
      checkNode(model, n, where, out, unknown);
    }
    for (Node n : g.nodes()) {
      for (Map.Entry<String, Attribute> e : n.attributes().entrySet()) {
        Attribute a = e.getValue();
        String inner = where + " > node '" + label(n) + "' (" + n.opType() + ")." + e.getKey();
        if (a.value() == null) {
          continue;
        }
        if (a.type() == Attribute.Type.GRAPH) {
          check(model, a.asGraph(), inner, out, unknown);
        } else if (a.type() == Attribute.Type.GRAPHS) {
          List<Graph> subs = a.asGraphs();
          for (int i = 0; i < subs.size(); i++) {
            check(model, subs.get(i), inner + "[" + i + "]", out, unknown);
          }
        }
      }
    }
  }

  private static void checkNode(
      ModelGraph model, Node n, String where, List<Violation> out, Set<String> unknown) {
    String domain = isDefault(n.domain()) ? OperatorTable.ONNX : n.domain();
    List<Signature> versions = OperatorTable.signatures(domain, n.opType());
    if (versions == null) {
      unknown.add(n.qualifiedOpType());
      return;
    }
    long opset = model.opset(domain).orElse(0);
    if (opset == 0) {
      out.add(new Violation(where, n, domain, 0, "the model does not import domain " + domain));
      return;
    }
    Signature sig = null;
    for (Signature s : versions) {
      if (s.since() <= opset) {
        sig = s;
      }
    }
    if (sig == null) {
      out.add(
          new Violation(
              where,
              n,
              domain,
              opset,
              "operator "
                  + n.opType()
                  + " is defined from "
                  + domain
                  + " opset "
                  + versions.getFirst().since()));
      return;
    }
    if (domain.equals(OperatorTable.ONNX) && opset > OperatorTable.COMPLETE_TO) {
      return; // a newer signature may define what the table lacks: existence only
    }
    for (String a : n.attributes().keySet()) {
      if (!sig.attributes().contains(a)) {
        out.add(
            new Violation(
                where,
                n,
                domain,
                opset,
                "attribute '"
                    + a
                    + "' is not defined for "
                    + n.opType()
                    + " at opset "
                    + opset
                    + " (signature of opset "
                    + sig.since()
                    + (sig.attributes().isEmpty()
                        ? ": no attributes"
                        : ": " + new TreeSet<>(sig.attributes()))
                    + ")"));
      }
    }
    int inputs = presentInputs(n);
    if (inputs < sig.minInputs() || inputs > sig.maxInputs()) {
      out.add(
          new Violation(
              where,
              n,
              domain,
              opset,
              inputs
                  + " input"
                  + (inputs == 1 ? "" : "s")
                  + ", "
                  + n.opType()
                  + " at opset "
                  + opset
                  + " takes "
                  + bounds(sig)));
    }
  }

  /** Inputs up to the last non-empty one (trailing empty names are omitted optional inputs). */
  private static int presentInputs(Node n) {
    int k = n.inputs().size();
    while (k > 0 && n.inputs().get(k - 1).isEmpty()) {
      k--;
    }
    return k;
  }

  private static String bounds(Signature s) {
    if (s.maxInputs() == OperatorTable.ANY) {
      return s.minInputs() + " or more";
    }
    return s.minInputs() == s.maxInputs()
        ? String.valueOf(s.minInputs())
        : s.minInputs() + " to " + s.maxInputs();
  }

  private static boolean isDefault(String domain) {
    return domain.isEmpty() || domain.equals(OperatorTable.ONNX);
  }

  private static void forEachNode(Graph g, java.util.function.Consumer<Node> action) {
    for (Node n : g.nodes()) {
      action.accept(n);
      for (Graph sub : n.subgraphs()) {
        forEachNode(sub, action);
      }
    }
  }

  private static String label(Node n) {
    return n.name().isEmpty() ? "(" + n.opType() + " -> " + n.output(0) + ")" : n.name();
  }
}
