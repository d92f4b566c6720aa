package dev.compress.lowrank.rank;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.ConfigException;
import dev.compress.api.pass.InvalidConfigException;
import java.util.List;
import org.junit.jupiter.api.Test;

class RankAllocatorTest {
  /** A layer whose squared spectrum decays as {@code decay^i}. */
  static LayerSpectrum layer(String name, int m, int n, double decay) {
    int r = Math.min(m, n);
    double[] sq = new double[r];
    double total = 0;
    for (int i = 0; i < r; i++) {
      sq[i] = Math.pow(decay, i);
      total += sq[i];
    }
    return new LayerSpectrum(name, m, n, sq, total);
  }

  @Test
  void breakEvenAndUniformRanksFollowTheSvdLlmConvention() {
    assertThat(RankRule.breakEven(384, 384)).isEqualTo(192.0);
    assertThat(RankRule.maxUsefulRank(384, 384)).isEqualTo(191);
    assertThat(RankRule.maxUsefulRank(384, 1536)).isEqualTo(307);
    // 20% removed = 80% kept: floor(384*384*0.8/768)
    assertThat(RankRule.uniformRank(384, 384, 0.2)).isEqualTo(153);
    assertThat(RankRule.uniformRank(1536, 384, 0.4)).isEqualTo(184);
  }

  @Test
  void fixedRankOutOfRangeOrAtBreakEvenIsRefusedNamingTheKey() {
    List<LayerSpectrum> l = List.of(layer("a", 24, 16, 0.9));
    assertThatThrownBy(() -> new RankRule(Allocation.FIXED, 0.2, 0.9, 0))
        .isInstanceOf(InvalidConfigException.class)
        .hasMessage("rank must be >= 1, found 0");
    assertThatThrownBy(() -> RankAllocator.allocate(new RankRule(Allocation.FIXED, 0, 0, 17), l))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("rank must be in [1, min(m, n)] = [1, 16] for layer 'a' (24x16)");
    assertThatThrownBy(() -> RankAllocator.allocate(new RankRule(Allocation.FIXED, 0, 0, 10), l))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("rank 10 would not reduce the parameters of layer 'a' (24x16)")
        .hasMessageContaining("break-even rank is m*n/(m+n) = 9.6, use rank <= 9");
  }

  @Test
  void aRatioThatWouldNotReduceParametersIsRefused() {
    assertThatThrownBy(() -> new RankRule(Allocation.UNIFORM, 0, 0, 0))
        .hasMessageContaining("parametersRemoved must be in (0, 1)")
        .hasMessageContaining("not kept")
        .hasMessageContaining("break-even rank m*n/(m+n)");
    assertThatThrownBy(() -> new RankRule(Allocation.GLOBAL, -0.2, 0, 0))
        .hasMessageContaining("found -0.2: it would not reduce parameters");
  }

  @Test
  void globalAllocationMeetsTheBudgetWithLessLossThanUniform() throws Exception {
    // a fast-decaying and a flat spectrum: global gives the flat one more rank
    List<LayerSpectrum> l =
        List.of(
            layer("fast", 64, 64, 0.7), layer("flat", 64, 64, 0.99), layer("mid", 64, 128, 0.95));
    double removed = 0.4;
    List<RankAllocator.Decision> g =
        RankAllocator.allocate(new RankRule(Allocation.GLOBAL, removed, 0, 0), l);
    List<RankAllocator.Decision> u =
        RankAllocator.allocate(new RankRule(Allocation.UNIFORM, removed, 0, 0), l);
    double dense = 0;
    double pg = 0;
    double pu = 0;
    double lg = 0;
    double lu = 0;
    for (int i = 0; i < l.size(); i++) {
      LayerSpectrum s = l.get(i);
      dense += s.dense();
      pg += g.get(i).rank() == 0 ? s.dense() : s.factored(g.get(i).rank());
      pu += s.factored(u.get(i).rank());
      lg += g.get(i).rank() == 0 ? 0 : s.relativeLoss(g.get(i).rank());
      lu += s.relativeLoss(u.get(i).rank());
    }
    assertThat(pg).isLessThanOrEqualTo((1 - removed) * dense);
    assertThat(pg).isGreaterThan((1 - removed) * dense - 192); // budget spent to one rank step
    assertThat(lg).isLessThan(lu);
    // the flat spectrum costs most to truncate: it keeps more rank, or stays dense
    assertThat(g.get(1).rank() == 0 || g.get(1).rank() > g.get(0).rank()).isTrue();
  }

  @Test
  void energyKeepsTheFractionOrLeavesTheLayerDense() throws Exception {
    List<LayerSpectrum> l = List.of(layer("fast", 64, 64, 0.5), layer("flat", 64, 64, 0.999));
    List<RankAllocator.Decision> d =
        RankAllocator.allocate(new RankRule(Allocation.ENERGY, 0, 0.9, 0), l);
    assertThat(d.get(0).rank()).isEqualTo(4); // 1 - 0.5^4 = 0.9375 >= 0.9 > 0.875
    assertThat(d.get(1).rank()).isZero();
    assertThat(d.get(1).reason()).contains("not below the break-even rank 32.0");
  }
}
