package dev.compress.distillation.bench;

import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.calibration.CalibrationSpec;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.ClassLabels;
import dev.compress.api.io.IdxFile;
import dev.compress.api.io.onnx.OnnxReader;
import dev.compress.api.io.onnx.OnnxWriter;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.pipeline.ConsoleProgress;
import dev.compress.api.pipeline.PipelineRunner;
import dev.compress.api.pipeline.PipelineSpec;
import dev.compress.api.pipeline.RunOptions;
import dev.compress.api.pipeline.RunResult;
import dev.compress.distillation.SmallCnn;
import dev.compress.distillation.distill.DistillConfig;
import dev.compress.runtime.calibration.ImageCalibrationLoader;
import dev.compress.training.data.TensorExamples;
import dev.compress.training.distill.LossTerm;
import dev.compress.training.loop.TrainConfig;
import dev.compress.training.loop.TrainResult;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Hinton's effect on Fashion-MNIST: a small CNN student trained alone against the same student
 * distilled from a larger CNN teacher at temperature {@code T > 1}, all trained in the project
 * (issue 14). A benchmark: it never asserts.
 *
 * <ol>
 *   <li>Data: Debian's {@code dataset-fashion-mnist} ({@code scripts/fetch-fashion-mnist.sh}); the
 *       training images are the {@code images} calibration kind with {@code labels}: the teacher
 *       learns from {@code bench.teacherTrain} (all 60,000), both students from a seeded subsample
 *       of {@code bench.train} (2,000: the small transfer set of Hinton's data-limited experiments,
 *       and what keeps the run within about 10 CPU minutes); every model makes the same {@code
 *       bench.steps} updates. Top-1 is on all 10,000 test images, in ONNX Runtime, on the written
 *       ONNX files.
 *   <li>Teacher ({@link SmallCnn#teacher}, 220k parameters) and student alone ({@link
 *       SmallCnn#student}, 20k parameters): the training module's {@code Trainer}, cross-entropy on
 *       the labels, AdamW with warmup and cosine decay.
 *   <li>Student distilled: the same initial student through a pipeline ({@code PipelineRunner}):
 *       {@code calibration: {kind: images, source: train-images, labels: train-labels}} and one
 *       {@code distill} pass with {@code teacher: teacher.onnx} and {@code losses: [{kind:
 *       soft-targets, temperature: T, hardLabelWeight: lambda}]}; the same updates, batch size,
 *       learning rate, schedule, clipping, data order and seed as the student alone (its shuffle
 *       seed is the pass's), so the loss is the only difference.
 * </ol>
 *
 * <p>Measured 2026-12-04 with the defaults (seed 0, 600 updates of 64, T = 4, hardLabelWeight 0.1):
 * teacher (206,922 parameters, 60,000 images) top-1 0.8809; student (20,338 parameters, 2,000
 * images) alone 0.8356, distilled 0.8496 (140 fewer test errors); 299 s of process CPU, 21 min wall
 * on the shared 2-core machine (load average about 20), peak RSS 1.05 GiB. Seed 1: teacher 0.8782,
 * alone 0.8280, distilled 0.8387 (107 fewer errors), 283 s CPU.
 *
 * <p>Run (from the repository root): {@code scripts/fetch-fashion-mnist.sh && ./mvnw -o -q -B -pl
 * distillation -am test-compile dependency:build-classpath -Dmdep.outputFile=target/bench.cp
 * -Dmdep.includeScope=test -Dspotless.check.skip=true && java -Xmx3g -cp
 * distillation/target/test-classes:distillation/target/classes:$(cat distillation/target/bench.cp)
 * dev.compress.distillation.bench.FashionMnistDistillBench} (properties: {@code
 * -Dbench.data=target/fashion-mnist/usr/share/datasets/fashion-mnist -Dbench.teacherTrain=60000
 * -Dbench.train=2000 -Dbench.steps=600 -Dbench.batch=64 -Dbench.lr=2e-3 -Dbench.temperature=4
 * -Dbench.hardLabelWeight=0.1 -Dbench.seed=0 -Dbench.out=target/fmnist-bench}).
 */
public final class FashionMnistDistillBench {
  private FashionMnistDistillBench() {}

  public static void main(String[] args) throws Exception {
    Path data =
        Path.of(
            System.getProperty(
                "bench.data", "target/fashion-mnist/usr/share/datasets/fashion-mnist"));
    int teacherTrain = Integer.getInteger("bench.teacherTrain", 60000);
    int train = Integer.getInteger("bench.train", 2000);
    int steps = Integer.getInteger("bench.steps", 600);
    int batch = Integer.getInteger("bench.batch", 64);
    double lr = Double.parseDouble(System.getProperty("bench.lr", "2e-3"));
    double temperature = Double.parseDouble(System.getProperty("bench.temperature", "4"));
    double hard = Double.parseDouble(System.getProperty("bench.hardLabelWeight", "0.1"));
    long seed = Long.getLong("bench.seed", 0);
    Path out = Path.of(System.getProperty("bench.out", "target/fmnist-bench"));
    Files.createDirectories(out);
    Path trainImages = data.resolve("train-images-idx3-ubyte.gz");
    Path trainLabels = data.resolve("train-labels-idx1-ubyte.gz");
    Path testImages = data.resolve("t10k-images-idx3-ubyte.gz");
    Path testLabels = data.resolve("t10k-labels-idx1-ubyte.gz");
    if (!Files.isRegularFile(testLabels)) {
      throw new IllegalStateException(
          "no Fashion-MNIST under " + data + "; run scripts/fetch-fashion-mnist.sh first");
    }
    PrintWriter err = new PrintWriter(System.err, true);
    long t0 = System.nanoTime();

    // The training subset, as the distill pass will see it: the images calibration kind.
    CalibrationSpec calib =
        new CalibrationSpec(
                "images", trainImages.toString(), train, 1, 256, seed, /* shuffle */ true, "")
            .withLabels(trainLabels.toString());
    ModelGraph teacher = SmallCnn.teacher(28, 10, seed + 1);
    ModelGraph studentInit = SmallCnn.student(28, 10, seed + 2);
    CalibrationSet set =
        new ImageCalibrationLoader().load(calib, studentInit, trainImages, trainImages.toString());
    TensorExamples examples = TensorExamples.fromBatches(set.batches());
    CalibrationSpec teacherCalib =
        new CalibrationSpec(
                "images",
                trainImages.toString(),
                teacherTrain,
                1,
                256,
                seed,
                /* shuffle */ true,
                "")
            .withLabels(trainLabels.toString());
    TensorExamples teacherExamples =
        TensorExamples.fromBatches(
            new ImageCalibrationLoader()
                .load(teacherCalib, teacher, trainImages, trainImages.toString())
                .batches());
    IdxFile testIdx = IdxFile.read(testImages);
    float[][] test = new float[testIdx.count()][];
    for (int i = 0; i < test.length; i++) {
      test[i] = testIdx.floats(i);
    }
    int[] testY = ClassLabels.read(testLabels, "bench.data");
    double loadS = secs(t0);

    // The pass's settings; the trainer runs of the teacher and the student alone use the same.
    DistillConfig dc =
        new DistillConfig(
            LayerSelection.ALL,
            Optional.of(out.resolve("teacher.onnx").toString()),
            List.of(
                new LossTerm(
                    LossTerm.Kind.SOFT_TARGETS,
                    Optional.empty(),
                    Optional.of(SmallCnn.OUTPUT),
                    Optional.of(temperature),
                    Optional.of(hard),
                    Optional.empty())),
            lr,
            batch,
            1,
            Optional.of(steps),
            0.1,
            0.01,
            1.0,
            0.0,
            Optional.empty());
    long shuffleSeed = PassContext.of(seed).random("distill/shuffle").nextLong();
    TrainConfig tc =
        TrainConfig.builder()
            .optSteps(steps)
            .optBatchSize(batch)
            .optLr(lr)
            .optWeightDecay(dc.weightDecay())
            .optWarmup(dc.warmup())
            .optClipNorm(dc.clipNorm())
            .optSeed(shuffleSeed)
            .build();

    try (ConsoleProgress progress = ConsoleProgress.plain(err)) {
      long t = System.nanoTime();
      double cpu0 = cpuSeconds();
      TrainResult tr = SmallCnn.trainAlone(teacher, teacherExamples, tc, progress);
      double teacherS = secs(t);
      double teacherCpu = cpuSeconds() - cpu0;
      OnnxWriter.write(teacher, out.resolve("teacher.onnx"));
      double teacherTop1 = SmallCnn.top1(SmallCnn.ortLogits(teacher, test, 28), testY);
      err.printf("teacher: top-1 %.4f, %.0f s%n", teacherTop1, teacherS);

      OnnxWriter.write(studentInit, out.resolve("student-init.onnx"));
      ModelGraph alone = OnnxReader.read(out.resolve("student-init.onnx"));
      t = System.nanoTime();
      cpu0 = cpuSeconds();
      TrainResult ar = SmallCnn.trainAlone(alone, examples, tc, progress);
      double aloneS = secs(t);
      double aloneCpu = cpuSeconds() - cpu0;
      OnnxWriter.write(alone, out.resolve("student-alone.onnx"));
      double aloneTop1 = SmallCnn.top1(SmallCnn.ortLogits(alone, test, 28), testY);
      err.printf("student alone: top-1 %.4f, %.0f s%n", aloneTop1, aloneS);

      PipelineSpec spec =
          PipelineSpec.builder()
              .model(out.resolve("student-init.onnx"))
              .seed(seed)
              .calibration(calib)
              .pass(dc)
              .output(out.resolve("distilled"), true)
              .build();
      t = System.nanoTime();
      cpu0 = cpuSeconds();
      RunResult run = new PipelineRunner().run(spec, RunOptions.defaults().withProgress(progress));
      double distillS = secs(t);
      double distillCpu = cpuSeconds() - cpu0;
      ModelGraph distilled = OnnxReader.read(run.model());
      double distilledTop1 = SmallCnn.top1(SmallCnn.ortLogits(distilled, test, 28), testY);
      PassReport pr = run.passes().get(0);

      System.out.printf(
          "Fashion-MNIST: teacher on %d training images, students on a seeded subsample of %d"
              + " (of 60,000); top-1 on the 10,000 test images; %d updates of %d each, AdamW lr"
              + " %.1e, warmup 10%% + cosine, clip 1, seed %d%n",
          teacherExamples.size(), examples.size(), steps, batch, lr, seed);
      System.out.printf(
          "%-38s %8s %8s %7s %8s %8s%n", "model", "params", "top-1", "errors", "wall s", "CPU s");
      row("teacher (CE)", SmallCnn.parameters(teacher), teacherTop1, teacherS, teacherCpu);
      row("student alone (CE)", SmallCnn.parameters(alone), aloneTop1, aloneS, aloneCpu);
      row(
          String.format("student distilled (T=%.0f, lambda=%.2f)", temperature, hard),
          SmallCnn.parameters(distilled),
          distilledTop1,
          distillS,
          distillCpu);
      System.out.printf(
          "Hinton's effect: distilled - alone = %+.4f top-1 (%+d test errors)%n",
          distilledTop1 - aloneTop1, Math.round((aloneTop1 - distilledTop1) * testY.length));
      System.out.printf(
          "losses: teacher %.4f -> %.4f, alone %.4f -> %.4f, distill %.4f -> %.4f"
              + " (teacher values %.1f s)%n",
          tr.history().get(0).loss(),
          tr.finalLoss(),
          ar.history().get(0).loss(),
          ar.finalLoss(),
          pr.metrics().get("loss_first"),
          pr.metrics().get("loss_last"),
          pr.metrics().get("teacher_seconds"));
      System.out.printf(
          "wall %.0f s (data %.0f s), process CPU %.0f s, peak RSS %s, %d cores%n",
          secs(t0), loadS, cpuSeconds(), peakRss(), Runtime.getRuntime().availableProcessors());
    }
  }

  private static void row(String name, long params, double top1, double wall, double cpu) {
    System.out.printf(
        "%-38s %8d %8.4f %7d %8.0f %8.0f%n",
        name, params, top1, Math.round((1 - top1) * 10000), wall, cpu);
  }

  private static double secs(long t) {
    return (System.nanoTime() - t) / 1e9;
  }

  /** CPU time of the whole process (all threads, native ones included), in seconds. */
  private static double cpuSeconds() {
    var os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    return os instanceof com.sun.management.OperatingSystemMXBean sun
        ? sun.getProcessCpuTime() / 1e9
        : Double.NaN;
  }

  /** The process's peak resident set ({@code VmHWM}), or "n/a" off Linux. */
  private static String peakRss() {
    try {
      for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (l.startsWith("VmHWM:")) {
          long kb = Long.parseLong(l.replaceAll("[^0-9]", ""));
          return String.format("%.2f GiB", kb / 1024.0 / 1024.0);
        }
      }
    } catch (Exception e) {
      // not Linux
    }
    return "n/a";
  }
}
