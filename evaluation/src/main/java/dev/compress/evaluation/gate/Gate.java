package dev.compress.evaluation.gate;

import dev.compress.api.ConfigException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One bound on one metric, written {@code "OP NUMBER"} with OP one of {@code >=}, {@code <=},
 * {@code >}, {@code <}: {@code cosine.mean: ">= 0.99"}, {@code latency.b1.ratio: "<= 1.0"}.
 *
 * @param metric the metric name
 * @param op the comparison
 * @param bound the number the metric is compared with
 */
public record Gate(String metric, Op op, double bound) {
  // Plain decimal or scientific notation; not Java's hex, "Infinity", "NaN" or "1d" forms.
  private static final Pattern NUMBER =
      Pattern.compile("[+-]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+)?");

  /** The comparisons a gate can make. */
  public enum Op {
    /** At least. */
    GE(">="),
    /** At most. */
    LE("<="),
    /** Strictly more than. */
    GT(">"),
    /** Strictly less than. */
    LT("<");

    private final String symbol;

    Op(String symbol) {
      this.symbol = symbol;
    }

    /** How the comparison is written. */
    public String symbol() {
      return symbol;
    }

    boolean test(double value, double bound) {
      return switch (this) {
        case GE -> value >= bound;
        case LE -> value <= bound;
        case GT -> value > bound;
        case LT -> value < bound;
      };
    }
  }

  /** Checks the fields. */
  public Gate {
    Objects.requireNonNull(metric, "metric");
    Objects.requireNonNull(op, "op");
    if (!Double.isFinite(bound)) {
      throw new IllegalArgumentException("bound must be finite, found " + bound);
    }
  }

  /**
   * Parses {@code expression} (surrounding and inner whitespace allowed: {@code ">=0.99"}, {@code "
   * >= 0.99 "}).
   *
   * @throws ConfigException naming {@code evaluate.gates.METRIC} and the value found when the
   *     expression is not an operator followed by a finite number
   */
  public static Gate parse(String metric, String expression) throws ConfigException {
    String key = "evaluate.gates." + metric;
    String e = expression == null ? "" : expression.strip();
    Op op = null;
    for (Op o : Op.values()) { // two-character operators first, so ">=" is not read as ">"
      if (e.startsWith(o.symbol)) {
        op = o;
        break;
      }
    }
    if (op != null) {
      String number = e.substring(op.symbol.length()).strip();
      if (NUMBER.matcher(number).matches() && Double.isFinite(Double.parseDouble(number))) {
        return new Gate(metric, op, Double.parseDouble(number));
      }
    }
    throw new ConfigException(
        key
            + " must be an operator (>=, <=, >, <) followed by a number, e.g. \">= 0.99\"; found '"
            + expression
            + "'"
            + repaired(e).map(r -> "; did you mean '" + r + "'?").orElse(""));
  }

  /** A likely intended form of a malformed bound: {@code "> = 0.98"}, {@code "=> 0.98"}. */
  private static java.util.Optional<String> repaired(String e) {
    String s = e.replaceAll("\\s+", "");
    if (s.startsWith("=>") || s.startsWith("=<")) {
      s = s.charAt(1) + "=" + s.substring(2);
    } else if (s.startsWith("==")) {
      return java.util.Optional.empty();
    }
    for (Op o : Op.values()) {
      if (s.startsWith(o.symbol)) {
        String number = s.substring(o.symbol.length());
        if (NUMBER.matcher(number).matches() && Double.isFinite(Double.parseDouble(number))) {
          String fixed = o.symbol + " " + number;
          return fixed.equals(e) ? java.util.Optional.empty() : java.util.Optional.of(fixed);
        }
        return java.util.Optional.empty();
      }
    }
    return java.util.Optional.empty();
  }

  /** Whether {@code value} satisfies the gate; NaN never does. */
  public boolean passes(double value) {
    return !Double.isNaN(value) && op.test(value, bound);
  }

  /** The bound as written, e.g. {@code >= 0.99}. */
  public String describe() {
    return op.symbol + " " + format(bound);
  }

  /** A number with at most 6 significant digits and no trailing zeros. */
  static String format(double v) {
    if (!Double.isFinite(v)) {
      return Double.toString(v);
    }
    return new BigDecimal(v).round(new MathContext(6)).stripTrailingZeros().toPlainString();
  }
}
