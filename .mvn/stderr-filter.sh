# Sourced (POSIX sh) by ./compress. The JVM prints "WARNING: Using incubator modules:
# jdk.incubator.vector" on every start when the Vector API module is added, and has no option to
# silence it. compress_stderr_filter copies its stdin to its stdout, dropping that one line when
# it comes among the first lines (the JVM prints it while booting, before any of our output);
# everything else passes unchanged and, after that line, byte for byte and unbuffered (cat), so
# progress bars redrawn with \r still show at once.
compress_stderr_filter() {
  _n=0
  while [ "$_n" -lt 20 ] && IFS= read -r _line; do
    case $_line in
      "WARNING: Using incubator modules: "*) exec cat ;;
      *) printf '%s\n' "$_line" ;;
    esac
    _n=$((_n + 1))
  done
  # a last line without a newline (input ended), or 20 lines without the warning: pass the rest
  if [ -n "${_line-}" ] && [ "$_n" -lt 20 ]; then
    printf '%s' "$_line"
  fi
  exec cat
}
