package io.keyrotor.server.audit;

import io.keyrotor.storage.OwnerOnly;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The append-only file under a {@link DataAuditLog}: the seam its tests replace to make writes fail
 * as a full or broken disk would. Only the log's writer thread calls it.
 */
interface AuditFile extends AutoCloseable {
  /** Bytes in the file. */
  long size() throws IOException;

  /** Appends all of {@code bytes} at the end. */
  void append(ByteBuffer bytes) throws IOException;

  /** Makes what was appended durable (fdatasync). */
  void sync() throws IOException;

  /** Cuts the file back to {@code size} bytes (a batch that failed half way). */
  void truncate(long size) throws IOException;

  @Override
  void close() throws IOException;

  /** A file that fails every operation with {@code failure} (a log that could not be opened). */
  static AuditFile closed(IOException failure) {
    return new AuditFile() {
      @Override
      public long size() throws IOException {
        throw failure;
      }

      @Override
      public void append(ByteBuffer bytes) throws IOException {
        throw failure;
      }

      @Override
      public void sync() throws IOException {
        throw failure;
      }

      @Override
      public void truncate(long size) throws IOException {
        throw failure;
      }

      @Override
      public void close() {}
    };
  }

  /** {@code file} opened for appending (created 0600 in a 0700 directory if absent). */
  static AuditFile open(Path file) throws IOException {
    OwnerOnly.directory(file.getParent());
    FileChannel channel =
        FileChannel.open(
            file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    OwnerOnly.file(file);
    channel.position(channel.size());
    return new AuditFile() {
      @Override
      public long size() throws IOException {
        return channel.size();
      }

      @Override
      public void append(ByteBuffer bytes) throws IOException {
        while (bytes.hasRemaining()) {
          channel.write(bytes);
        }
      }

      @Override
      public void sync() throws IOException {
        channel.force(false);
      }

      @Override
      public void truncate(long size) throws IOException {
        channel.truncate(size);
        channel.position(size);
      }

      @Override
      public void close() throws IOException {
        channel.close();
      }
    };
  }
}
