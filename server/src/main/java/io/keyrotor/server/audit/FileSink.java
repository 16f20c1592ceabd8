package io.keyrotor.server.audit;

import io.keyrotor.storage.OwnerOnly;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * {@code audit.sink.file}: one JSON object per line, appended as events happen and flushed after
 * each, for a log shipper to tail. The file is created 0600 (and a missing parent 0700). It is a
 * copy of the audit streams, not their record: it is not synced, and a write that fails is counted
 * by {@link AuditSinks}.
 */
public final class FileSink implements AuditSinks.Sink {
  private final BufferedWriter out;

  public FileSink(Path file) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null && !Files.exists(parent)) {
      OwnerOnly.directory(parent);
    }
    this.out =
        Files.newBufferedWriter(
            file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    OwnerOnly.file(file);
  }

  @Override
  public void send(AuditEvent event) throws IOException {
    out.write(event.toJson());
    out.write('\n');
    out.flush();
  }

  @Override
  public void close() {
    try {
      out.close();
    } catch (IOException e) {
      // Closing a copy; nothing to do.
    }
  }
}
