package dev.compress.lowrank.svd;

import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.Param;
import dev.compress.api.pass.SelectionBuilder;
import dev.compress.lowrank.LowRankConfig;
import dev.compress.lowrank.rank.Allocation;
import dev.compress.lowrank.rank.RankRule;

/**
 * Configuration of {@link SvdPass}, validated at construction.
 *
 * @param selection the linear layers to factorize (null means all)
 * @param allocation how ranks are chosen (see {@link Allocation})
 * @param parametersRemoved fraction of the selected layers' parameters removed (uniform, global)
 * @param energy fraction of {@code sum sigma^2} each layer keeps (energy)
 * @param rank the rank of every layer (fixed)
 */
public record SvdConfig(
    LayerSelection selection,
    @Param(RankRule.ALLOCATION_HELP) Allocation allocation,
    @Param(RankRule.PARAMETERS_REMOVED_HELP) double parametersRemoved,
    @Param(RankRule.ENERGY_HELP) double energy,
    @Param(RankRule.RANK_HELP) int rank)
    implements LowRankConfig {

  /** Validates every field and reports all problems at once. */
  public SvdConfig {
    selection = selection == null ? LayerSelection.ALL : selection;
    InvalidConfigException.throwIfAny(
        RankRule.problems(allocation, parametersRemoved, energy, rank));
  }

  @Override
  public RankRule rankRule() {
    return new RankRule(allocation, parametersRemoved, energy, rank);
  }

  /** Every default: the values a pipeline gets for the keys it leaves out. */
  public static SvdConfig defaults() {
    return new SvdConfig(LayerSelection.ALL, Allocation.UNIFORM, 0.2, 0.95, 64);
  }

  /** A builder starting from {@link #defaults()}, validated at {@link Builder#build()}. */
  public static Builder builder() {
    return new Builder(defaults());
  }

  /** A builder starting from this config. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** Builds a {@link SvdConfig}: one setter per key, every value checked at {@link #build()}. */
  public static final class Builder extends SelectionBuilder<SvdConfig, Builder> {
    private Builder(SvdConfig start) {
      super(start);
    }

    /** Sets {@link SvdConfig#allocation() allocation}. */
    public Builder allocation(Allocation v) {
      return set("allocation", v);
    }

    /** Sets {@link SvdConfig#parametersRemoved() parametersRemoved}. */
    public Builder parametersRemoved(double v) {
      return set("parametersRemoved", v);
    }

    /** Sets {@link SvdConfig#energy() energy}. */
    public Builder energy(double v) {
      return set("energy", v);
    }

    /** Sets {@link SvdConfig#rank() rank}. */
    public Builder rank(int v) {
      return set("rank", v);
    }
  }
}
