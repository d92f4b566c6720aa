package dev.compress.distillation.distill;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.calibration.CalibrationIdentity;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.graph.GraphCheck;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.onnx.OnnxWriter;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.pass.ProgressListener;
import dev.compress.api.tensor.Tensor;
import dev.compress.distillation.layerdrop.LayerDropConfig;
import dev.compress.distillation.layerdrop.LayerDropPass;
import dev.compress.fixtures.TinyBert;
import dev.compress.runtime.ort.OrtExecutor;
import dev.compress.runtime.text.SentenceEmbeddings;
import dev.compress.training.distill.LossTerm;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The distill pass on a tiny encoder: a dropped-layer student gets closer to its teacher. */
class DistillPassTest {
  private static final int DIM = 8;
  @TempDir Path dir;

  private static CalibrationSet data(int batches, long seed) {
    List<Map<String, Tensor>> b = new ArrayList<>();
    for (int i = 0; i < batches; i++) {
      b.add(TinyBert.inputs(seed + i, 8, 6, 2));
    }
    return new CalibrationSet(
        b, new CalibrationIdentity("synthetic", "tensors", batches * 8, 6, 0, false, "-"));
  }

  private static ModelGraph student(ModelGraph teacher) throws CompressionException {
    ModelGraph s = teacher.copy();
    new LayerDropPass(LayerDropConfig.keeping(0, 2)).apply(s, PassContext.of(0));
    return s;
  }

  private static PassContext context(ModelGraph teacher, CalibrationSet data) {
    return new PassContext(7, Optional.of(data), Optional.of(teacher), ProgressListener.NONE);
  }

  @Test
  void distillationBringsADroppedLayerStudentCloserToTheTeacher() throws Exception {
    ModelGraph teacher = TinyBert.build(4, DIM, 3);
    ModelGraph student = student(teacher);
    double before = heldOutCosine(teacher, student);
    DistillConfig c =
        DistillConfig.defaults()
            .withLosses(List.of(LossTerm.of(LossTerm.Kind.EMBEDDING_MSE)))
            .withSchedule(3e-2, 50)
            .withValidation(0.1, 10);
    c = c.toBuilder().batchSize(16).epochs(1).weightDecay(0.0).build();
    PassReport r = new DistillPass(c).apply(student, context(teacher, data(12, 100)));
    double after = heldOutCosine(teacher, student);
    System.out.printf(
        "[distill tiny] held-out cosine %.4f -> %.4f, loss %.4f -> %.4f, validation %.4f -> %.4f%n",
        before,
        after,
        r.metrics().get("loss_first"),
        r.metrics().get("loss_last"),
        r.metrics().get("validation_loss_before"),
        r.metrics().get("validation_loss_best"));
    assertThat(GraphCheck.errors(student)).isEmpty();
    assertThat(r.metrics().get("steps")).isEqualTo(50.0);
    assertThat(r.metrics().get("validation_loss_best"))
        .isLessThan(0.5 * r.metrics().get("validation_loss_before")); // measured 1.29 -> 0.08
    assertThat(after).isGreaterThan(before + 0.3); // measured 0.376 -> 0.937
    assertThat(r.layersTouched()).contains("word_embeddings", "encoder.layer.2.ff2.weight");
  }

  @Test
  void aLayerMapOutOfRangeIsRefusedBeforeTraining() throws Exception {
    ModelGraph teacher = TinyBert.build(4, DIM, 3);
    ModelGraph student = student(teacher);
    Tensor w = student.graph().initializers().get("word_embeddings");
    LossTerm hidden =
        new LossTerm(
            LossTerm.Kind.HIDDEN_MSE,
            Optional.empty(),
            Optional.empty(),
            Optional.empty(),
            Optional.empty(),
            Optional.of(List.of(1, 9)));
    assertThatThrownBy(
            () ->
                new DistillPass(DistillConfig.defaults().withLosses(List.of(hidden)))
                    .apply(student, context(teacher, data(8, 1))))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "losses[0].layerMap[1] = 9 is out of range: the teacher has 4 transformer blocks"
                + " (blocks 0..3)");
    LossTerm tooMany =
        new LossTerm(
            LossTerm.Kind.HIDDEN_COSINE,
            Optional.empty(),
            Optional.empty(),
            Optional.empty(),
            Optional.empty(),
            Optional.of(List.of(0, 1, 3)));
    assertThatThrownBy(
            () ->
                new DistillPass(DistillConfig.defaults().withLosses(List.of(tooMany)))
                    .apply(student, context(teacher, data(8, 1))))
        .hasMessage("losses[0].layerMap has 3 entries, but the student has 2 transformer blocks");
    assertThat(student.graph().initializers().get("word_embeddings")).isSameAs(w);
  }

  @Test
  void anOutputNeitherModelHasAndMissingLabelsAreNamed() throws Exception {
    ModelGraph teacher = TinyBert.build(4, DIM, 3);
    ModelGraph student = student(teacher);
    LossTerm logits =
        new LossTerm(
            LossTerm.Kind.SOFT_TARGETS,
            Optional.empty(),
            Optional.of("logits"),
            Optional.empty(),
            Optional.empty(),
            Optional.empty());
    LossTerm labelled =
        new LossTerm(
            LossTerm.Kind.SOFT_TARGETS,
            Optional.empty(),
            Optional.of("pooler_output"),
            Optional.of(2.0),
            Optional.of(0.5),
            Optional.empty());
    assertThatThrownBy(
            () ->
                new DistillPass(DistillConfig.defaults().withLosses(List.of(logits, labelled)))
                    .apply(student, context(teacher, data(8, 1))))
        .isInstanceOf(ConfigException.class)
        .satisfies(
            e ->
                assertThat(((ConfigException) e).problems())
                    .containsExactly(
                        "losses[0].output 'logits' is not an output of the student:"
                            + " [last_hidden_state, pooler_output]",
                        "losses[1].hardLabelWeight 0.5 needs labels, and the training data has"
                            + " none (it holds [input_ids, attention_mask]); set it to 0 or use"
                            + " labelled data (images: calibration.labels: FILE)"));
  }

  @Test
  void aStudentWhoseOutputShapeDiffersFromTheTeachersIsNamed() throws Exception {
    ModelGraph teacher = TinyBert.build(2, 12, 3);
    Path file = dir.resolve("wide-teacher.onnx");
    OnnxWriter.write(teacher, file);
    ModelGraph student = TinyBert.build(2, DIM, 3);
    assertThatThrownBy(
            () ->
                new DistillPass(DistillConfig.defaults().withTeacher(file.toString()))
                    .apply(student, context(teacher, data(8, 1))))
        .isInstanceOf(ConfigException.class)
        // the held-out loss before training runs first: its batch holds the 6 held-out examples
        .hasMessage(
            "losses[0] (embedding-mse): student hidden state (6, 6, 8) and teacher hidden state"
                + " (6, 6, 12) differ in shape");
  }

  @Test
  void aNanLossStopsNamingTheUpdateAndWritesNothing() throws Exception {
    ModelGraph teacher = TinyBert.build(4, DIM, 3);
    ModelGraph student = student(teacher);
    Tensor w = student.graph().initializers().get("word_embeddings");
    float[] v = w.toFloatArray();
    Arrays.fill(v, Float.NaN); // every token: the first update diverges
    student.graph().putInitializer(Tensor.ofFloats("word_embeddings", w.shape(), v));
    Tensor poisoned = student.graph().initializers().get("word_embeddings");
    Tensor untouched = student.graph().initializers().get("encoder.layer.0.q.weight");
    assertThatThrownBy(
            () ->
                new DistillPass(DistillConfig.defaults().withValidation(0, 1))
                    .apply(student, context(teacher, data(8, 1))))
        .isInstanceOf(CompressionException.class)
        .hasMessageStartingWith("distill: ")
        .hasMessageContaining("update 1")
        .hasMessageContaining("nothing was written");
    assertThat(student.graph().initializers().get("word_embeddings")).isSameAs(poisoned);
    assertThat(student.graph().initializers().get("encoder.layer.0.q.weight")).isSameAs(untouched);
  }

  /** Mean cosine of the pooled embeddings on held-out inputs, in ONNX Runtime. */
  private double heldOutCosine(ModelGraph teacher, ModelGraph student) throws Exception {
    Path t = dir.resolve("t.onnx");
    Path s = dir.resolve("s.onnx");
    OnnxWriter.write(teacher, t);
    OnnxWriter.write(student, s);
    double sum = 0;
    int n = 0;
    try (OrtExecutor te = OrtExecutor.builder().setModelPath(t).optIntraOpThreads(1).build();
        OrtExecutor st = OrtExecutor.builder().setModelPath(s).optIntraOpThreads(1).build()) {
      for (int i = 0; i < 4; i++) {
        Map<String, Tensor> in = TinyBert.inputs(9000 + i, 8, 6, 2);
        float[][] a =
            SentenceEmbeddings.embed(
                te.forward(in, Set.of()).outputs().get("last_hidden_state"),
                in.get("attention_mask"));
        float[][] b =
            SentenceEmbeddings.embed(
                st.forward(in, Set.of()).outputs().get("last_hidden_state"),
                in.get("attention_mask"));
        for (int r = 0; r < a.length; r++) {
          double dot = 0;
          for (int k = 0; k < a[r].length; k++) {
            dot += a[r][k] * b[r][k];
          }
          sum += dot;
          n++;
        }
      }
    }
    return sum / n;
  }
}
