package dev.compress.training.loop;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.pass.ProgressListener;
import dev.compress.api.tensor.Tensor;
import dev.compress.training.GradientRecording;
import dev.compress.training.Parameter;
import dev.compress.training.TensorNd;
import dev.compress.training.TrainableModel;
import dev.compress.training.data.BatchSource;
import dev.compress.training.optim.GradClip;
import dev.compress.training.optim.LrSchedule;
import dev.compress.training.optim.Optimizer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Random;

/**
 * The training loop. One update ({@code step}):
 *
 * <ol>
 *   <li>zero every parameter's gradient (the PyTorch engine accumulates across backward calls);
 *   <li>for each of {@code accumulation} micro-batches, in a fresh manager: stack the next {@code
 *       batchSize} examples of the seeded shuffle, compute the {@link StepLoss}, stop on a NaN or
 *       infinite loss (naming the update), back-propagate {@code loss / accumulation};
 *   <li>measure the global gradient norm and clip it to {@code clipNorm};
 *   <li>update with the optimizer at the scheduled learning rate;
 *   <li>a {@link TrainingHook} ({@link #withHook}) is called around these ({@code beforeUpdate},
 *       {@code penalty} added to each micro-batch loss, {@code afterUpdate} with the gradients
 *       still held) and says which updates are validated;
 *   <li>every {@code evalEvery} updates (and after the last): validate, keep the best parameters
 *       (in memory and in {@code best/}), stop early after {@code patience} validations without
 *       improvement;
 *   <li>every {@code checkpointEvery} updates (and after the last): write the resumable checkpoint.
 * </ol>
 *
 * <p>Shuffling: epoch {@code e} visits the examples in a permutation drawn from a {@link Random}
 * seeded with {@code (seed, e)}, in consecutive batches of {@code batchSize} (an incomplete last
 * batch of an epoch is skipped); the position in this sequence is the RNG state a checkpoint keeps,
 * so a resumed run sees exactly the batches the uninterrupted run would have. Same seed, data and
 * machine give the same weights.
 */
public final class Trainer {
  private final TrainConfig config;
  private final ProgressListener progress;
  private final TrainingHook hook;

  /** A trainer for {@code config} reporting to {@code progress}. */
  public Trainer(TrainConfig config, ProgressListener progress) {
    this(config, progress, TrainingHook.NONE);
  }

  private Trainer(TrainConfig config, ProgressListener progress, TrainingHook hook) {
    this.config = config;
    this.progress = progress == null ? ProgressListener.NONE : progress;
    this.hook = hook == null ? TrainingHook.NONE : hook;
  }

  /** This trainer calling {@code hook} at each update ({@link TrainingHook} gives the order). */
  public Trainer withHook(TrainingHook hook) {
    return new Trainer(config, progress, hook);
  }

  /** Trains {@code model} on {@code data} without validation. */
  public TrainResult fit(TrainableModel model, BatchSource data, StepLoss loss)
      throws CompressionException {
    return fit(model, data, loss, Optional.empty());
  }

  /**
   * Trains {@code model} on {@code data}.
   *
   * @throws TrainingDivergedException on a NaN or infinite loss or gradient norm, naming the update
   *     (the checkpoint folder keeps the last good checkpoint)
   * @throws ConfigException when the model has no parameters, or a checkpoint to resume from was
   *     written with another seed
   */
  public TrainResult fit(
      TrainableModel model, BatchSource data, StepLoss loss, Optional<Validation> validation)
      throws CompressionException {
    List<Parameter> params = model.parameters();
    if (params.isEmpty()) {
      throw new ConfigException("the model has no trainable parameters (check the selection)");
    }
    long t0 = System.nanoTime();
    LrSchedule schedule = config.lrSchedule();
    Optional<Checkpoints> ckpt =
        config.checkpointDir().isPresent()
            ? Optional.of(new Checkpoints(config.checkpointDir().get()))
            : Optional.empty();
    Batches batches = new Batches(data, config.batchSize(), config.seed());
    boolean higher = validation.map(Validation::higherIsBetter).orElse(false);
    double best = higher ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
    long bestStep = -1;
    int bad = 0;
    long step = 0;
    Map<String, Tensor> bestParams = null;
    List<TrainResult.StepRecord> history = new ArrayList<>();

    try (Optimizer opt = config.newOptimizer()) {
      if (ckpt.isPresent()) {
        Optional<Checkpoints.Loaded> resumed = ckpt.get().load();
        if (resumed.isPresent()) {
          Checkpoints.State s = resumed.get().state();
          if (s.seed() != config.seed()) {
            throw new ConfigException(
                "seed: the checkpoint in "
                    + ckpt.get().dir()
                    + " was written with seed "
                    + s.seed()
                    + ", this run has "
                    + config.seed()
                    + " (HINT: use the same seed, or another checkpointDir)");
          }
          model.loadParameters(resumed.get().parameters());
          opt.loadState(params, resumed.get().optimizer());
          step = s.step();
          batches.seek(s.microBatches());
          best = s.bestMetric();
          bestStep = s.bestStep();
          bad = s.badEvals();
          if (bestStep >= 0) {
            bestParams = ckpt.get().loadBest().orElse(null);
          }
        }
      }
      long start = step;
      progress.start("train", config.steps(), "steps");
      boolean stopped = false;
      long lastGood = step;
      hook.start(model, config.steps());
      while (step < config.steps() && !stopped) {
        long update = step + 1;
        hook.beforeUpdate(model, update);
        model.zeroGradients();
        double lossSum = 0;
        try (GradientRecording rec = model.recordGradients()) {
          for (int a = 0; a < config.accumulation(); a++) {
            long micro = batches.position();
            try (NDManager nd = model.newManager()) {
              Map<String, NDArray> in = new LinkedHashMap<>();
              for (Map.Entry<String, Tensor> e : batches.next().entrySet()) {
                in.put(e.getKey(), TensorNd.toNd(e.getValue(), nd));
              }
              NDArray l = loss.loss(model, nd, in);
              NDArray penalty = hook.penalty(model, nd);
              if (penalty != null) {
                l = l.add(penalty);
              }
              double v = l.getFloat();
              if (!Double.isFinite(v)) {
                throw diverged(update, "loss is " + v + " on micro-batch " + micro, ckpt, lastGood);
              }
              lossSum += v;
              rec.backward(config.accumulation() == 1 ? l : l.div(config.accumulation()));
            }
          }
        }
        double norm = GradClip.clipGlobalNorm(params, config.clipNorm());
        if (!Double.isFinite(norm)) {
          String where =
              GradClip.firstNonFinite(params)
                  .map(n -> " (first in the gradient of " + n + ")")
                  .orElse("");
          throw diverged(update, "the gradient norm is " + norm + where, ckpt, lastGood);
        }
        double lr = schedule.lr(step);
        opt.step(params, lr, update);
        hook.afterUpdate(model, update);
        step = update;
        double metric = Double.NaN;
        boolean last = step == config.steps();
        if (validation.isPresent()
            && config.evalEvery() > 0
            && (step % config.evalEvery() == 0 || last)
            && hook.validates(step)) {
          metric = validation.get().evaluate(model);
          boolean better = higher ? metric > best : metric < best;
          if (better) {
            best = metric;
            bestStep = step;
            bad = 0;
            bestParams = model.parameterValues();
            if (ckpt.isPresent()) {
              ckpt.get().saveBest(step, metric, bestParams);
            }
          } else if (++bad >= config.patience() && config.patience() > 0) {
            stopped = true;
          }
        }
        double meanLoss = lossSum / config.accumulation();
        history.add(new TrainResult.StepRecord(step, meanLoss, lr, norm, metric));
        if (ckpt.isPresent()
            && (last
                || stopped
                || (config.checkpointEvery() > 0 && step % config.checkpointEvery() == 0))) {
          ckpt.get()
              .save(
                  new Checkpoints.State(
                      step, batches.position(), config.seed(), best, bestStep, bad),
                  model.parameterValues(),
                  opt.state());
          lastGood = step;
        }
        progress.step(
            "train",
            (int) step,
            config.steps(),
            describe(
                meanLoss,
                lr,
                bestStep >= 0 ? best : Double.NaN,
                t0,
                step - start,
                config.steps() - step));
      }
      progress.finish("train");
      boolean restored = false;
      if (config.restoreBest() && bestParams != null) {
        model.loadParameters(bestParams);
        restored = true;
      }
      return new TrainResult(
          start,
          step,
          stopped,
          bestStep >= 0 ? OptionalDouble.of(best) : OptionalDouble.empty(),
          bestStep,
          restored,
          history,
          (System.nanoTime() - t0) / 1e9);
    }
  }

  private static TrainingDivergedException diverged(
      long update, String what, Optional<Checkpoints> ckpt, long lastGood) {
    String keep =
        ckpt.isEmpty()
            ? "no checkpoint was written (set checkpointDir to keep one)"
            : lastGood > 0
                ? ckpt.get().dir() + " keeps the last good checkpoint (update " + lastGood + ")"
                : "no checkpoint had been written yet in " + ckpt.get().dir();
    return new TrainingDivergedException(
        update,
        "training diverged at update "
            + update
            + ": "
            + what
            + "; the parameters were not updated; "
            + keep
            + ". HINT: lower lr, raise warmup or set clipNorm");
  }

  private static String describe(
      double loss, double lr, double val, long t0, long done, long remaining) {
    double elapsed = (System.nanoTime() - t0) / 1e9;
    long eta = done > 0 ? Math.round(elapsed / done * remaining) : 0;
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(java.util.Locale.ROOT, "loss %.5g lr %.3g", loss, lr));
    if (!Double.isNaN(val)) {
      sb.append(String.format(java.util.Locale.ROOT, " val %.5g", val));
    }
    sb.append(" ETA ").append(eta / 60).append('m').append(String.format("%02ds", eta % 60));
    return sb.toString();
  }

  /** The seeded sequence of micro-batches, addressable by position for resuming. */
  static final class Batches {
    private final BatchSource data;
    private final int size;
    private final int perEpoch;
    private final long seed;
    private long position;
    private long epoch = -1;
    private int[] order;

    Batches(BatchSource data, int batchSize, long seed) {
      this.data = data;
      this.size = Math.min(batchSize, data.size());
      this.perEpoch = Math.max(1, data.size() / size);
      this.seed = seed;
    }

    long position() {
      return position;
    }

    void seek(long position) {
      this.position = position;
    }

    Map<String, Tensor> next() {
      long e = position / perEpoch;
      int b = (int) (position % perEpoch);
      if (e != epoch) {
        order = permutation(data.size(), new Random(seed * 0x9E3779B97F4A7C15L + e));
        epoch = e;
      }
      position++;
      return data.batch(java.util.Arrays.copyOfRange(order, b * size, (b + 1) * size));
    }

    static int[] permutation(int n, Random r) {
      int[] p = new int[n];
      for (int i = 0; i < n; i++) {
        p[i] = i;
      }
      for (int i = n - 1; i > 0; i--) {
        int j = r.nextInt(i + 1);
        int t = p[i];
        p[i] = p[j];
        p[j] = t;
      }
      return p;
    }
  }
}
