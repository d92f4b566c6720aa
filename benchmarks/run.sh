#!/usr/bin/env sh
# Kernel benchmarks (JMH): builds the benchmarks module and its classpath, runs JMH, prints the
# ratio table. One command; extra arguments go to JMH, e.g.
#   benchmarks/run.sh                          # everything, JMH defaults of the classes
#   benchmarks/run.sh -wi 2 -i 3 -w 1 -r 1     # shorter
#   benchmarks/run.sh 'LinearBench' -p shape=4096x4096 -p m=1 BandwidthBench
# The JSON lands in benchmarks/target/jmh.json (BENCH_OUT overrides); rerun only the table with
#   benchmarks/run.sh --table-only
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/.mvn/find-jdk.sh"
cd "$root"
out=${BENCH_OUT:-benchmarks/target/jmh.json}
cp="benchmarks/target/classes:benchmarks/target/lib/*"
if [ "${1-}" != "--table-only" ]; then
  ./mvnw -q -B -pl benchmarks -am package -Pbench -DskipTests -Dspotless.check.skip=true
  # DJL extracts PyTorch's native library here, inside the build folder (never in $HOME).
  DJL_CACHE_DIR="$root/benchmarks/target/djl-cache"; export DJL_CACHE_DIR
  PYTORCH_PRECXX11=false; export PYTORCH_PRECXX11
  "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector -cp "$cp" org.openjdk.jmh.Main \
    -rf json -rff "$out" "$@"
fi
"$JAVA_HOME/bin/java" -cp "$cp" dev.compress.benchmarks.BenchTable "$out"
