package dev.compress.distillation.distill;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.onnx.OnnxReader;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.tensor.Tensor;
import dev.compress.training.ParameterSelection;
import dev.compress.training.TensorNd;
import dev.compress.training.TrainableFactory;
import dev.compress.training.TrainableModel;
import dev.compress.training.data.BatchSource;
import dev.compress.training.data.TensorExamples;
import dev.compress.training.loop.StepLoss;
import dev.compress.training.loop.TrainConfig;
import dev.compress.training.loop.TrainResult;
import dev.compress.training.loop.Trainer;
import dev.compress.training.loop.TrainingDivergedException;
import dev.compress.training.loop.Validation;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;

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
 *   <li>Loss: the {@link LossTerm}s, each checked against both models before training ({@link
 *       LossPlan}).
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
    CalibrationSet data =
        context
            .calibration()
            .orElseThrow(
                () ->
                    new ConfigException(
                        "distill needs training data: add a calibration block (calibration:"
                            + " {kind: text, source: FILE}); its samples are the training"
                            + " sentences"));
    ModelGraph teacher = teacher(context);
    LossPlan plan =
        LossPlan.resolve(config.losses(), model, teacher, data.batches().get(0).keySet());

    TrainableFactory engines = TrainableFactory.installedDefault();
    ParameterSelection trained =
        config.selection().equals(LayerSelection.ALL)
            ? ParameterSelection.all()
            : ParameterSelection.linear(config.selection());
    try (TrainableModel frozen =
            engines.create(teacher, ParameterSelection.none(), context.device());
        TrainableModel student = engines.create(model, trained, context.device())) {
      long t0 = System.nanoTime();
      TensorExamples examples = withTeacherValues(frozen, data, plan);
      double teacherSeconds = (System.nanoTime() - t0) / 1e9;
      int[][] split = split(examples.size(), context.random("distill/split"));
      BatchSource train = Subset.of(examples, split[0]);
      BatchSource held = Subset.of(examples, split[1]);
      int perEpoch = train.size() / config.batchSize();
      int steps = config.steps().orElse(config.epochs() * perEpoch);
      boolean validate = held.size() > 0;
      TrainConfig tc =
          TrainConfig.builder()
              .optSteps(steps)
              .optBatchSize(config.batchSize())
              .optLr(config.lr())
              .optWeightDecay(config.weightDecay())
              .optWarmup(config.warmup())
              .optClipNorm(config.clipNorm())
              .optSeed(context.random("distill/shuffle").nextLong())
              .optEvalEvery(
                  validate ? config.validateEvery().orElse(Math.max(1, (steps + 4) / 5)) : 0)
              .optRestoreBest(true)
              .build();
      StepLoss loss =
          (m, nd, batch) ->
              plan.loss(nd, m.forward(nd, inputs(m, batch), plan.studentValues()), batch);
      Validation v = Validation.minimizing(m -> meanLoss(m, held, plan));
      double before = validate ? meanLoss(student, held, plan) : Double.NaN;
      TrainResult r;
      try {
        r =
            new Trainer(tc, context.progress())
                .fit(student, train, loss, validate ? Optional.of(v) : Optional.empty());
      } catch (TrainingDivergedException e) {
        throw new CompressionException(
            "distill: "
                + e.getMessage()
                + "; nothing was written (the student is unchanged). HINT: lower lr (found "
                + config.lr()
                + ") or clipNorm",
            e);
      }
      student.writeTo(model);

      Map<String, Double> metrics = new LinkedHashMap<>();
      metrics.put("steps", (double) r.steps());
      metrics.put("loss_first", r.history().isEmpty() ? Double.NaN : r.history().get(0).loss());
      metrics.put("loss_last", r.finalLoss());
      metrics.put("validation_loss_before", before);
      metrics.put("validation_loss_best", r.bestMetric().orElse(Double.NaN));
      metrics.put("best_step", (double) r.bestStep());
      metrics.put("train_examples", (double) train.size());
      metrics.put("validation_examples", (double) held.size());
      long params = 0;
      long bytes = 0;
      List<String> touched = new ArrayList<>();
      for (var p : student.parameters()) {
        params += p.size();
        touched.add(p.name());
        bytes += model.graph().initializers().get(p.name()).byteSize();
      }
      metrics.put("parameters_trained", (double) params);
      metrics.put("teacher_seconds", teacherSeconds);
      metrics.put("train_seconds", r.seconds());
      return new PassReport(
          DistillProvider.TYPE,
          touched,
          List.of(),
          bytes,
          bytes,
          metrics,
          Duration.ofNanos(System.nanoTime() - start));
    }
  }

  private ModelGraph teacher(PassContext context) throws CompressionException {
    if (config.teacher().isPresent()) {
      Path file = Path.of(config.teacher().get());
      try {
        return OnnxReader.read(file);
      } catch (IOException e) {
        throw new ConfigException("teacher: cannot read " + file + ": " + e.getMessage());
      }
    }
    return context
        .teacher()
        .orElseThrow(
            () ->
                new ConfigException(
                    "teacher: none given and no pipeline teacher in the context; give teacher:"
                        + " FILE, or run distill in a pipeline (its input model is the teacher)"));
  }

  /** The calibration examples, each with the teacher's values as {@code teacher/VALUE}. */
  private static TensorExamples withTeacherValues(
      TrainableModel teacher, CalibrationSet data, LossPlan plan) throws CompressionException {
    List<Map<String, Tensor>> batches = new ArrayList<>();
    for (Map<String, Tensor> b : data.batches()) {
      Map<String, Tensor> withT = new LinkedHashMap<>(b);
      try (NDManager nd = teacher.newManager()) {
        Map<String, NDArray> in = new LinkedHashMap<>();
        for (String name : teacher.inputNames()) {
          Tensor t = b.get(name);
          if (t == null) {
            throw new ConfigException(
                "teacher input '" + name + "' is not in the training data " + b.keySet());
          }
          in.put(name, TensorNd.toNd(t, nd));
        }
        Map<String, NDArray> out = teacher.forward(nd, in, plan.teacherValues());
        for (String v : plan.teacherValues()) {
          withT.put(LossPlan.TEACHER + v, TensorNd.toTensor(LossPlan.TEACHER + v, out.get(v)));
        }
      }
      batches.add(withT);
    }
    return TensorExamples.fromBatches(batches);
  }

  /** A seeded permutation cut into training and held-out indices. */
  private int[][] split(int n, SplittableRandom random) throws ConfigException {
    int held =
        config.validationFraction() == 0
            ? 0
            : (int) Math.max(1, Math.round(n * config.validationFraction()));
    if (n - held < config.batchSize()) {
      throw new ConfigException(
          "batchSize "
              + config.batchSize()
              + " is more than the "
              + (n - held)
              + " training examples ("
              + n
              + " calibration samples, "
              + held
              + " held out); lower batchSize or add calibration samples");
    }
    int[] perm = new int[n];
    for (int i = 0; i < n; i++) {
      perm[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    int[] v = java.util.Arrays.copyOfRange(perm, 0, held);
    int[] t = java.util.Arrays.copyOfRange(perm, held, n);
    java.util.Arrays.sort(v);
    java.util.Arrays.sort(t);
    return new int[][] {t, v};
  }

  /** The mean loss over {@code held} in batches, outside any gradient recording. */
  private double meanLoss(TrainableModel m, BatchSource held, LossPlan plan)
      throws CompressionException {
    double sum = 0;
    int n = 0;
    for (int from = 0; from < held.size(); from += config.batchSize()) {
      int to = Math.min(held.size(), from + config.batchSize());
      int[] idx = new int[to - from];
      for (int i = 0; i < idx.length; i++) {
        idx[i] = from + i;
      }
      try (NDManager nd = m.newManager()) {
        Map<String, NDArray> batch = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : held.batch(idx).entrySet()) {
          batch.put(e.getKey(), TensorNd.toNd(e.getValue(), nd));
        }
        NDArray l = plan.loss(nd, m.forward(nd, inputs(m, batch), plan.studentValues()), batch);
        sum += l.getFloat() * idx.length;
        n += idx.length;
      }
    }
    return sum / n;
  }

  private static Map<String, NDArray> inputs(TrainableModel m, Map<String, NDArray> batch) {
    Map<String, NDArray> in = new LinkedHashMap<>();
    for (String name : m.inputNames()) {
      NDArray a = batch.get(name);
      if (a != null) {
        in.put(name, a);
      }
    }
    return in;
  }

  /** The examples of {@code base} at {@code indices}, in that order. */
  private record Subset(BatchSource base, int[] indices) implements BatchSource {
    static Subset of(BatchSource base, int[] indices) {
      return new Subset(base, indices);
    }

    @Override
    public int size() {
      return indices.length;
    }

    @Override
    public Map<String, Tensor> batch(int[] which) {
      int[] mapped = new int[which.length];
      for (int i = 0; i < which.length; i++) {
        mapped[i] = indices[which[i]];
      }
      return base.batch(mapped);
    }
  }
}
