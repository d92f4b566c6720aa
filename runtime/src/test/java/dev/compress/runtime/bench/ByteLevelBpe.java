package dev.compress.runtime.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Learns a byte-level BPE vocabulary (Sennrich et al. 2016, with GPT-2's byte-to-unicode alphabet
 * and pre-tokenization regex, Radford et al. 2019) and writes it as a Hugging Face {@code
 * tokenizer.json} ({@code ByteLevel} pre-tokenizer and decoder, {@code BPE} model): the layout
 * GPT-2's own tokenizer file has, so the Hugging Face tokenizers library (and DJL's binding of it)
 * loads and applies it.
 *
 * <p>Ids: the 256 bytes first (id = byte value, written as GPT-2's printable stand-in character),
 * then one id per merge in the order learned, then the special end-of-text token last. Each merge
 * joins the most frequent adjacent pair of symbols over the pre-tokenized words of the training
 * text (ties: the pair whose ids are smallest, so the result is deterministic); merges never cross
 * a pre-token boundary, as the tokenizer applies them.
 */
final class ByteLevelBpe {
  /** GPT-2's pre-tokenization pattern (the ByteLevel pre-tokenizer's {@code use_regex}). */
  static final Pattern PRE =
      Pattern.compile(
          "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");

  static final String EOS = "<|endoftext|>";

  final List<String> tokens = new ArrayList<>(); // id -> token string
  final List<String> merges = new ArrayList<>(); // "left right", in rank order

  /** GPT-2's {@code bytes_to_unicode}: a printable character standing for each byte. */
  static char[] byteChars() {
    char[] out = new char[256];
    boolean[] direct = new boolean[256];
    for (int b = '!'; b <= '~'; b++) {
      direct[b] = true;
    }
    for (int b = 0xA1; b <= 0xAC; b++) {
      direct[b] = true;
    }
    for (int b = 0xAE; b <= 0xFF; b++) {
      direct[b] = true;
    }
    int n = 0;
    for (int b = 0; b < 256; b++) {
      out[b] = direct[b] ? (char) b : (char) (256 + n++);
    }
    return out;
  }

  /**
   * Learns merges on {@code text} until the vocabulary (bytes, merges, end-of-text) has {@code
   * vocab} entries.
   */
  static ByteLevelBpe learn(String text, int vocab) {
    char[] bc = byteChars();
    ByteLevelBpe bpe = new ByteLevelBpe();
    for (int b = 0; b < 256; b++) {
      bpe.tokens.add(String.valueOf(bc[b]));
    }
    // Distinct pre-tokens with their counts, as byte-id sequences.
    Map<String, Integer> counts = new HashMap<>();
    Matcher m = PRE.matcher(text);
    while (m.find()) {
      counts.merge(m.group(), 1, Integer::sum);
    }
    List<int[]> words = new ArrayList<>();
    List<Integer> freq = new ArrayList<>();
    for (Map.Entry<String, Integer> e : new TreeMap<>(counts).entrySet()) {
      byte[] bytes = e.getKey().getBytes(java.nio.charset.StandardCharsets.UTF_8);
      int[] w = new int[bytes.length];
      for (int i = 0; i < bytes.length; i++) {
        w[i] = bytes[i] & 0xFF;
      }
      words.add(w);
      freq.add(e.getValue());
    }
    int[] lens = new int[words.size()];
    for (int i = 0; i < lens.length; i++) {
      lens[i] = words.get(i).length;
    }
    Map<String, Integer> index = new HashMap<>();
    for (int i = 0; i < bpe.tokens.size(); i++) {
      index.put(bpe.tokens.get(i), i);
    }
    while (bpe.tokens.size() < vocab - 1) {
      HashMap<Long, long[]> pairs = new HashMap<>();
      for (int i = 0; i < words.size(); i++) {
        int[] w = words.get(i);
        long f = freq.get(i);
        for (int j = 0; j + 1 < lens[i]; j++) {
          long key = ((long) w[j] << 32) | w[j + 1];
          pairs.computeIfAbsent(key, k -> new long[1])[0] += f;
        }
      }
      long best = -1;
      long bestCount = 0;
      for (Map.Entry<Long, long[]> e : pairs.entrySet()) {
        long c = e.getValue()[0];
        if (c > bestCount || (c == bestCount && e.getKey() < best)) {
          best = e.getKey();
          bestCount = c;
        }
      }
      if (best < 0 || bestCount < 2) {
        break; // nothing left worth merging
      }
      int a = (int) (best >>> 32);
      int b = (int) best;
      // The same string can come from two different splits ("ab c", "a bc"): one id for it.
      String joined = bpe.tokens.get(a) + bpe.tokens.get(b);
      Integer known = index.get(joined);
      int id = known != null ? known : bpe.tokens.size();
      if (known == null) {
        bpe.tokens.add(joined);
        index.put(joined, id);
      }
      bpe.merges.add(bpe.tokens.get(a) + " " + bpe.tokens.get(b));
      for (int i = 0; i < words.size(); i++) {
        int[] w = words.get(i);
        int out = 0;
        for (int j = 0; j < lens[i]; j++) {
          if (j + 1 < lens[i] && w[j] == a && w[j + 1] == b) {
            w[out++] = id;
            j++;
          } else {
            w[out++] = w[j];
          }
        }
        lens[i] = out;
      }
    }
    bpe.tokens.add(EOS);
    return bpe;
  }

  int eosId() {
    return tokens.size() - 1;
  }

  /** The {@code tokenizer.json} document. */
  String toJson() throws java.io.IOException {
    ObjectMapper json = new ObjectMapper();
    ObjectNode root = json.createObjectNode();
    root.put("version", "1.0");
    root.putNull("truncation");
    root.putNull("padding");
    ArrayNode added = root.putArray("added_tokens");
    ObjectNode eos = added.addObject();
    eos.put("id", eosId());
    eos.put("content", EOS);
    eos.put("single_word", false);
    eos.put("lstrip", false);
    eos.put("rstrip", false);
    eos.put("normalized", false);
    eos.put("special", true);
    root.putNull("normalizer");
    root.set("pre_tokenizer", byteLevel(json, false, true));
    root.set("post_processor", byteLevel(json, true, false));
    root.set("decoder", byteLevel(json, true, true));
    ObjectNode model = root.putObject("model");
    model.put("type", "BPE");
    model.putNull("dropout");
    model.putNull("unk_token");
    model.put("continuing_subword_prefix", "");
    model.put("end_of_word_suffix", "");
    model.put("fuse_unk", false);
    model.put("byte_fallback", false);
    ObjectNode v = model.putObject("vocab");
    Map<String, Integer> ids = new LinkedHashMap<>();
    for (int i = 0; i < tokens.size(); i++) {
      ids.put(tokens.get(i), i);
    }
    ids.forEach(v::put);
    ArrayNode mg = model.putArray("merges");
    merges.forEach(mg::add);
    return json.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n";
  }

  private static ObjectNode byteLevel(ObjectMapper json, boolean prefix, boolean trim) {
    ObjectNode n = json.createObjectNode();
    n.put("type", "ByteLevel");
    n.put("add_prefix_space", prefix);
    n.put("trim_offsets", trim);
    n.put("use_regex", true);
    return n;
  }
}
