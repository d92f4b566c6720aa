package dev.compress.cli;

import dev.compress.api.pass.PassConfig;
import dev.compress.api.pass.PassProvider;
import dev.compress.api.pipeline.PassRegistry;
import java.io.PrintWriter;
import java.lang.reflect.RecordComponent;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code compress list-passes}: every registered pass with its parameters and defaults. */
@Command(
    name = "list-passes",
    mixinStandardHelpOptions = true,
    description = "List the passes on the class path with their parameters and defaults.")
final class ListPassesCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PassRegistry registry = PassRegistry.load();
    for (PassProvider<?> p : registry.all()) {
      out.printf(
          "%s%s%n  %s%n",
          p.type(), p.needsCalibration() ? "  (needs calibration data)" : "", p.description());
      PassConfig defaults = p.defaults();
      out.printf(
          "    %-14s %s%n", "targets", "layer names or re:REGEX (default: all linear layers)");
      out.printf(
          "    %-14s %s%n", "ignore", "layer names or re:REGEX to leave out (default: none)");
      for (PassProvider.ParamDoc d : p.parameters()) {
        out.printf(
            "    %-14s %s (default: %s)%n",
            d.name(), d.description(), defaultOf(defaults, d.name()));
      }
      out.println();
    }
    out.flush();
    return CompressCommand.OK;
  }

  private static String defaultOf(PassConfig config, String name) {
    for (RecordComponent c : config.getClass().getRecordComponents()) {
      if (c.getName().equals(name)) {
        try {
          Object v = c.getAccessor().invoke(config);
          return String.valueOf(v).toLowerCase(java.util.Locale.ROOT);
        } catch (ReflectiveOperationException e) {
          return "?";
        }
      }
    }
    return "-";
  }
}
