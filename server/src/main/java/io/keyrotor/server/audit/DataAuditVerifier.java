package io.keyrotor.server.audit;

import com.google.protobuf.ByteString;
import io.keyrotor.api.v1.DataAuditRecord;
import io.keyrotor.storage.StateDigest;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks a node's exported data audit records without a node: that they form one hash chain (each
 * record's previous hash is the hash before it, its hash is SHA-256 over that and the record
 * without its hash, sequences follow each other, all from one node), and that the chain passes
 * through a head the cluster committed ({@code RecordDataAuditHead}: the replicated audit chain's
 * detail {@code node=N sequence=S head=HEX}). An edited, removed or reordered record breaks the
 * chain; a rewritten tail no longer matches the committed head.
 */
public final class DataAuditVerifier {
  private static final Pattern COMMITTED =
      Pattern.compile("node=(\\S+) sequence=(\\d+) head=([0-9a-f]{64})");

  /** A head the replicated audit chain holds for one node. */
  public record CommittedHead(String node, long sequence, String headHex) {
    /** The head in a replicated audit record's detail, if it is a data audit head. */
    public static Optional<CommittedHead> parse(String auditDetail) {
      Matcher m = COMMITTED.matcher(auditDetail);
      if (!m.matches()) {
        return Optional.empty();
      }
      return Optional.of(new CommittedHead(m.group(1), Long.parseLong(m.group(2)), m.group(3)));
    }
  }

  /** The verdict: ok, or the first sequence that fails and why. */
  public record Result(boolean ok, long failedSequence, String problem) {
    static Result passed() {
      return new Result(true, 0, "");
    }

    static Result failed(long sequence, String problem) {
      return new Result(false, sequence, problem);
    }
  }

  private DataAuditVerifier() {}

  /**
   * Verifies {@code records}, a contiguous run of one node's stream (the first may start anywhere:
   * its previous hash is taken as given, or must be the genesis hash when it is record 1).
   */
  public static Result verifyChain(List<DataAuditRecord> records) {
    ByteString previous = null;
    long expected = 0;
    String node = null;
    MessageDigest sha = StateDigest.sha256();
    for (DataAuditRecord record : records) {
      long s = record.getSequence();
      if (previous == null) {
        if (s == 1 && !record.getPreviousHash().equals(DataAuditLog.GENESIS)) {
          return Result.failed(s, "the first record does not start from the genesis hash");
        }
        node = record.getNode();
      } else {
        if (s != expected) {
          return Result.failed(s, "sequence " + s + " follows " + (expected - 1));
        }
        if (!record.getNode().equals(node)) {
          return Result.failed(
              s, "record of node " + record.getNode() + " in " + node + "'s chain");
        }
        if (!record.getPreviousHash().equals(previous)) {
          return Result.failed(s, "its previous hash is not the hash of record " + (s - 1));
        }
      }
      sha.reset();
      sha.update(record.getPreviousHash().toByteArray());
      sha.update(record.toBuilder().clearHash().build().toByteArray());
      ByteString hash = ByteString.copyFrom(sha.digest());
      if (!hash.equals(record.getHash())) {
        return Result.failed(s, "its hash does not match its content (the record was changed)");
      }
      previous = hash;
      expected = s + 1;
    }
    return Result.passed();
  }

  /**
   * Verifies {@code records} as {@link #verifyChain} does, then that the record at {@code
   * committed}'s sequence has {@code committed}'s head (so the exported chain is the one the
   * cluster witnessed up to there).
   */
  public static Result verifyAgainst(List<DataAuditRecord> records, CommittedHead committed) {
    Result chain = verifyChain(records);
    if (!chain.ok()) {
      return chain;
    }
    for (DataAuditRecord record : records) {
      if (record.getSequence() == committed.sequence()) {
        if (!record.getNode().equals(committed.node())) {
          return Result.failed(record.getSequence(), "the committed head is of another node");
        }
        String hex = HexFormat.of().formatHex(record.getHash().toByteArray());
        return hex.equals(committed.headHex())
            ? Result.passed()
            : Result.failed(
                record.getSequence(), "its hash is not the head the cluster committed for it");
      }
    }
    return Result.failed(
        committed.sequence(),
        "the records do not reach the committed sequence " + committed.sequence());
  }
}
