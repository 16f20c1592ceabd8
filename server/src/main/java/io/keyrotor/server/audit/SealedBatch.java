package io.keyrotor.server.audit;

import com.google.protobuf.ByteString;
import io.keyrotor.api.v1.DataAuditRecord;
import io.keyrotor.storage.StateDigest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;

/**
 * A batch of data audit records chained onto a head: each given its sequence, node and previous
 * hash, then its hash (SHA-256 over the previous hash and the record without its hash), and
 * serialized length-delimited, as they go into the file.
 *
 * @param records the sealed records, in order
 * @param starts each record's offset in the file
 * @param bytes what is appended to the file
 * @param head the last record's sequence and hash
 */
record SealedBatch(
    List<DataAuditRecord> records, List<Long> starts, ByteString bytes, DataAuditLog.Head head) {

  /**
   * Seals {@code records} (their builders are filled in) after {@code head}, at offset {@code at}.
   */
  static SealedBatch seal(
      List<DataAuditRecord.Builder> records, DataAuditLog.Head head, String node, long at) {
    long next = head.sequence();
    ByteString previous = head.hash();
    List<DataAuditRecord> sealed = new ArrayList<>(records.size());
    List<Long> starts = new ArrayList<>(records.size());
    ByteString.Output out = ByteString.newOutput(records.size() * 160);
    MessageDigest sha = StateDigest.sha256();
    for (DataAuditRecord.Builder builder : records) {
      next++;
      DataAuditRecord unsigned =
          builder.setSequence(next).setNode(node).setPreviousHash(previous).clearHash().build();
      sha.reset();
      sha.update(previous.toByteArray());
      sha.update(unsigned.toByteArray());
      previous = ByteString.copyFrom(sha.digest());
      DataAuditRecord record = unsigned.toBuilder().setHash(previous).build();
      starts.add(at + out.size());
      try {
        record.writeDelimitedTo(out);
      } catch (IOException e) {
        throw new UncheckedIOException("a byte array stream does not fail", e);
      }
      sealed.add(record);
    }
    return new SealedBatch(
        List.copyOf(sealed),
        List.copyOf(starts),
        out.toByteString(),
        new DataAuditLog.Head(next, previous));
  }
}
