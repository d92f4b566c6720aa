package dev.compress.pruning.structured;

import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.Param;
import dev.compress.api.pass.PassConfig;
import dev.compress.api.pass.SelectionBuilder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Configuration of {@link StructuredPruningPass}, validated at construction.
 *
 * @param selection the linear layers whose groups may be pruned: a group is pruned only when every
 *     layer it touches is selected
 * @param units which kinds of unit to remove (heads, neurons)
 * @param budget what {@link #kept} measures: the groups' linear FLOPs or their parameters
 * @param kept the fraction of the groups' linear FLOPs (or parameters) that is kept, in (0, 1]
 * @param importance how units are scored for the global ranking
 * @param rescale least-squares rescaling of the kept units' outputs (Kwon et al. 2022), or none
 * @param biasCompensation add the removed units' mean output to the sink's bias (FLAP)
 * @param damping ridge of the least-squares rescaling, relative to the mean diagonal, {@code >= 0}
 * @param removed explicit plans: group selector (a layer name of the group, or {@code re:REGEX}) to
 *     the fraction of its units removed, in [0, 1); these groups leave the global search
 * @param teacher {@code taylor}/{@code fisher}: an ONNX file whose first output the loss matches
 *     (the distill pass's soft targets on logits, embedding MSE on hidden states); empty: labels
 *     when the calibration data has them, else the model's own output distribution
 */
public record StructuredPruningConfig(
    LayerSelection selection,
    @Param("which units to remove: any of heads, neurons, channels (Conv output channels)")
        List<DependencyGroup.Kind> units,
    @Param("flops (linear multiply-accumulates per token) or params") Budget budget,
    @Param("fraction of the groups' linear flops (or params) kept, in (0, 1]") double kept,
    @Param(
            "weight-norm (data-free), activation (Wanda-style mean(x^2)*||W_j||^2), fluctuation"
                + " (FLAP: var(x)*||W_j||^2), filter-l1 or filter-l2 (norm of the unit's output"
                + " filter), bn-scale (network slimming: |gamma| of the BatchNormalization), taylor"
                + " (|sum of dL/dm| of a unit mask) or fisher (sum over examples of (dL/dm)^2)")
        Importance importance,
    @Param(
            "least-squares: per group, scales of the kept units that match the unpruned output"
                + " on calibration data (Kwon et al.); none")
        Rescale rescale,
    @Param("add the removed units' mean output to the next layer's bias (FLAP)")
        boolean biasCompensation,
    @Param("ridge of the least-squares fit, relative to its mean diagonal") double damping,
    @Param(
            "explicit plans: {layer name or re:REGEX of a group: fraction of its units removed,"
                + " in [0, 1)}; these groups leave the global search")
        Map<String, Double> removed,
    @Param(
            "taylor/fisher only: an ONNX file whose first output the loss matches (soft targets on"
                + " logits, embedding MSE on hidden states); unset: labels, else the model's own"
                + " output distribution")
        java.util.Optional<String> teacher)
    implements PassConfig {

  /** What the budget counts. */
  public enum Budget {
    /** Multiply-accumulates of the groups' linear layers per token. */
    FLOPS,
    /** Parameters of the groups' linear layers and biases. */
    PARAMS
  }

  /** Unit scores. */
  public enum Importance {
    /** Squared L2 norm of the unit's weights over the whole group (data-free). */
    WEIGHT_NORM,
    /** Wanda-style: sum over the unit's sink rows of mean(x_j^2) * ||W[j, :]||^2. */
    ACTIVATION,
    /** FLAP's fluctuation: sum over the unit's sink rows of var(x_j) * ||W[j, :]||^2. */
    FLUCTUATION,
    /** L1 norm of the unit's output filter, summed over the group's sources (data-free). */
    FILTER_L1,
    /** L2 norm of the unit's output filter, summed over the group's sources (data-free). */
    FILTER_L2,
    /** Network slimming: |gamma| of the unit's BatchNormalization entries (data-free). */
    BN_SCALE,
    /** First-order Taylor: |sum over calibration examples of dL/dm_u| of a unit mask. */
    TAYLOR,
    /** Empirical Fisher (Kwon et al. 2022): sum over calibration examples of (dL/dm_u)^2. */
    FISHER
  }

  /** True for the scores that need no calibration data. */
  public static boolean dataFree(Importance i) {
    return i == Importance.WEIGHT_NORM
        || i == Importance.FILTER_L1
        || i == Importance.FILTER_L2
        || i == Importance.BN_SCALE;
  }

  /** Output rescaling after the cut. */
  public enum Rescale {
    /** Keep the kept units' weights as they are. */
    NONE,
    /** Per group, least-squares scales of the kept units matching the unpruned output. */
    LEAST_SQUARES
  }

  /** Validates every field and reports all problems at once. */
  public StructuredPruningConfig {
    selection = selection == null ? LayerSelection.ALL : selection;
    units = units == null ? List.of(DependencyGroup.Kind.values()) : List.copyOf(units);
    removed = removed == null ? Map.of() : new LinkedHashMap<>(removed);
    teacher = teacher == null ? java.util.Optional.empty() : teacher;
    List<String> problems = new ArrayList<>();
    if (teacher.isPresent() && teacher.get().isBlank()) {
      problems.add("teacher must name an ONNX file, found ''");
    }
    if (units.isEmpty()) {
      problems.add("units must name heads, neurons and/or channels, found []");
    }
    if (budget == null) {
      problems.add("budget must be flops or params, found null");
    }
    if (!(kept > 0 && kept <= 1)) {
      problems.add("kept must be in (0, 1] (the fraction of the budget kept), found " + kept);
    }
    if (importance == null) {
      problems.add(
          "importance must be weight-norm, activation, fluctuation, filter-l1, filter-l2, bn-scale,"
              + " taylor or fisher, found null");
    }
    if (rescale == null) {
      problems.add("rescale must be none or least-squares, found null");
    }
    if (!(damping >= 0) || Double.isInfinite(damping)) {
      problems.add("damping must be >= 0, found " + damping);
    }
    for (var e : removed.entrySet()) {
      String k = e.getKey();
      Double v = e.getValue();
      if (v == null || !(v >= 0 && v < 1)) {
        problems.add(
            "removed['"
                + k
                + "'] must be in [0, 1) (removing every unit of a group is refused), found "
                + v);
      }
      if (k.startsWith("re:")) {
        try {
          Pattern.compile(k.substring(3));
        } catch (PatternSyntaxException x) {
          problems.add("removed['" + k + "'] is not a valid regex (" + x.getDescription() + ")");
        }
      }
    }
    InvalidConfigException.throwIfAny(problems);
    removed = Map.copyOf(removed);
  }

  /** Heads and neurons to 60% of the linear FLOPs, activation scores, least-squares rescaling. */
  public static StructuredPruningConfig defaults() {
    return new StructuredPruningConfig(
        LayerSelection.ALL,
        List.of(DependencyGroup.Kind.values()),
        Budget.FLOPS,
        0.6,
        Importance.ACTIVATION,
        Rescale.LEAST_SQUARES,
        false,
        1e-3,
        Map.of(),
        java.util.Optional.empty());
  }

  /** True when the pass needs calibration data. */
  public boolean needsCalibration() {
    return !dataFree(importance) || rescale != Rescale.NONE || biasCompensation;
  }

  /** A builder starting from {@link #defaults()}, validated at {@link Builder#build()}. */
  public static Builder builder() {
    return new Builder(defaults());
  }

  /** A builder starting from this config. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /**
   * Builds a {@link StructuredPruningConfig}: one setter per key, every value checked at {@link
   * #build()}.
   */
  public static final class Builder extends SelectionBuilder<StructuredPruningConfig, Builder> {
    private Builder(StructuredPruningConfig start) {
      super(start);
    }

    /** Sets {@link StructuredPruningConfig#units() units}. */
    public Builder units(DependencyGroup.Kind... v) {
      return set("units", List.of(v));
    }

    /** Sets {@link StructuredPruningConfig#budget() budget}. */
    public Builder budget(Budget v) {
      return set("budget", v);
    }

    /** Sets {@link StructuredPruningConfig#kept() kept}. */
    public Builder kept(double v) {
      return set("kept", v);
    }

    /** Sets {@link StructuredPruningConfig#importance() importance}. */
    public Builder importance(Importance v) {
      return set("importance", v);
    }

    /** Sets {@link StructuredPruningConfig#rescale() rescale}. */
    public Builder rescale(Rescale v) {
      return set("rescale", v);
    }

    /** Sets {@link StructuredPruningConfig#biasCompensation() biasCompensation}. */
    public Builder biasCompensation(boolean v) {
      return set("biasCompensation", v);
    }

    /** Sets {@link StructuredPruningConfig#damping() damping}. */
    public Builder damping(double v) {
      return set("damping", v);
    }

    /** Sets {@link StructuredPruningConfig#removed() removed}. */
    public Builder removed(Map<String, Double> v) {
      return set("removed", v);
    }

    /** Sets {@link StructuredPruningConfig#teacher() teacher}: an ONNX file. */
    public Builder teacher(String v) {
      return set("teacher", java.util.Optional.of(v));
    }
  }
}
