package dev.compress.api.io.hf;

/**
 * Rotary position embedding frequencies (Su et al. 2021, "RoFormer"), with the {@code rope_scaling}
 * variants that only rescale the inverse frequencies: none ({@code default}), {@code linear}
 * (position interpolation, Chen et al. 2023) and {@code llama3} (per-wavelength blend, as in
 * Transformers' {@code _compute_llama3_parameters}). Variants that also scale the attention
 * (dynamic NTK, YaRN, LongRoPE) are rejected when the config is read.
 *
 * @param type {@code default}, {@code linear} or {@code llama3}
 * @param factor the scaling factor (1 for {@code default})
 * @param lowFreqFactor llama3's {@code low_freq_factor}
 * @param highFreqFactor llama3's {@code high_freq_factor}
 * @param originalMaxPositions llama3's {@code original_max_position_embeddings}
 */
public record RopeScaling(
    String type,
    double factor,
    double lowFreqFactor,
    double highFreqFactor,
    long originalMaxPositions) {

  /** No scaling. */
  public static final RopeScaling NONE = new RopeScaling("default", 1, 0, 0, 0);

  /**
   * The {@code rotaryDim / 2} inverse frequencies {@code 1 / theta^(2i / rotaryDim)}, scaled as
   * {@link #type} says; computed in double, rounded once to f32 (Transformers computes them in
   * f32).
   */
  public float[] inverseFrequencies(double theta, int rotaryDim) {
    float[] out = new float[rotaryDim / 2];
    for (int i = 0; i < out.length; i++) {
      // Transformers: 1.0 / (base ** (torch.arange(0, dim, 2).float() / dim)), in f32.
      float inv = (float) (1.0 / Math.pow(theta, (float) (2 * i) / rotaryDim));
      out[i] =
          switch (type) {
            case "linear" -> (float) (inv / factor);
            case "llama3" -> llama3(inv);
            default -> inv;
          };
    }
    return out;
  }

  private float llama3(float inv) {
    double lowWavelen = originalMaxPositions / lowFreqFactor;
    double highWavelen = originalMaxPositions / highFreqFactor;
    double wavelen = 2 * Math.PI / inv;
    if (wavelen < highWavelen) {
      return inv;
    }
    if (wavelen > lowWavelen) {
      return (float) (inv / factor);
    }
    double smooth =
        (originalMaxPositions / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
    return (float) ((1 - smooth) * inv / factor + smooth * inv);
  }
}
