package dev.compress.lowrank;

import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.PassConfig;
import dev.compress.lowrank.rank.RankRule;

/** What the factorization passes' configs share: the layers and the rank rule. */
public interface LowRankConfig extends PassConfig {
  /** The linear layers to factorize. */
  LayerSelection selection();

  /** The rank rule built from the config's {@code allocation} and ratio keys. */
  RankRule rankRule();
}
