package io.keyrotor.server.api;

import com.google.protobuf.ByteString;
import io.keyrotor.api.v1.BackupChunk;
import io.keyrotor.crypto.backup.BackupHeader;
import io.keyrotor.crypto.backup.BackupWriter;
import io.keyrotor.server.audit.AuditSigner;
import io.keyrotor.storage.StateExport;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * A backup file made as it is sent: each {@link #next} reads one page of the state export, writes
 * its records into the file format and hands on the bytes written, so neither the node nor the
 * stream holds more than a page and a chunk whatever the keyspace. The last chunk carries the
 * signature. Closes the export (releasing its RocksDB snapshot) once done or on {@link #close}.
 */
final class BackupChunks implements Iterator<BackupChunk>, AutoCloseable {
  /** Records read from the store per chunk. */
  static final int PAGE_ENTRIES = 1000;

  /** A chunk is sent once this many bytes are buffered (each chunk stays well under 4 MiB). */
  static final int CHUNK_BYTES = 256 * 1024;

  private final StateExport export;
  private final AuditSigner signer;
  private final AuditSigner.SigningKey key;
  private final ByteArrayOutputStream buffer = new ByteArrayOutputStream(CHUNK_BYTES * 2);
  private final BackupWriter writer;
  private final BackupChunk.Builder template;
  private boolean exhausted;
  private boolean done;

  BackupChunks(
      StateExport export,
      AuditSigner signer,
      AuditSigner.SigningKey key,
      String clusterName,
      String nodeId,
      long nowMillis) {
    this.export = export;
    this.signer = signer;
    this.key = key;
    BackupHeader header =
        new BackupHeader(
            clusterName,
            nodeId,
            export.position().term(),
            export.position().index(),
            nowMillis,
            export.digest(),
            export.auditHead(),
            key.version(),
            key.publicKey(),
            StateExport.digestedFamilies());
    try {
      this.writer = new BackupWriter(buffer, header);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    this.template =
        BackupChunk.newBuilder()
            .setAppliedIndex(export.position().index())
            .setRecordsEstimated(export.estimatedEntries())
            .setStateDigest(export.digest());
  }

  @Override
  public boolean hasNext() {
    return !done;
  }

  @Override
  public BackupChunk next() {
    if (done) {
      throw new NoSuchElementException();
    }
    try {
      while (!exhausted && buffer.size() < CHUNK_BYTES) {
        List<StateExport.Entry> page = export.next(PAGE_ENTRIES);
        if (page.isEmpty()) {
          exhausted = true;
          export.close();
          byte[] message = writer.finish();
          writer.writeSignature(signer.signWith(key.version(), message));
          break;
        }
        for (StateExport.Entry entry : page) {
          writer.record(entry.family().columnFamilyName(), entry.key(), entry.value());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    BackupChunk chunk =
        template
            .clone()
            .setData(ByteString.copyFrom(buffer.toByteArray()))
            .setRecordsWritten(writer.records())
            .build();
    buffer.reset();
    if (exhausted) {
      done = true;
    }
    return chunk;
  }

  @Override
  public void close() {
    done = true;
    export.close();
  }
}
