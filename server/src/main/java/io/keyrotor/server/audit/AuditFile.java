package io.keyrotor.server.audit;

import io.keyrotor.storage.OwnerOnly;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * The append-only file under a {@link DataAuditLog}: the seam its tests replace to make writes fail
 * as a full or broken disk would. The log's writer appends and truncates; its sync threads call
 * {@link #sync} (up to as many at once as the file was opened with sync channels).
 *
 * <p>The real file may be <b>preallocated</b>: it is extended with zeros in chunks ahead of the
 * records, so that a sync after an append writes the records' pages and not also the file's new
 * size (on ext4, a size change makes {@code fdatasync} wait for a journal commit shared with every
 * other writer of the file system). Past the last record the file then holds zeros; {@link #size}
 * is where the records end, and readers stop at a zero length (no record is empty).
 */
interface AuditFile extends AutoCloseable {
  /** Bytes of records in the file: where the next append goes. */
  long size() throws IOException;

  /** Appends all of {@code bytes} at {@link #size}. */
  void append(ByteBuffer bytes) throws IOException;

  /**
   * Makes what was appended before the call durable (fdatasync). Safe from several threads at once:
   * each call syncs through a descriptor of its own, so a write-back error is reported to every
   * sync that was waiting for it, not only to the first to look.
   */
  void sync() throws IOException;

  /** Cuts the file back to {@code size} bytes (a batch that failed half way), tail included. */
  void truncate(long size) throws IOException;

  /** Cuts off the preallocated tail and closes the file. */
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

  /**
   * {@code file} opened for appending at its end (created 0600 in a 0700 directory if absent). Its
   * size is the file's until the log's recovery {@link #truncate}s it to its last whole record.
   *
   * @param preallocateBytes the chunk the file is extended by ahead of the records; 0 for none (the
   *     file grows with each append)
   * @param syncChannels how many syncs may run at once
   */
  static AuditFile open(Path file, long preallocateBytes, int syncChannels) throws IOException {
    return new PreallocatedFile(file, preallocateBytes, syncChannels);
  }

  /** {@code file} opened for appending, with no preallocation and one sync at a time. */
  static AuditFile open(Path file) throws IOException {
    return open(file, 0, 1);
  }

  /** The real file: positional writes at the records' end, zeros ahead of it. */
  final class PreallocatedFile implements AuditFile {
    /** Zeros are written in pieces of this size. */
    private static final int ZEROS = 1 << 20;

    private final FileChannel channel;
    private final List<FileChannel> syncChannels = new ArrayList<>();
    private final BlockingQueue<FileChannel> idle;
    private final long chunk;

    /** Where the records end. Writer thread only. */
    private long end;

    /** How far the file is allocated (its physical size). Writer thread only. */
    private long allocated;

    private PreallocatedFile(Path file, long chunk, int syncs) throws IOException {
      OwnerOnly.directory(file.getParent());
      this.channel =
          FileChannel.open(
              file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
      syncChannels.add(channel);
      this.chunk = chunk;
      this.idle = new ArrayBlockingQueue<>(Math.max(1, syncs));
      idle.add(channel);
      try {
        OwnerOnly.file(file);
        this.end = channel.size();
        this.allocated = end;
        for (int i = 1; i < syncs; i++) {
          FileChannel sync = FileChannel.open(file, StandardOpenOption.WRITE);
          syncChannels.add(sync);
          idle.add(sync);
        }
      } catch (IOException | RuntimeException e) {
        closeAll();
        throw e;
      }
    }

    @Override
    public long size() {
      return end;
    }

    @Override
    public void append(ByteBuffer bytes) throws IOException {
      preallocate(end + bytes.remaining());
      long at = end;
      while (bytes.hasRemaining()) {
        at += channel.write(bytes, at);
      }
      end = at;
    }

    /** Extends the file with zeros to the chunk boundary past {@code needed}, if short of it. */
    private void preallocate(long needed) throws IOException {
      if (chunk == 0 || needed <= allocated) {
        return;
      }
      long target = (needed / chunk + 1) * chunk;
      ByteBuffer zeros = ByteBuffer.allocate((int) Math.min(ZEROS, target - allocated));
      long at = allocated;
      while (at < target) {
        zeros.clear().limit((int) Math.min(zeros.capacity(), target - at));
        while (zeros.hasRemaining()) {
          at += channel.write(zeros, at);
        }
      }
      allocated = target;
    }

    @Override
    public void sync() throws IOException {
      FileChannel sync;
      try {
        sync = idle.take();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted waiting to sync", e);
      }
      try {
        sync.force(false);
      } finally {
        idle.add(sync);
      }
    }

    @Override
    public void truncate(long size) throws IOException {
      channel.truncate(size);
      end = size;
      allocated = size;
    }

    @Override
    public void close() throws IOException {
      try {
        if (channel.isOpen() && channel.size() > end) {
          channel.truncate(end);
        }
      } finally {
        closeAll();
      }
    }

    private void closeAll() throws IOException {
      IOException first = null;
      for (FileChannel c : syncChannels) {
        try {
          c.close();
        } catch (IOException e) {
          first = first == null ? e : first;
        }
      }
      if (first != null) {
        throw first;
      }
    }
  }
}
