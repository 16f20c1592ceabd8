package io.keyrotor.crypto.backup;

import java.util.List;

/**
 * What a backup says about itself, before its records: where and at which applied position it was
 * read, the state digest and audit chain head at that position, and who signs it.
 *
 * @param clusterName the name of the cluster the backup was taken from
 * @param nodeId the node whose state store was read (and whose audit key signs)
 * @param appliedTerm the Raft term of the applied position
 * @param appliedIndex the applied log index every record reflects
 * @param createdUnixMillis when the backup was taken, by the node's clock (informational)
 * @param stateDigest the state digest at the applied index, as nodes report it (hex)
 * @param auditHead the audit chain head at the applied index (32 bytes)
 * @param signerKeyVersion the version of the signer node's audit key
 * @param signerPublicKey that key's X.509 SubjectPublicKeyInfo (DER)
 * @param digestedFamilies the record families the state digest sums
 */
public record BackupHeader(
    String clusterName,
    String nodeId,
    long appliedTerm,
    long appliedIndex,
    long createdUnixMillis,
    String stateDigest,
    @SuppressWarnings("ArrayRecordComponent") byte[] auditHead,
    int signerKeyVersion,
    @SuppressWarnings("ArrayRecordComponent") byte[] signerPublicKey,
    List<String> digestedFamilies) {

  public BackupHeader {
    digestedFamilies = List.copyOf(digestedFamilies);
    if (auditHead.length != 32) {
      throw new IllegalArgumentException("an audit head is 32 bytes, not " + auditHead.length);
    }
  }
}
