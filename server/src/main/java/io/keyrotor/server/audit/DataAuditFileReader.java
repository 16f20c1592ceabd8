package io.keyrotor.server.audit;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import io.keyrotor.api.v1.DataAuditRecord;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Reads a data audit log file: length-delimited {@link DataAuditRecord}s, ended by the end of the
 * file or by a zero length (no record is empty: past the last record a preallocated file holds
 * zeros). Used at open, to find where the records end, and by {@link DataAuditLog#read}.
 */
final class DataAuditFileReader {
  /**
   * What recovery found.
   *
   * @param end bytes of whole records, each following the one before it
   * @param tailHasData whether any byte after {@code end} is not zero: a record a crash tore (a
   *     write never acknowledged) rather than only the preallocated tail
   */
  record Recovered(long end, long lastSequence, ByteString lastHash, boolean tailHasData) {}

  private DataAuditFileReader() {}

  /**
   * Reads {@code path}'s first {@code size} bytes to the last whole record that follows the one
   * before it (sequence one more, previous hash its hash), putting the offset of every record whose
   * sequence is 1 modulo {@code indexEvery} in {@code offsets}. A record cut short, one that does
   * not parse, a zero length, or a record out of sequence (bytes of a batch that was never
   * acknowledged) ends the records.
   */
  static Recovered recover(
      Path path, long size, ByteString genesis, Map<Long, Long> offsets, int indexEvery)
      throws IOException {
    long good = 0;
    long lastSequence = 0;
    ByteString lastHash = genesis;
    if (size > 0) {
      try (InputStream in = new BufferedInputStream(Files.newInputStream(path))) {
        CodedInputStream coded = CodedInputStream.newInstance(in);
        while (good < size) {
          DataAuditRecord record;
          try {
            record = next(coded);
          } catch (IOException torn) {
            break;
          }
          long after = good + coded.getTotalBytesRead();
          coded.resetSizeCounter();
          if (record == null
              || after > size
              || record.getSequence() != lastSequence + 1
              || !record.getPreviousHash().equals(lastHash)) {
            break;
          }
          if (record.getSequence() % indexEvery == 1) {
            offsets.put(record.getSequence(), good);
          }
          lastSequence = record.getSequence();
          lastHash = record.getHash();
          good = after;
        }
      }
    }
    return new Recovered(good, lastSequence, lastHash, anyByteSet(path, good, size));
  }

  /** Whether any of {@code path}'s bytes from {@code from} to {@code to} is not zero. */
  private static boolean anyByteSet(Path path, long from, long to) throws IOException {
    if (from >= to) {
      return false;
    }
    try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
      ByteBuffer buffer = ByteBuffer.allocate(1 << 16);
      long at = from;
      while (at < to) {
        buffer.clear().limit((int) Math.min(buffer.capacity(), to - at));
        int read = channel.read(buffer, at);
        if (read < 0) {
          return false;
        }
        for (int i = 0; i < read; i++) {
          if (buffer.get(i) != 0) {
            return true;
          }
        }
        at += read;
      }
    }
    return false;
  }

  /**
   * The records after sequence {@code afterSequence} that {@code filter} keeps, at most {@code
   * limit}, reading {@code path} from offset {@code start} (a record's start) up to {@code end}.
   */
  static List<DataAuditRecord> read(
      Path path,
      long start,
      long end,
      long afterSequence,
      int limit,
      Predicate<DataAuditRecord> filter)
      throws IOException {
    List<DataAuditRecord> out = new ArrayList<>();
    try (InputStream raw = Files.newInputStream(path)) {
      raw.skipNBytes(start);
      CodedInputStream coded = CodedInputStream.newInstance(new BufferedInputStream(raw));
      long position = start;
      while (position < end && out.size() < limit) {
        DataAuditRecord record = next(coded);
        if (record == null) {
          throw new IOException("a zero length at offset " + position + ", before the records end");
        }
        position += coded.getTotalBytesRead();
        coded.resetSizeCounter();
        if (record.getSequence() > afterSequence && filter.test(record)) {
          out.add(record);
        }
      }
    }
    return out;
  }

  /** The next record, or null at a zero length (the end of the records). */
  private static DataAuditRecord next(CodedInputStream coded) throws IOException {
    int length = coded.readRawVarint32();
    if (length == 0) {
      return null;
    }
    return DataAuditRecord.parseFrom(coded.readRawBytes(length));
  }
}
