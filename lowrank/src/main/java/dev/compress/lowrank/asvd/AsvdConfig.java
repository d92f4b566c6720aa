package dev.compress.lowrank.asvd;

import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.Param;
import dev.compress.api.pass.SelectionBuilder;
import dev.compress.lowrank.LowRankConfig;
import dev.compress.lowrank.rank.Allocation;
import dev.compress.lowrank.rank.RankRule;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Configuration of {@link AsvdPass}, validated at construction.
 *
 * @param selection the linear layers to factorize (null means all)
 * @param allocation how ranks are chosen (see {@link Allocation})
 * @param parametersRemoved fraction of the selected layers' parameters removed (uniform, global)
 * @param energy fraction of {@code sum sigma^2} each layer keeps (energy)
 * @param rank the rank of every layer (fixed)
 * @param alpha the exponent of {@code mean|x|} for every layer, or empty to search {@code
 *     alphaGrid} per layer on the calibration output error
 * @param alphaGrid the exponents searched, each in {@code [0, 2]}
 */
public record AsvdConfig(
    LayerSelection selection,
    @Param(RankRule.ALLOCATION_HELP) Allocation allocation,
    @Param(RankRule.PARAMETERS_REMOVED_HELP) double parametersRemoved,
    @Param(RankRule.ENERGY_HELP) double energy,
    @Param(RankRule.RANK_HELP) int rank,
    @Param("exponent of mean|x| in the column scales, in [0, 2]; unset: searched")
        Optional<Double> alpha,
    @Param("the exponents searched per layer when alpha is unset") List<Double> alphaGrid)
    implements LowRankConfig {

  /** The searched exponents when none is given. */
  public static final List<Double> DEFAULT_GRID = List.of(0.25, 0.5, 0.75, 1.0);

  /** Validates every field and reports all problems at once. */
  public AsvdConfig {
    selection = selection == null ? LayerSelection.ALL : selection;
    alpha = alpha == null ? Optional.empty() : alpha;
    alphaGrid = alphaGrid == null ? DEFAULT_GRID : List.copyOf(alphaGrid);
    List<String> p =
        new ArrayList<>(RankRule.problems(allocation, parametersRemoved, energy, rank));
    if (alpha.isPresent() && !(alpha.get() >= 0 && alpha.get() <= 2)) {
      p.add("alpha must be in [0, 2], found " + alpha.get());
    }
    if (alpha.isEmpty() && alphaGrid.isEmpty()) {
      p.add("alphaGrid must not be empty when alpha is not given");
    }
    for (double a : alphaGrid) {
      if (!(a >= 0 && a <= 2)) {
        p.add("alphaGrid values must be in [0, 2], found " + a);
      }
    }
    InvalidConfigException.throwIfAny(p);
  }

  @Override
  public RankRule rankRule() {
    return new RankRule(allocation, parametersRemoved, energy, rank);
  }

  /** Every default: the values a pipeline gets for the keys it leaves out. */
  public static AsvdConfig defaults() {
    return new AsvdConfig(
        LayerSelection.ALL,
        Allocation.UNIFORM,
        0.2,
        0.95,
        64,
        java.util.Optional.empty(),
        AsvdConfig.DEFAULT_GRID);
  }

  /** A builder starting from {@link #defaults()}, validated at {@link Builder#build()}. */
  public static Builder builder() {
    return new Builder(defaults());
  }

  /** A builder starting from this config. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** Builds a {@link AsvdConfig}: one setter per key, every value checked at {@link #build()}. */
  public static final class Builder extends SelectionBuilder<AsvdConfig, Builder> {
    private Builder(AsvdConfig start) {
      super(start);
    }

    /** Sets {@link AsvdConfig#allocation() allocation}. */
    public Builder allocation(Allocation v) {
      return set("allocation", v);
    }

    /** Sets {@link AsvdConfig#parametersRemoved() parametersRemoved}. */
    public Builder parametersRemoved(double v) {
      return set("parametersRemoved", v);
    }

    /** Sets {@link AsvdConfig#energy() energy}. */
    public Builder energy(double v) {
      return set("energy", v);
    }

    /** Sets {@link AsvdConfig#rank() rank}. */
    public Builder rank(int v) {
      return set("rank", v);
    }

    /** Sets {@link AsvdConfig#alpha() alpha}. */
    public Builder alpha(double v) {
      return set("alpha", Optional.of(v));
    }

    /** Sets {@link AsvdConfig#alphaGrid() alphaGrid}. */
    public Builder alphaGrid(Double... v) {
      return set("alphaGrid", List.of(v));
    }
  }
}
