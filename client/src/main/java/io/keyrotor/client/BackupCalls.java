package io.keyrotor.client;

import io.keyrotor.api.v1.BackupChunk;
import io.keyrotor.api.v1.BackupServiceGrpc;
import io.keyrotor.api.v1.CreateBackupRequest;
import java.time.Duration;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;

/**
 * Backups ({@link KeyrotorClient#backup()}; BackupService, needs ADMINISTER): the node streams the
 * backup file, and the sink gets its bytes in order. A failure before the stream ended asks again
 * from the start (a new backup at a newer index): the sink is told to {@link Sink#begin} again and
 * must discard what it had.
 */
public final class BackupCalls {
  private final CallRunner calls;

  BackupCalls(CallRunner calls) {
    this.calls = calls;
  }

  /** Where a backup's chunks go. */
  public interface Sink {
    /** A new attempt starts: discard every chunk received before. */
    void begin();

    /** The next chunk; its {@code data} follows the previous chunk's. */
    void chunk(BackupChunk chunk);
  }

  /**
   * Takes a backup on one node and streams it to {@code sink}; each attempt may take up to {@code
   * timeout} (a large keyspace streams for a while).
   *
   * @return the last chunk received (its progress counts are the totals)
   */
  public BackupChunk createBackup(Sink sink, Duration timeout) {
    return calls.read(
        "CreateBackup",
        (e, t) -> {
          sink.begin();
          BackupChunk last = BackupChunk.getDefaultInstance();
          Iterator<BackupChunk> chunks =
              BackupServiceGrpc.newBlockingStub(e.channel)
                  .withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS)
                  .createBackup(CreateBackupRequest.getDefaultInstance());
          while (chunks.hasNext()) {
            last = chunks.next();
            sink.chunk(last);
          }
          return last;
        });
  }
}
