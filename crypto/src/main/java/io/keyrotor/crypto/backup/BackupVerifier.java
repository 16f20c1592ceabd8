package io.keyrotor.crypto.backup;

import io.keyrotor.crypto.AuditCheckpointSignatures;
import java.io.IOException;
import java.io.InputStream;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.LongConsumer;

/**
 * Checks a backup file with no cluster: its framing, that the state digest recomputed over its
 * records (and the audit head) equals the header's, and that its signature verifies under the
 * signer's audit public key, which must be one of the trusted keys when they are given. Each
 * problem is a sentence; an intact backup has none.
 */
public final class BackupVerifier {

  /** An audit public key a verifier trusts: the node, the key version, SubjectPublicKeyInfo. */
  public record TrustedKey(
      String node, int version, @SuppressWarnings("ArrayRecordComponent") byte[] publicKey) {}

  /**
   * What a verification found.
   *
   * @param header the header, if the file had a readable one
   * @param records how many records were read
   * @param problems every problem found, empty for an intact backup
   */
  public record Result(Optional<BackupHeader> header, long records, List<String> problems) {
    public Result {
      problems = List.copyOf(problems);
    }

    /** Whether the backup is intact (and signed by a trusted key, when keys were given). */
    public boolean intact() {
      return problems.isEmpty();
    }
  }

  /** Told about each record as it is read, for example to write it into a new store. */
  @FunctionalInterface
  public interface RecordSink {
    void accept(BackupReader.Entry record) throws IOException;
  }

  private final List<TrustedKey> trusted;

  /** A verifier that requires a signer among {@code trusted}; empty trusts the embedded key. */
  public BackupVerifier(List<TrustedKey> trusted) {
    this.trusted = List.copyOf(trusted);
  }

  /** Verifies the backup read from {@code in}. */
  public Result verify(InputStream in) {
    return verify(in, record -> {}, records -> {});
  }

  /**
   * Verifies the backup read from {@code in}, handing every record to {@code sink} and telling
   * {@code progress} the records read so far (every 10,000).
   */
  public Result verify(InputStream in, RecordSink sink, LongConsumer progress) {
    List<String> problems = new ArrayList<>();
    BackupReader reader;
    try {
      reader = new BackupReader(in);
    } catch (IOException e) {
      problems.add(e.getMessage());
      return new Result(Optional.empty(), 0, problems);
    }
    BackupHeader header = reader.header();
    Set<String> digested = new HashSet<>(header.digestedFamilies());
    BackupFormat.DigestSum sum = new BackupFormat.DigestSum();
    byte[] signature;
    try {
      BackupReader.Entry record;
      while ((record = reader.next()) != null) {
        if (digested.contains(record.family())) {
          sum.add(record.family(), record.key(), record.value());
        }
        sink.accept(record);
        if (reader.records() % 10_000 == 0) {
          progress.accept(reader.records());
        }
      }
      progress.accept(reader.records());
      signature = reader.signature();
    } catch (IOException e) {
      problems.add(e.getMessage());
      return new Result(Optional.of(header), reader.records(), problems);
    }
    String recomputed = sum.report(header.auditHead());
    if (!recomputed.equals(header.stateDigest())) {
      problems.add(
          "the state digest recomputed over the records is "
              + recomputed
              + ", not the header's "
              + header.stateDigest()
              + " at index "
              + header.appliedIndex()
              + ": a record was edited, added or removed");
    }
    PublicKey signer;
    try {
      signer = AuditCheckpointSignatures.publicKey(header.signerPublicKey());
    } catch (GeneralSecurityException e) {
      problems.add("the signer's public key in the header is not an EC public key");
      return new Result(Optional.of(header), reader.records(), problems);
    }
    if (!AuditCheckpointSignatures.verify(signer, reader.signedMessage(), signature)) {
      problems.add(
          "the signature does not verify under the audit key of node "
              + header.nodeId()
              + " version "
              + header.signerKeyVersion()
              + ": the file was changed after it was signed");
    }
    if (!trusted.isEmpty() && !isTrusted(header)) {
      problems.add(
          "the signer, audit key version "
              + header.signerKeyVersion()
              + " of node "
              + header.nodeId()
              + ", is not among the trusted keys");
    }
    return new Result(Optional.of(header), reader.records(), problems);
  }

  private boolean isTrusted(BackupHeader header) {
    for (TrustedKey key : trusted) {
      if (Arrays.equals(key.publicKey(), header.signerPublicKey())) {
        return true;
      }
    }
    return false;
  }
}
