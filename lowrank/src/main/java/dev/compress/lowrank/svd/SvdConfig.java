package dev.compress.lowrank.svd;

import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.LayerSelection;
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
    Allocation allocation,
    double parametersRemoved,
    double energy,
    int rank)
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
}
