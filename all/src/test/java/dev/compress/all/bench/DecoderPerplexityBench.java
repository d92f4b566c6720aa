package dev.compress.all.bench;

import dev.compress.api.pipeline.PipelineRunner;
import dev.compress.api.pipeline.PipelineSpec;
import dev.compress.api.pipeline.RunOptions;
import dev.compress.api.pipeline.RunResult;
import dev.compress.fixtures.TrainedDecoder;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Held-out perplexity of every weight pass on the trained {@code llama-mobydick} decoder, each run
 * through {@link PipelineRunner} with {@code evaluate: {task: perplexity}}; prints a markdown
 * table. Calibration is {@code calibration-mobydick-train.txt} (training chapters only). A pass
 * that refuses the folder gets its one-line error in the table.
 *
 * <pre>
 * ./mvnw -o -q -B -pl all -am test-compile dependency:build-classpath -Dmdep.outputFile=target/bench.cp \
 *   -Dmdep.includeScope=test -Dspotless.check.skip=true
 * nice -n 5 java -Xmx4g --add-modules jdk.incubator.vector \
 *   -cp all/target/test-classes:all/target/classes:$(cat all/target/bench.cp) \
 *   dev.compress.all.bench.DecoderPerplexityBench [substring filter]
 * </pre>
 */
public final class DecoderPerplexityBench {
  private DecoderPerplexityBench() {}

  static final String IGNORE = "ignore: [lm_head]";

  /** method, setting, pass yaml (one list item, without the leading "- "). */
  static final List<String[]> RUNS =
      List.of(
          new String[] {
            "rtn",
            "4-bit g32",
            "{type: rtn-quantization, bits: 4, granularity: per_group, groupSize: 32, "
                + IGNORE
                + "}"
          },
          new String[] {
            "rtn",
            "4-bit g128",
            "{type: rtn-quantization, bits: 4, granularity: per_group, groupSize: 128, "
                + IGNORE
                + "}"
          },
          new String[] {
            "rtn",
            "3-bit g32",
            "{type: rtn-quantization, bits: 3, granularity: per_group, groupSize: 32, "
                + IGNORE
                + "}"
          },
          new String[] {
            "gptq",
            "4-bit g32 act-order",
            "{type: gptq, bits: 4, groupSize: 32, actOrder: true, " + IGNORE + "}"
          },
          new String[] {
            "gptq",
            "4-bit g128 act-order",
            "{type: gptq, bits: 4, groupSize: 128, actOrder: true, " + IGNORE + "}"
          },
          new String[] {
            "gptq",
            "3-bit g32 act-order",
            "{type: gptq, bits: 3, groupSize: 32, actOrder: true, " + IGNORE + "}"
          },
          new String[] {"awq", "4-bit g32", "{type: awq, bits: 4, groupSize: 32, " + IGNORE + "}"},
          new String[] {"fp8", "e4m3", "{type: fp8-quantization, " + IGNORE + "}"},
          new String[] {
            "magnitude", "50%", "{type: magnitude-pruning, sparsity: 0.5, " + IGNORE + "}"
          },
          new String[] {"wanda", "50%", "{type: wanda, sparsity: 0.5, " + IGNORE + "}"},
          new String[] {"sparsegpt", "50%", "{type: sparsegpt, sparsity: 0.5, " + IGNORE + "}"},
          new String[] {
            "magnitude", "2:4", "{type: magnitude-pruning, pattern: '2:4', " + IGNORE + "}"
          },
          new String[] {"wanda", "2:4", "{type: wanda, pattern: '2:4', " + IGNORE + "}"},
          new String[] {"sparsegpt", "2:4", "{type: sparsegpt, pattern: '2:4', " + IGNORE + "}"},
          new String[] {
            "svd", "-20% params", "{type: svd, parametersRemoved: 0.2, " + IGNORE + "}"
          },
          new String[] {
            "svd-llm", "-20% params", "{type: svd-llm, parametersRemoved: 0.2, " + IGNORE + "}"
          });

  /** The calibration file written to {@code dir}. */
  static Path calibration(Path dir) throws Exception {
    try (InputStream in =
        DecoderPerplexityBench.class.getResourceAsStream(
            "/dev/compress/all/calibration-mobydick-train.txt")) {
      Path p = dir.resolve("calibration-train.txt");
      Files.write(p, in.readAllBytes());
      return p;
    }
  }

  /** Runs one pass through the pipeline; returns its evaluation metrics. */
  static Map<String, Double> run(
      Path model, Path heldOut, Path calib, String pass, Path out, int samples) throws Exception {
    String yaml =
        "apiVersion: compress/v1\nkind: Pipeline\nmodel: "
            + model
            + "\nseed: 0\ncalibration: {kind: text, source: "
            + calib
            + ", samples: "
            + samples
            + ", sequenceLength: 128, batchSize: 16}\npasses:\n  - "
            + pass
            + "\nevaluate: {task: perplexity, data: "
            + heldOut
            + ", latencyBatchSizes: []}\noutput: {dir: "
            + out
            + "}\n";
    RunResult r =
        new PipelineRunner()
            .run(
                PipelineSpec.fromYaml(yaml),
                RunOptions.defaults().withOut(new PrintWriter(new StringWriter())));
    return r.evaluation().orElseThrow().metrics();
  }

  public static void main(String[] args) throws Exception {
    String filter = args.length > 0 ? args[0] : "";
    Path dir = Files.createTempDirectory("decoder-ppl");
    Path model = TrainedDecoder.copyTo(dir.resolve("model"));
    Path heldOut = TrainedDecoder.heldOut(dir.resolve("heldout.txt"));
    Path calib = calibration(dir);
    List<String> rows = new ArrayList<>();
    Double fp16 = null;
    int i = 0;
    for (String[] r : RUNS) {
      if (!(r[0] + " " + r[1]).contains(filter)) {
        continue;
      }
      long t0 = System.nanoTime();
      String row;
      try {
        Map<String, Double> m = run(model, heldOut, calib, r[2], dir.resolve("out" + i++), 64);
        double s = (System.nanoTime() - t0) / 1e9;
        fp16 = m.get("perplexity.original");
        row =
            String.format(
                "| %s | %s | %.2f | %.3f | %.1f s |",
                r[0], r[1], m.get("perplexity.compressed"), m.get("perplexity.ratio"), s);
      } catch (Exception | Error e) {
        String msg =
            String.valueOf(e.getMessage()).lines().findFirst().orElse("").split("; passes\\[")[0];
        row = "| " + r[0] + " | " + r[1] + " | error: " + msg.replace('|', '/') + " | | |";
      }
      System.out.println(row);
      System.out.flush();
      rows.add(row);
    }
    System.out.println();
    System.out.println("| method | setting | held-out ppl | ratio to fp16 | pass+eval time |");
    System.out.println("|---|---|---|---|---|");
    System.out.printf(
        "| fp16 | - | %s | 1.000 | - |%n", fp16 == null ? "?" : String.format("%.2f", fp16));
    rows.forEach(System.out::println);
  }
}
