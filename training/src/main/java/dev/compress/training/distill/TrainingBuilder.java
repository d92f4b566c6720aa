package dev.compress.training.distill;

import dev.compress.api.pass.PassConfig;
import dev.compress.api.pass.SelectionBuilder;
import java.util.List;
import java.util.Optional;

/**
 * The builder base of the configs that train through {@link TeacherStudent} ({@code distill},
 * {@code lora}, {@code qat}): one setter per training key those configs share ({@code teacher},
 * {@code losses} and the {@link TeacherStudent.Settings} keys). A subclass adds its own keys.
 *
 * @param <R> the config built
 * @param <B> the concrete builder, returned by the setters
 */
public abstract class TrainingBuilder<
        R extends Record & PassConfig, B extends TrainingBuilder<R, B>>
    extends SelectionBuilder<R, B> {

  /** A builder holding the values of {@code start}. */
  protected TrainingBuilder(R start) {
    super(start);
  }

  /** Sets {@code teacher}: an ONNX file to learn from. */
  public B teacher(String v) {
    return set("teacher", Optional.of(v));
  }

  /** Sets {@code losses}. */
  public B losses(LossTerm... v) {
    return set("losses", List.of(v));
  }

  /** Sets {@code lr}. */
  public B lr(double v) {
    return set("lr", v);
  }

  /** Sets {@code batchSize}. */
  public B batchSize(int v) {
    return set("batchSize", v);
  }

  /** Sets {@code epochs}. */
  public B epochs(int v) {
    return set("epochs", v);
  }

  /** Sets {@code steps}. */
  public B steps(int v) {
    return set("steps", Optional.of(v));
  }

  /** Sets {@code warmup}. */
  public B warmup(double v) {
    return set("warmup", v);
  }

  /** Sets {@code weightDecay}. */
  public B weightDecay(double v) {
    return set("weightDecay", v);
  }

  /** Sets {@code clipNorm}. */
  public B clipNorm(double v) {
    return set("clipNorm", v);
  }

  /** Sets {@code validationFraction}. */
  public B validationFraction(double v) {
    return set("validationFraction", v);
  }

  /** Sets {@code validateEvery}. */
  public B validateEvery(int v) {
    return set("validateEvery", Optional.of(v));
  }
}
