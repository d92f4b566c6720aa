package dev.compress.cli;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.CorruptCheckpointException;
import dev.compress.api.OutOfMemoryException;
import dev.compress.api.ToolVersion;
import dev.compress.api.UnsupportedModelException;
import dev.compress.api.pipeline.GateFailedException;
import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.util.Arrays;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code compress} command. Exit codes: 0 ok, 2 usage or configuration error, 3 unreadable
 * checkpoint, 4 evaluation gate failed, 1 anything else. Errors are one line on stderr; {@code
 * --verbose} adds the stack trace.
 */
@Command(
    name = "compress",
    mixinStandardHelpOptions = true,
    versionProvider = CompressCommand.Version.class,
    description = "JVM-native model compression toolkit.",
    subcommands = {
      RunCommand.class,
      ValidateCommand.class,
      InspectCommand.class,
      ListPassesCommand.class,
      EvalCommand.class,
      BenchCommand.class,
      SensitivityCommand.class,
      CommandLine.HelpCommand.class
    })
public final class CompressCommand {
  /** Exit code: success. */
  public static final int OK = 0;

  /** Exit code: unexpected failure. */
  public static final int FAILURE = 1;

  /** Exit code: usage or configuration error. */
  public static final int USAGE = 2;

  /** Exit code: a checkpoint could not be read. */
  public static final int UNREADABLE = 3;

  /** Exit code: an evaluation gate failed. */
  public static final int GATE_FAILED = 4;

  @Option(
      names = {"-v", "--verbose"},
      description = "Print stack traces with errors.",
      scope = CommandLine.ScopeType.INHERIT)
  boolean verbose;

  @Option(
      names = {"-q", "--quiet"},
      description = "No progress on stderr: only results and errors.",
      scope = CommandLine.ScopeType.INHERIT)
  boolean quiet;

  /** Runs the command line and returns the exit code (no System.exit). */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    CommandLine cl = new CommandLine(new CompressCommand());
    cl.setOut(out);
    cl.setErr(err);
    cl.setExitCodeExceptionMapper(CompressCommand::exitCode);
    cl.setExecutionExceptionHandler(
        (ex, cmd, parsed) -> {
          boolean verbose = matched(parsed, "--verbose");
          String msg = ex.getMessage() == null ? ex.toString() : ex.getMessage();
          if (ex instanceof OutOfMemoryException oom) {
            msg += ". " + heapHint(oom.maxHeapBytes());
          } else if (ex instanceof NoSuchFileException) {
            msg = "no such file: " + msg;
          } else if (ex instanceof AccessDeniedException) {
            msg = "permission denied: " + msg;
          } else if (!(ex instanceof CompressionException)) {
            msg = ex.getClass().getSimpleName() + ": " + msg;
          }
          cmd.getErr().println("error: " + msg);
          if (verbose) {
            ex.printStackTrace(cmd.getErr());
          }
          cmd.getErr().flush();
          return exitCode(ex);
        });
    cl.setParameterExceptionHandler(
        (ex, a) -> {
          CommandLine cmd = ex.getCommandLine();
          cmd.getErr().println("error: " + ex.getMessage());
          cmd.getErr().println("(see '" + cmd.getCommandSpec().qualifiedName() + " --help')");
          cmd.getErr().flush();
          return USAGE;
        });
    int code;
    try {
      code = cl.execute(args);
    } catch (OutOfMemoryError e) { // outside a pipeline run (inspect, eval, bench, ...)
      String command = Arrays.stream(args).filter(a -> !a.startsWith("-")).findFirst().orElse("");
      long max = Runtime.getRuntime().maxMemory();
      err.println(
          "error: "
              + new OutOfMemoryException(("running compress " + command).strip(), max, e)
                  .getMessage()
              + ". "
              + heapHint(max));
      code = FAILURE;
    }
    out.flush();
    err.flush();
    return code;
  }

  /**
   * Whether a global option was given anywhere on the command line: an inherited option given after
   * the subcommand ({@code compress run x.yaml --verbose}) is matched by the subcommand's parse
   * result, not the top-level one.
   */
  static boolean matched(CommandLine.ParseResult parsed, String option) {
    for (CommandLine.ParseResult p = parsed; p != null; p = p.subcommand()) {
      if (p.hasMatchedOption(option)) {
        return true;
      }
    }
    return false;
  }

  /** Whether {@code --quiet} was given (before or after the subcommand). */
  static boolean quiet(CommandLine.Model.CommandSpec spec) {
    CommandLine.ParseResult root = spec.root().commandLine().getParseResult();
    return root != null && matched(root, "--quiet");
  }

  /** How to give the launcher's JVM more heap than {@code maxHeapBytes}. */
  static String heapHint(long maxHeapBytes) {
    return "HINT: give the JVM more heap, e.g. COMPRESS_JAVA_OPTS=-Xmx"
        + OutOfMemoryException.suggestedMaxHeap(maxHeapBytes)
        + " ./compress ...";
  }

  static int exitCode(Throwable ex) {
    if (ex instanceof OutOfMemoryException) {
      return FAILURE;
    }
    if (ex instanceof GateFailedException) {
      return GATE_FAILED;
    }
    if (ex instanceof ConfigException || ex instanceof CommandLine.ParameterException) {
      return USAGE;
    }
    if (ex instanceof NoSuchFileException) {
      return USAGE;
    }
    if (ex instanceof CorruptCheckpointException || ex instanceof UnsupportedModelException) {
      return UNREADABLE;
    }
    if (ex instanceof CompressionException) {
      return USAGE;
    }
    return FAILURE;
  }

  /** Reads the version from the jar manifest. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {
        "compress " + ToolVersion.version(),
        "built with DJL "
            + ToolVersion.engines().get("djl")
            + ", PyTorch "
            + ToolVersion.engines().get("pytorch")
            + ", ONNX Runtime "
            + ToolVersion.engines().get("onnxruntime"),
        "Java " + Runtime.version() + " (" + System.getProperty("java.vendor") + ")",
        System.getProperty("os.name") + " " + System.getProperty("os.arch")
      };
    }
  }
}
