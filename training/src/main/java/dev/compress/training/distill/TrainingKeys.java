package dev.compress.training.distill;

import java.util.Optional;

/**
 * The training keys that every teacher-student pass config ({@code distill}, {@code lora}, {@code
 * adalora}, {@code dylora}, {@code qat}) declares as record components of these names, and the
 * {@link TeacherStudent.Settings} they make: a record implements the accessors by having the
 * components.
 */
public interface TrainingKeys {
  /** AdamW's peak learning rate. */
  double lr();

  /** Examples per update. */
  int batchSize();

  /** Passes over the training examples, unless {@link #steps()} is given. */
  int epochs();

  /** Number of updates; overrides {@link #epochs()}. */
  Optional<Integer> steps();

  /** Fraction of updates warming up. */
  double warmup();

  /** AdamW's decoupled weight decay. */
  double weightDecay();

  /** Global gradient-norm clip, or 0 for off. */
  double clipNorm();

  /** Fraction of the examples held out for validation. */
  double validationFraction();

  /** Updates between validations; empty: the default count per run. */
  Optional<Integer> validateEvery();

  /** The training settings of the run. */
  default TeacherStudent.Settings settings() {
    return new TeacherStudent.Settings(
        lr(),
        batchSize(),
        epochs(),
        steps(),
        warmup(),
        weightDecay(),
        clipNorm(),
        validationFraction(),
        validateEvery());
  }
}
