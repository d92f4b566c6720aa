package dev.compress.lowrank.lora;

import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.Param;
import dev.compress.api.pass.PassConfig;
import dev.compress.api.pass.RecordBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Configuration of {@link LoraMergePass}, validated at construction.
 *
 * @param adapter the PEFT adapter: its folder (holding {@code adapter_config.json} and {@code
 *     adapter_model.safetensors}) or either file of it; required when the pass runs
 */
public record LoraMergeConfig(
    @Param(
            "the PEFT LoRA adapter to merge: its folder (adapter_config.json and"
                + " adapter_model.safetensors) or either of those files")
        Optional<String> adapter)
    implements PassConfig {

  /** Validates the field. */
  public LoraMergeConfig {
    adapter = adapter == null ? Optional.empty() : adapter;
    List<String> p = new ArrayList<>();
    if (adapter.isPresent() && adapter.get().isBlank()) {
      p.add("adapter must name a PEFT adapter folder, found '" + adapter.get() + "'");
    }
    InvalidConfigException.throwIfAny(p);
  }

  /** No adapter (the pass refuses to run until one is given). */
  public static LoraMergeConfig defaults() {
    return new LoraMergeConfig(Optional.empty());
  }

  /** A config merging {@code folder}. */
  public static LoraMergeConfig of(String folder) {
    return builder().adapter(folder).build();
  }

  @Override
  public LayerSelection selection() {
    return LayerSelection.ALL;
  }

  /** A builder starting from {@link #defaults()}. */
  public static Builder builder() {
    return new Builder(defaults());
  }

  /** A builder starting from this config. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** Builds a {@link LoraMergeConfig}, validated at {@link #build()}. */
  public static final class Builder extends RecordBuilder<LoraMergeConfig, Builder> {
    private Builder(LoraMergeConfig start) {
      super(start);
    }

    /** Sets {@link LoraMergeConfig#adapter() adapter}. */
    public Builder adapter(String v) {
      return set("adapter", Optional.of(v));
    }
  }
}
