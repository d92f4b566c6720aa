package dev.compress.maven;

import java.io.Writer;
import java.util.function.Consumer;

/** A writer that hands each complete line to a consumer (e.g. Maven's {@code Log#info}). */
final class LogWriter extends Writer {
  private final Consumer<String> sink;
  private final StringBuilder line = new StringBuilder();

  LogWriter(Consumer<String> sink) {
    this.sink = sink;
  }

  @Override
  public synchronized void write(char[] buf, int off, int len) {
    for (int i = off; i < off + len; i++) {
      char c = buf[i];
      if (c == '\n') {
        emit();
      } else if (c != '\r') {
        line.append(c);
      }
    }
  }

  private void emit() {
    sink.accept(line.toString());
    line.setLength(0);
  }

  @Override
  public synchronized void flush() {}

  @Override
  public synchronized void close() {
    if (!line.isEmpty()) {
      emit();
    }
  }
}
