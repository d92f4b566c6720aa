package dev.compress.evaluation.task;

import dev.compress.api.ConfigException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * How the sentence-embedding tasks turn an encoder's hidden states {@code (batch, seq, width)} into
 * what is compared with the baseline.
 */
public enum Pooling {
  /** The mean of the real tokens' states (sentence-transformers' pooling for MiniLM). */
  MEAN("mean"),
  /** The first token's state ({@code [CLS]}), as BGE and other CLS-pooled encoders are used. */
  CLS("cls"),
  /**
   * No pooling: every real token's state is compared with the baseline's on its own ({@code
   * embedding-fidelity} only).
   */
  NONE("none");

  private final String id;

  Pooling(String id) {
    this.id = id;
  }

  /** The name in configs and on the command line. */
  public String id() {
    return id;
  }

  /** Every pooling name. */
  public static List<String> ids() {
    return Arrays.stream(values()).map(Pooling::id).toList();
  }

  /**
   * The pooling named {@code name} for {@code task}.
   *
   * @param key the option or config key, for messages ({@code --pooling}, {@code evaluate.pooling})
   * @throws ConfigException naming {@code key} for an unknown name, or a pooling the task cannot
   *     use (anything but {@code mean} outside the embedding tasks, {@code none} outside {@code
   *     embedding-fidelity})
   */
  public static Pooling parse(String name, String key, TaskKind task) throws ConfigException {
    String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
    Pooling p = null;
    for (Pooling x : values()) {
      if (x.id.equals(n)) {
        p = x;
      }
    }
    if (p == null) {
      throw new ConfigException(key + " must be one of " + ids() + ", found '" + name + "'");
    }
    boolean embedding = task == TaskKind.EMBEDDING_FIDELITY || task == TaskKind.OPINION_SENTIMENT;
    if (p != MEAN && !embedding) {
      throw new ConfigException(
          key
              + ": pooling applies to the embedding-fidelity and opinion-sentiment tasks, found '"
              + name
              + "' with task "
              + task.id());
    }
    if (p == NONE && task != TaskKind.EMBEDDING_FIDELITY) {
      throw new ConfigException(
          key + ": 'none' (token-level) needs task embedding-fidelity, found task " + task.id());
    }
    return p;
  }
}
