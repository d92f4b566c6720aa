# Sourced (POSIX sh) by ./mvnw, ./compress and .ci/run: picks a JDK 21+ and exports JAVA_HOME.
# Order: $JAVA_HOME, then `java` on PATH, then the usual install folders. Fails with one clear line.
compress_java_major() {
  # prints the feature version of the java binary $1, or nothing
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9][0-9]*\).*/\1/p' | head -n 1
}
compress_find_jdk() {
  # callers may run with `set -f` (./mvnw does); the folder globs below need globbing
  case $- in *f*) _noglob=1; set +f ;; *) _noglob=0 ;; esac
  _cands=""
  [ -n "${JAVA_HOME-}" ] && _cands="$JAVA_HOME"
  _onpath=$(command -v java 2>/dev/null || true)
  if [ -n "$_onpath" ]; then
    _real=$(readlink -f "$_onpath" 2>/dev/null || echo "$_onpath")
    _cands="$_cands ${_real%/bin/java}"
  fi
  for _d in /usr/lib/jvm/* /opt/java/* /opt/jdk* /usr/local/lib/jvm/* "$HOME"/.sdkman/candidates/java/* "$HOME"/.jdks/*; do
    [ -d "$_d" ] && _cands="$_cands $_d"
  done
  [ "$_noglob" = 1 ] && set -f
  for _h in $_cands; do
    [ -x "$_h/bin/java" ] && [ -x "$_h/bin/javac" ] || continue
    _v=$(compress_java_major "$_h/bin/java")
    if [ -n "$_v" ] && [ "$_v" -ge 21 ]; then
      JAVA_HOME="$_h"; export JAVA_HOME; return 0
    fi
  done
  echo "error: no JDK 21 or newer found (looked at JAVA_HOME, java on PATH, /usr/lib/jvm, /opt/java). Install one (e.g. Temurin 21+) and set JAVA_HOME." >&2
  return 1
}
compress_find_jdk || exit 1
