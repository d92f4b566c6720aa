package dev.compress.distillation.distill;

import dev.compress.api.CompressionException;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.training.ParameterSelection;
import dev.compress.training.distill.TeacherStudent;
import java.time.Duration;
import java.util.List;

/**
 * Teacher-student distillation of the pipeline's current model (Hinton et al. 2015; as a student
 * builder's second half: Sanh et al. 2019, DistilBERT; Reimers and Gurevych 2020,
 * sentence-transformers' layer reduction).
 *
 * <ol>
 *   <li>Teacher: the {@code teacher} file, else the pipeline's input model ({@link
 *       PassContext#teacher()}). Student: the model as the earlier passes left it (layers dropped,
 *       pruned, factorized or quantized).
 *   <li>Data: the calibration samples, split once (seeded) into training examples and a held-out
 *       {@code validationFraction}; they are never the evaluation's held-out sentences (separate
 *       files). The teacher runs once per example (frozen) and its values travel with the example.
 *   <li>Loss: the {@link dev.compress.training.distill.LossTerm}s, each checked against both models
 *       before training ({@link dev.compress.training.distill.LossPlan}).
 *   <li>Training: the training module's {@link Trainer} (AdamW, warmup and cosine decay, global
 *       norm clipping, seeded shuffling, validation loss every {@code validateEvery} updates, the
 *       best weights restored).
 *   <li>Write-back: the trained initializers replace the student's, each in its stored type.
 * </ol>
 *
 * <p>Nothing is written when the run fails: a NaN or infinite loss stops it naming the update, a
 * shape mismatch between student and teacher names the loss term.
 *
 * <p>Report metrics: {@code steps}, {@code loss_first}, {@code loss_last}, {@code
 * validation_loss_before}, {@code validation_loss_best}, {@code best_step}, {@code train_examples},
 * {@code validation_examples}, {@code parameters_trained}, {@code teacher_seconds}, {@code
 * train_seconds}.
 */
public final class DistillPass implements Pass<DistillConfig> {
  private final DistillConfig config;

  /** A pass for a validated config. */
  public DistillPass(DistillConfig config) {
    this.config = config;
  }

  @Override
  public DistillConfig config() {
    return config;
  }

  @Override
  public PassReport apply(ModelGraph model, PassContext context) throws CompressionException {
    long start = System.nanoTime();
    ModelGraph teacher = TeacherStudent.teacher(config.teacher(), context);
    ParameterSelection trained =
        config.selection().equals(LayerSelection.ALL)
            ? ParameterSelection.all()
            : ParameterSelection.linear(config.selection());
    TeacherStudent.Outcome o =
        TeacherStudent.train(
            DistillProvider.TYPE,
            model,
            teacher,
            trained,
            config.losses(),
            config.settings(),
            context);
    return new PassReport(
        DistillProvider.TYPE,
        o.trained(),
        List.of(),
        o.bytes(),
        o.bytes(),
        o.metrics(),
        Duration.ofNanos(System.nanoTime() - start));
  }
}
