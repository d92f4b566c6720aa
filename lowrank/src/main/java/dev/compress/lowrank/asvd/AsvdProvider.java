package dev.compress.lowrank.asvd;

import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassProvider;
import dev.compress.lowrank.rank.Allocation;
import dev.compress.lowrank.rank.RankRule;
import java.util.List;

/** Registers {@link AsvdPass} as {@code asvd}. */
public final class AsvdProvider implements PassProvider<AsvdConfig> {
  /** The pass type used in pipelines. */
  public static final String TYPE = "asvd";

  /** Used by {@link java.util.ServiceLoader}. */
  public AsvdProvider() {}

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public String description() {
    return "ASVD: activation-aware SVD (columns scaled by mean|x|^alpha before, unscaled after) of"
        + " each linear weight into two MatMuls";
  }

  @Override
  public Class<AsvdConfig> configType() {
    return AsvdConfig.class;
  }

  @Override
  public AsvdConfig defaults() {
    return new AsvdConfig(
        LayerSelection.ALL,
        Allocation.UNIFORM,
        0.2,
        0.95,
        64,
        java.util.Optional.empty(),
        AsvdConfig.DEFAULT_GRID);
  }

  @Override
  public List<ParamDoc> parameters() {
    List<ParamDoc> docs = new java.util.ArrayList<>(RankRule.docs());
    docs.add(
        new ParamDoc(
            "alpha", "exponent of mean|x| in the column scales, in [0, 2]; unset: searched"));
    docs.add(new ParamDoc("alphaGrid", "the exponents searched per layer when alpha is unset"));
    return docs;
  }

  @Override
  public boolean needsCalibration() {
    return true;
  }

  @Override
  public Pass<AsvdConfig> create(AsvdConfig config) {
    return new AsvdPass(config);
  }
}
