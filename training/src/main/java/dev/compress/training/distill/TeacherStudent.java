package dev.compress.training.distill;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.onnx.OnnxReader;
import dev.compress.api.pass.PassContext;
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
import dev.compress.training.loop.TrainingHook;
import dev.compress.training.loop.Validation;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * One teacher-student training run of a pass: the student (the pipeline's current model, possibly
 * with adapters or fake quantization inserted) learns the frozen teacher's values on the
 * calibration samples.
 *
 * <ol>
 *   <li>Data: the calibration samples, split once (seeded by the pass name) into training examples
 *       and a held-out {@link Settings#validationFraction}; they are never the evaluation's
 *       held-out sentences (separate files). The teacher runs once per example and its values
 *       travel with the example ({@link LossPlan#TEACHER}).
 *   <li>Loss: the {@link LossTerm}s, checked against both models before training ({@link
 *       LossPlan}).
 *   <li>Training: {@link Trainer} (AdamW, warmup and cosine decay, global-norm clipping, seeded
 *       shuffling, validation loss every {@code validateEvery} updates, the best weights restored).
 *   <li>Write-back: the trained initializers replace the student's, each in its stored type, unless
 *       no validation beat the starting weights: those are then kept (metric {@code kept_start} 1),
 *       so a too high learning rate cannot leave the student worse than it was.
 * </ol>
 *
 * <p>Nothing is written to the student when the run fails: a NaN or infinite loss stops it naming
 * the update and the pass, a shape mismatch names the loss term.
 */
public final class TeacherStudent {
  private TeacherStudent() {}

  /**
   * The training settings of a run, as the pass config gives them (validated there).
   *
   * @param lr the peak learning rate
   * @param batchSize examples per update
   * @param epochs passes over the training examples when {@code steps} is empty
   * @param steps updates, overriding {@code epochs}
   * @param warmup the warmup fraction of the updates
   * @param weightDecay AdamW's decoupled weight decay
   * @param clipNorm the global gradient norm bound
   * @param validationFraction the held-out fraction of the samples (0: no validation)
   * @param validateEvery updates between validations; empty: five validations per run
   */
  public record Settings(
      double lr,
      int batchSize,
      int epochs,
      Optional<Integer> steps,
      double warmup,
      double weightDecay,
      double clipNorm,
      double validationFraction,
      Optional<Integer> validateEvery) {

    /**
     * What is wrong with these settings, one line per key as a pass config reports it ({@code lr
     * must be > 0, found 0}); empty when they are valid. The configs of {@code distill}, {@code
     * lora} and {@code qat} check their training keys with it.
     */
    public List<String> problems() {
      List<String> p = new ArrayList<>();
      if (!(lr > 0) || Double.isInfinite(lr)) {
        p.add("lr must be > 0, found " + lr);
      }
      if (batchSize < 1) {
        p.add("batchSize must be >= 1, found " + batchSize);
      }
      if (epochs < 1) {
        p.add("epochs must be >= 1, found " + epochs);
      }
      if (steps != null && steps.isPresent() && steps.get() < 1) {
        p.add("steps must be >= 1, found " + steps.get());
      }
      if (!(warmup >= 0 && warmup < 1)) {
        p.add("warmup must be in [0, 1), found " + warmup);
      }
      if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
        p.add("weightDecay must be >= 0, found " + weightDecay);
      }
      if (!(clipNorm >= 0) || Double.isInfinite(clipNorm)) {
        p.add("clipNorm must be > 0, or 0 for no clipping, found " + clipNorm);
      }
      if (!(validationFraction >= 0 && validationFraction <= 0.5)) {
        p.add("validationFraction must be in [0, 0.5], found " + validationFraction);
      }
      if (validateEvery != null && validateEvery.isPresent() && validateEvery.get() < 1) {
        p.add("validateEvery must be >= 1, found " + validateEvery.get());
      }
      return p;
    }
  }

  /**
   * What a run did: the trainer's result, the report metrics ({@code steps}, {@code loss_first},
   * {@code loss_last}, {@code validation_loss_before}, {@code validation_loss_best}, {@code
   * best_step}, {@code train_examples}, {@code validation_examples}, {@code parameters_trained},
   * {@code teacher_seconds}, {@code train_seconds}), the trained initializers and their bytes.
   */
  public record Outcome(
      TrainResult result, Map<String, Double> metrics, List<String> trained, long bytes) {}

  /**
   * The teacher: {@code file} when given, else the pipeline's input model.
   *
   * @throws ConfigException when the file cannot be read or there is no pipeline teacher
   */
  public static ModelGraph teacher(Optional<String> file, PassContext context)
      throws CompressionException {
    if (file.isPresent()) {
      Path p = Path.of(file.get());
      try {
        return OnnxReader.read(p);
      } catch (IOException e) {
        throw new ConfigException("teacher: cannot read " + p + ": " + e.getMessage());
      }
    }
    return context
        .teacher()
        .orElseThrow(
            () ->
                new ConfigException(
                    "teacher: none given and no pipeline teacher in the context; give teacher:"
                        + " FILE, or run the pass in a pipeline (its input model is the teacher)"));
  }

  /**
   * Trains {@code trained} of {@code student} against {@code teacher} and writes the result into
   * {@code student}'s initializers.
   *
   * @param pass the pass type: it names the random streams ({@code PASS/split}, {@code
   *     PASS/shuffle}) and the errors
   * @throws ConfigException without calibration data, or when the loss terms do not resolve
   * @throws CompressionException when training diverges (the student is left unchanged)
   */
  public static Outcome train(
      String pass,
      ModelGraph student,
      ModelGraph teacher,
      ParameterSelection trained,
      List<LossTerm> losses,
      Settings settings,
      PassContext context)
      throws CompressionException {
    return train(pass, student, teacher, trained, losses, settings, context, TrainingHook.NONE);
  }

  /**
   * {@link #train(String, ModelGraph, ModelGraph, ParameterSelection, List, Settings, PassContext)}
   * calling {@code hook} at each update (the trainer's {@link TrainingHook}: its penalty is added
   * to the training loss, not to the validation loss).
   */
  public static Outcome train(
      String pass,
      ModelGraph student,
      ModelGraph teacher,
      ParameterSelection trained,
      List<LossTerm> losses,
      Settings settings,
      PassContext context,
      TrainingHook hook)
      throws CompressionException {
    CalibrationSet data =
        context
            .calibration()
            .orElseThrow(
                () ->
                    new ConfigException(
                        pass
                            + " needs training data: add a calibration block (calibration:"
                            + " {kind: text, source: FILE}, or {kind: images, source: FILE,"
                            + " labels: FILE}); its samples are the training examples"));
    LossPlan plan = LossPlan.resolve(losses, student, teacher, data.batches().get(0).keySet());
    TrainableFactory engines = TrainableFactory.installedDefault();
    try (TrainableModel frozen =
            engines.create(teacher, ParameterSelection.none(), context.device());
        TrainableModel model = engines.create(student, trained, context.device())) {
      long t0 = System.nanoTime();
      TensorExamples examples = withTeacherValues(frozen, data, plan);
      double teacherSeconds = (System.nanoTime() - t0) / 1e9;
      int[][] split = split(examples.size(), settings, context.random(pass + "/split"));
      BatchSource train = Subset.of(examples, split[0]);
      BatchSource held = Subset.of(examples, split[1]);
      int perEpoch = train.size() / settings.batchSize();
      int steps = settings.steps().orElse(settings.epochs() * perEpoch);
      boolean validate = held.size() > 0;
      TrainConfig tc =
          TrainConfig.builder()
              .optSteps(steps)
              .optBatchSize(settings.batchSize())
              .optLr(settings.lr())
              .optWeightDecay(settings.weightDecay())
              .optWarmup(settings.warmup())
              .optClipNorm(settings.clipNorm())
              .optSeed(context.random(pass + "/shuffle").nextLong())
              .optEvalEvery(
                  validate ? settings.validateEvery().orElse(Math.max(1, (steps + 4) / 5)) : 0)
              .optRestoreBest(true)
              .build();
      StepLoss loss =
          (m, nd, batch) ->
              plan.loss(nd, m.forward(nd, inputs(m, batch), plan.studentValues()), batch);
      Validation v = Validation.minimizing(m -> meanLoss(m, held, plan, settings.batchSize()));
      double before = validate ? meanLoss(model, held, plan, settings.batchSize()) : Double.NaN;
      TrainResult r;
      try {
        r =
            new Trainer(tc, context.progress())
                .withHook(hook)
                .fit(model, train, loss, validate ? Optional.of(v) : Optional.empty());
      } catch (TrainingDivergedException e) {
        throw new CompressionException(
            pass
                + ": "
                + e.getMessage()
                + "; nothing was written (the student is unchanged). HINT: lower lr (found "
                + settings.lr()
                + ") or clipNorm",
            e);
      }
      // The starting weights are a candidate too: when no validated state beat them (a too high
      // lr), the student stays as it was instead of taking the least bad trained state.
      boolean keptStart =
          validate && r.bestMetric().isPresent() && !(r.bestMetric().getAsDouble() < before);
      if (!keptStart) {
        model.writeTo(student);
      }

      Map<String, Double> metrics = new LinkedHashMap<>();
      metrics.put("steps", (double) r.steps());
      metrics.put("loss_first", r.history().isEmpty() ? Double.NaN : r.history().get(0).loss());
      metrics.put("loss_last", r.finalLoss());
      metrics.put("validation_loss_before", before);
      metrics.put("validation_loss_best", r.bestMetric().orElse(Double.NaN));
      metrics.put("best_step", (double) r.bestStep());
      metrics.put("kept_start", keptStart ? 1.0 : 0.0);
      metrics.put("train_examples", (double) train.size());
      metrics.put("validation_examples", (double) held.size());
      long params = 0;
      long bytes = 0;
      List<String> touched = new ArrayList<>();
      for (var p : model.parameters()) {
        params += p.size();
        touched.add(p.name());
        bytes += student.graph().initializers().get(p.name()).byteSize();
      }
      metrics.put("parameters_trained", (double) params);
      metrics.put("teacher_seconds", teacherSeconds);
      metrics.put("train_seconds", r.seconds());
      return new Outcome(r, metrics, touched, bytes);
    }
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
  private static int[][] split(int n, Settings settings, SplittableRandom random)
      throws ConfigException {
    int held =
        settings.validationFraction() == 0
            ? 0
            : (int) Math.max(1, Math.round(n * settings.validationFraction()));
    if (n - held < settings.batchSize()) {
      throw new ConfigException(
          "batchSize "
              + settings.batchSize()
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
    int[] v = Arrays.copyOfRange(perm, 0, held);
    int[] t = Arrays.copyOfRange(perm, held, n);
    Arrays.sort(v);
    Arrays.sort(t);
    return new int[][] {t, v};
  }

  /** The mean loss over {@code held} in batches, outside any gradient recording. */
  private static double meanLoss(TrainableModel m, BatchSource held, LossPlan plan, int batchSize)
      throws CompressionException {
    double sum = 0;
    int n = 0;
    for (int from = 0; from < held.size(); from += batchSize) {
      int to = Math.min(held.size(), from + batchSize);
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
