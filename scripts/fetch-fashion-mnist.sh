#!/usr/bin/env sh
# Fetches Fashion-MNIST (Zalando Research, MIT licence; 60,000 training and 10,000 test images of
# 28x28 grey pixels in 10 classes, IDX format, gzipped) from Debian's package
# `dataset-fashion-mnist` (about 31 MB) and unpacks it into DIR (default target/fashion-mnist):
#
#   scripts/fetch-fashion-mnist.sh [DIR]
#
# The files land in DIR/usr/share/datasets/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz.
# Needs apt-get (it downloads the .deb only, installs nothing) and dpkg-deb.
set -eu
dir=${1:-target/fashion-mnist}
data="$dir/usr/share/datasets/fashion-mnist"
if [ -f "$data/t10k-labels-idx1-ubyte.gz" ]; then
  echo "$data"
  exit 0
fi
mkdir -p "$dir"
echo "fetch-fashion-mnist: downloading Debian package dataset-fashion-mnist (~31 MB) into $dir" >&2
(cd "$dir" && apt-get download dataset-fashion-mnist >&2)
dpkg-deb -x "$dir"/dataset-fashion-mnist_*.deb "$dir"
rm -f "$dir"/dataset-fashion-mnist_*.deb
echo "$data"
