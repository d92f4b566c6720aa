package dev.compress.training.loop;

import dev.compress.api.pass.InvalidConfigException;
import dev.compress.training.optim.AdamW;
import dev.compress.training.optim.LrSchedule;
import dev.compress.training.optim.Optimizer;
import dev.compress.training.optim.Sgd;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Settings of a training run, validated at construction (messages name the key). Build with {@link
 * #builder()}; unset keys take the values of {@link #defaults()}.
 *
 * @param steps optimizer updates (each of {@code accumulation} micro-batches); default 100
 * @param batchSize examples per micro-batch; default 32
 * @param accumulation micro-batches whose gradients are summed (each loss divided by this) before
 *     one update; default 1
 * @param optimizer {@code adamw} (default) or {@code sgd}
 * @param lr peak learning rate; default 1e-4
 * @param weightDecay decoupled (AdamW) or L2 (SGD) weight decay on matrices; default 0.01
 * @param beta1 AdamW's first-moment decay; default 0.9
 * @param beta2 AdamW's second-moment decay; default 0.999
 * @param eps AdamW's denominator guard; default 1e-8
 * @param momentum SGD momentum; default 0.9
 * @param nesterov SGD with Nesterov momentum; default false
 * @param warmup warmup as a fraction of {@code steps} in [0, 1); default 0.1 (the
 *     sentence-transformers recipe)
 * @param schedule decay after warmup: cosine (default), linear or constant
 * @param minLrRatio final learning rate as a fraction of {@code lr}; default 0
 * @param clipNorm maximum global gradient norm, 0 for no clipping; default 1.0
 * @param seed shuffling seed; default 42
 * @param evalEvery validate every this many updates (and after the last), 0 for never; default 0
 * @param patience stop after this many validations without improvement, 0 for never; default 0
 * @param checkpointEvery write a resumable checkpoint every this many updates (and after the last)
 *     when {@code checkpointDir} is set, 0 for only at the end; default 0
 * @param checkpointDir folder of the resumable checkpoint and of the best parameters; a run started
 *     on a folder that holds a checkpoint resumes from it
 * @param restoreBest after the run, load the parameters of the best validation (when validating);
 *     default true
 */
public record TrainConfig(
    int steps,
    int batchSize,
    int accumulation,
    String optimizer,
    double lr,
    double weightDecay,
    double beta1,
    double beta2,
    double eps,
    double momentum,
    boolean nesterov,
    double warmup,
    LrSchedule.Decay schedule,
    double minLrRatio,
    double clipNorm,
    long seed,
    int evalEvery,
    int patience,
    int checkpointEvery,
    Optional<Path> checkpointDir,
    boolean restoreBest) {

  /** Validates every field and reports all problems at once. */
  public TrainConfig {
    optimizer = optimizer == null ? "adamw" : optimizer;
    schedule = schedule == null ? LrSchedule.Decay.COSINE : schedule;
    checkpointDir = checkpointDir == null ? Optional.empty() : checkpointDir;
    List<String> p = new ArrayList<>();
    if (steps < 1) {
      p.add("steps must be >= 1, found " + steps);
    }
    if (batchSize < 1) {
      p.add("batchSize must be >= 1, found " + batchSize);
    }
    if (accumulation < 1) {
      p.add("accumulation must be >= 1, found " + accumulation);
    }
    if (!optimizer.equals("adamw") && !optimizer.equals("sgd")) {
      p.add("optimizer must be adamw or sgd, found '" + optimizer + "'");
    }
    if (!(lr > 0) || Double.isInfinite(lr)) {
      p.add("lr must be > 0, found " + lr);
    }
    if (!(weightDecay >= 0)) {
      p.add("weightDecay must be >= 0, found " + weightDecay);
    }
    if (!(beta1 >= 0 && beta1 < 1)) {
      p.add("beta1 must be in [0, 1), found " + beta1);
    }
    if (!(beta2 >= 0 && beta2 < 1)) {
      p.add("beta2 must be in [0, 1), found " + beta2);
    }
    if (!(eps > 0)) {
      p.add("eps must be > 0, found " + eps);
    }
    if (!(momentum >= 0 && momentum < 1)) {
      p.add("momentum must be in [0, 1), found " + momentum);
    }
    if (!(warmup >= 0 && warmup < 1)) {
      p.add("warmup must be a fraction in [0, 1), found " + warmup);
    }
    if (!(minLrRatio >= 0 && minLrRatio <= 1)) {
      p.add("minLrRatio must be in [0, 1], found " + minLrRatio);
    }
    if (!(clipNorm >= 0) || Double.isInfinite(clipNorm)) {
      p.add("clipNorm must be >= 0 (0: off), found " + clipNorm);
    }
    if (evalEvery < 0) {
      p.add("evalEvery must be >= 0, found " + evalEvery);
    }
    if (patience < 0) {
      p.add("patience must be >= 0, found " + patience);
    }
    if (checkpointEvery < 0) {
      p.add("checkpointEvery must be >= 0, found " + checkpointEvery);
    }
    InvalidConfigException.throwIfAny(p);
  }

  /** The defaults listed on the record. */
  public static TrainConfig defaults() {
    return builder().build();
  }

  /** A builder starting from the defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder starting from this configuration. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.steps = steps;
    b.batchSize = batchSize;
    b.accumulation = accumulation;
    b.optimizer = optimizer;
    b.lr = lr;
    b.weightDecay = weightDecay;
    b.beta1 = beta1;
    b.beta2 = beta2;
    b.eps = eps;
    b.momentum = momentum;
    b.nesterov = nesterov;
    b.warmup = warmup;
    b.schedule = schedule;
    b.minLrRatio = minLrRatio;
    b.clipNorm = clipNorm;
    b.seed = seed;
    b.evalEvery = evalEvery;
    b.patience = patience;
    b.checkpointEvery = checkpointEvery;
    b.checkpointDir = checkpointDir.orElse(null);
    b.restoreBest = restoreBest;
    return b;
  }

  /** Warmup updates: {@code round(warmup * steps)}. */
  public int warmupSteps() {
    return (int) Math.round(warmup * steps);
  }

  /** The learning-rate schedule of this run. */
  public LrSchedule lrSchedule() {
    return new LrSchedule(lr, warmupSteps(), steps, schedule, minLrRatio);
  }

  /** A new optimizer of this run (the caller closes it). */
  public Optimizer newOptimizer() {
    return optimizer.equals("sgd")
        ? new Sgd(momentum, weightDecay, nesterov)
        : new AdamW(beta1, beta2, eps, weightDecay);
  }

  /** Builder of {@link TrainConfig}: {@code optX} for every key. */
  public static final class Builder {
    private int steps = 100;
    private int batchSize = 32;
    private int accumulation = 1;
    private String optimizer = "adamw";
    private double lr = 1e-4;
    private double weightDecay = 0.01;
    private double beta1 = 0.9;
    private double beta2 = 0.999;
    private double eps = 1e-8;
    private double momentum = 0.9;
    private boolean nesterov;
    private double warmup = 0.1;
    private LrSchedule.Decay schedule = LrSchedule.Decay.COSINE;
    private double minLrRatio;
    private double clipNorm = 1.0;
    private long seed = 42;
    private int evalEvery;
    private int patience;
    private int checkpointEvery;
    private Path checkpointDir;
    private boolean restoreBest = true;

    private Builder() {}

    public Builder optSteps(int v) {
      steps = v;
      return this;
    }

    public Builder optBatchSize(int v) {
      batchSize = v;
      return this;
    }

    public Builder optAccumulation(int v) {
      accumulation = v;
      return this;
    }

    public Builder optOptimizer(String v) {
      optimizer = v;
      return this;
    }

    public Builder optLr(double v) {
      lr = v;
      return this;
    }

    public Builder optWeightDecay(double v) {
      weightDecay = v;
      return this;
    }

    public Builder optBetas(double b1, double b2) {
      beta1 = b1;
      beta2 = b2;
      return this;
    }

    public Builder optEps(double v) {
      eps = v;
      return this;
    }

    public Builder optMomentum(double v) {
      momentum = v;
      return this;
    }

    public Builder optNesterov(boolean v) {
      nesterov = v;
      return this;
    }

    public Builder optWarmup(double fraction) {
      warmup = fraction;
      return this;
    }

    public Builder optSchedule(LrSchedule.Decay v) {
      schedule = v;
      return this;
    }

    public Builder optMinLrRatio(double v) {
      minLrRatio = v;
      return this;
    }

    public Builder optClipNorm(double v) {
      clipNorm = v;
      return this;
    }

    public Builder optSeed(long v) {
      seed = v;
      return this;
    }

    public Builder optEvalEvery(int v) {
      evalEvery = v;
      return this;
    }

    public Builder optPatience(int v) {
      patience = v;
      return this;
    }

    public Builder optCheckpointEvery(int v) {
      checkpointEvery = v;
      return this;
    }

    public Builder optCheckpointDir(Path v) {
      checkpointDir = v;
      return this;
    }

    public Builder optRestoreBest(boolean v) {
      restoreBest = v;
      return this;
    }

    /**
     * The validated configuration.
     *
     * @throws InvalidConfigException listing every invalid key
     */
    public TrainConfig build() {
      return new TrainConfig(
          steps,
          batchSize,
          accumulation,
          optimizer,
          lr,
          weightDecay,
          beta1,
          beta2,
          eps,
          momentum,
          nesterov,
          warmup,
          schedule,
          minLrRatio,
          clipNorm,
          seed,
          evalEvery,
          patience,
          checkpointEvery,
          Optional.ofNullable(checkpointDir),
          restoreBest);
    }
  }
}
