package dev.compress.training.distill;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.layers.ResidualChain;
import dev.compress.api.layers.TransformerBlocks;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The loss terms of a {@code distill} pass resolved against a student and a teacher: which values
 * each side must produce, and the weighted sum over a batch. Every reference is checked here,
 * before any training: an output neither model has, a layer map out of range of either model's
 * blocks, a labelled loss without labels in the data. The teacher's values travel in the batch as
 * {@code teacher/VALUE} (computed once per example, the teacher being frozen).
 */
public final class LossPlan {
  /** The batch key of the attention mask, when the data has one. */
  public static final String MASK = "attention_mask";

  /** The batch key of class labels. */
  public static final String LABELS = "labels";

  /** The batch key prefix of the teacher's values. */
  public static final String TEACHER = "teacher/";

  /** One resolved term: pairs of (student value, teacher value) it compares. */
  private record Term(int index, LossTerm spec, List<String[]> pairs) {}

  private final List<Term> terms;

  private LossPlan(List<Term> terms) {
    this.terms = List.copyOf(terms);
  }

  /**
   * Resolves {@code losses} (keys {@code losses[i]...}).
   *
   * @param dataKeys the names the training data holds (graph inputs, {@code labels})
   * @throws ConfigException listing every reference that does not resolve
   */
  public static LossPlan resolve(
      List<LossTerm> losses, ModelGraph student, ModelGraph teacher, Set<String> dataKeys)
      throws ConfigException {
    List<String> problems = new ArrayList<>();
    List<Term> out = new ArrayList<>();
    List<String> sOut = names(student.graph().outputs());
    List<String> tOut = names(teacher.graph().outputs());
    for (int i = 0; i < losses.size(); i++) {
      LossTerm t = losses.get(i);
      String key = "losses[" + i + "]";
      List<String[]> pairs = new ArrayList<>();
      switch (t.kind()) {
        case SOFT_TARGETS, EMBEDDING_MSE, EMBEDDING_COSINE -> {
          String o = t.output().orElse(sOut.isEmpty() ? "" : sOut.get(0));
          if (!sOut.contains(o)) {
            problems.add(key + ".output '" + o + "' is not an output of the student: " + sOut);
          } else if (!tOut.contains(o)) {
            problems.add(key + ".output '" + o + "' is not an output of the teacher: " + tOut);
          } else {
            pairs.add(new String[] {o, o});
          }
          if (t.kind() == LossTerm.Kind.SOFT_TARGETS
              && t.hardLabelWeightOrDefault() > 0
              && !dataKeys.contains(LABELS)) {
            problems.add(
                key
                    + ".hardLabelWeight "
                    + t.hardLabelWeightOrDefault()
                    + " needs labels, and the training data has none (it holds "
                    + dataKeys
                    + "); set it to 0 or use labelled data (images: calibration.labels: FILE)");
          }
        }
        case HIDDEN_MSE, HIDDEN_COSINE ->
            pairs.addAll(hiddenPairs(key, t, student, teacher, problems));
      }
      out.add(new Term(i, t, pairs));
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return new LossPlan(out);
  }

  /**
   * Student block {@code i} against teacher block {@code layerMap[i]}; by default TinyBERT's
   * uniform map {@code (i + 1) * teacherBlocks / studentBlocks - 1}, which pairs the last blocks.
   */
  private static List<String[]> hiddenPairs(
      String key, LossTerm t, ModelGraph student, ModelGraph teacher, List<String> problems) {
    List<ResidualChain.Block> sb;
    List<ResidualChain.Block> tb;
    try {
      sb = ResidualChain.of(student.graph(), TransformerBlocks.DEFAULT_PATTERN).blocks();
      tb = ResidualChain.of(teacher.graph(), TransformerBlocks.DEFAULT_PATTERN).blocks();
    } catch (CompressionException e) {
      problems.add(key + " (" + t.kindName() + "): " + e.getMessage());
      return List.of();
    }
    List<Integer> map = new ArrayList<>();
    if (t.layerMap().isPresent()) {
      map.addAll(t.layerMap().get());
      if (map.size() > sb.size()) {
        problems.add(
            key
                + ".layerMap has "
                + map.size()
                + " entries, but the student has "
                + sb.size()
                + " transformer blocks");
        return List.of();
      }
    } else {
      for (int i = 0; i < sb.size(); i++) {
        map.add((i + 1) * tb.size() / sb.size() - 1);
      }
    }
    List<String[]> pairs = new ArrayList<>();
    for (int i = 0; i < map.size(); i++) {
      int j = map.get(i);
      if (j >= tb.size()) {
        problems.add(
            key
                + ".layerMap["
                + i
                + "] = "
                + j
                + " is out of range: the teacher has "
                + tb.size()
                + " transformer blocks (blocks 0.."
                + (tb.size() - 1)
                + ")");
      } else {
        pairs.add(new String[] {sb.get(i).output(), tb.get(j).output()});
      }
    }
    return pairs;
  }

  /** Values the student's forward must return (besides its outputs). */
  public Set<String> studentValues() {
    Set<String> s = new LinkedHashSet<>();
    terms.forEach(t -> t.pairs().forEach(p -> s.add(p[0])));
    return s;
  }

  /** Values of the teacher the batches must carry. */
  public Set<String> teacherValues() {
    Set<String> s = new LinkedHashSet<>();
    terms.forEach(t -> t.pairs().forEach(p -> s.add(p[1])));
    return s;
  }

  /**
   * The weighted sum of the terms on one batch.
   *
   * @param student the student's values by name
   * @param batch the batch: inputs, {@code labels}, {@code teacher/VALUE}
   * @throws ConfigException naming the term when shapes do not match (student and teacher disagree,
   *     or the mask does not fit)
   */
  public NDArray loss(NDManager manager, Map<String, NDArray> student, Map<String, NDArray> batch)
      throws ConfigException {
    NDArray total = null;
    for (Term t : terms) {
      try {
        for (String[] p : t.pairs()) {
          NDArray s = student.get(p[0]);
          NDArray te = batch.get(TEACHER + p[1]);
          NDArray v = term(manager, t.spec(), s, te, batch);
          NDArray w = v.mul((float) (t.spec().weightOrDefault() / t.pairs().size()));
          total = total == null ? w : total.add(w);
        }
      } catch (IllegalArgumentException e) {
        throw new ConfigException(
            "losses[" + t.index() + "] (" + t.spec().kindName() + "): " + e.getMessage());
      }
    }
    return total;
  }

  private static NDArray term(
      NDManager manager, LossTerm spec, NDArray s, NDArray t, Map<String, NDArray> batch) {
    return switch (spec.kind()) {
      case SOFT_TARGETS ->
          DistillationLosses.softTargets(
              s,
              t,
              batch.get(LABELS),
              (float) spec.temperatureOrDefault(),
              (float) spec.hardLabelWeightOrDefault());
      case HIDDEN_MSE -> DistillationLosses.hiddenMse(s, t, mask(manager, s, batch));
      case HIDDEN_COSINE -> DistillationLosses.hiddenCosine(s, t, mask(manager, s, batch));
      case EMBEDDING_MSE -> DistillationLosses.pooledMse(s, t, mask(manager, s, batch));
      case EMBEDDING_COSINE -> DistillationLosses.pooledCosine(s, t, mask(manager, s, batch));
    };
  }

  /** The batch's attention mask, or every token when it has none. */
  private static NDArray mask(NDManager manager, NDArray hidden, Map<String, NDArray> batch) {
    NDArray m = batch.get(MASK);
    if (m != null) {
      return m;
    }
    if (hidden.getShape().dimension() != 3) {
      throw new IllegalArgumentException(
          "a hidden state must be [batch, tokens, dim], found " + hidden.getShape());
    }
    return manager.ones(
        new ai.djl.ndarray.types.Shape(hidden.getShape().get(0), hidden.getShape().get(1)));
  }

  private static List<String> names(List<ValueInfo> values) {
    return values.stream().map(ValueInfo::name).toList();
  }
}
