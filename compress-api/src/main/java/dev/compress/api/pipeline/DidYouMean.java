package dev.compress.api.pipeline;

import java.util.Collection;
import java.util.Locale;
import java.util.Optional;

/**
 * The "did you mean" of config messages: the known name closest to a misspelled one, by edit
 * distance (an adjacent transposition counts as one edit), ignoring case. Used for unknown keys,
 * pass types and gate metrics alike, so they suggest the same way.
 */
public final class DidYouMean {
  private DidYouMean() {}

  /**
   * The closest of {@code known} to {@code word}, if close enough to be a likely typo: at most
   * {@code min(3, max(1, length / 3))} edits.
   */
  public static Optional<String> nearest(String word, Collection<String> known) {
    String best = null;
    int bestDist = Integer.MAX_VALUE;
    String w = word.toLowerCase(Locale.ROOT);
    for (String k : known) {
      int d = distance(w, k.toLowerCase(Locale.ROOT));
      if (d < bestDist) {
        bestDist = d;
        best = k;
      }
    }
    int limit = Math.min(3, Math.max(1, word.length() / 3));
    return best != null && bestDist <= limit ? Optional.of(best) : Optional.empty();
  }

  /** Edit distance counting an adjacent transposition as one edit (optimal string alignment). */
  static int distance(String a, String b) {
    int[][] d = new int[a.length() + 1][b.length() + 1];
    for (int i = 0; i <= a.length(); i++) {
      d[i][0] = i;
    }
    for (int j = 0; j <= b.length(); j++) {
      d[0][j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        d[i][j] = Math.min(d[i - 1][j - 1] + cost, Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1));
        if (i > 1
            && j > 1
            && a.charAt(i - 1) == b.charAt(j - 2)
            && a.charAt(i - 2) == b.charAt(j - 1)) {
          d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
      }
    }
    return d[a.length()][b.length()];
  }
}
