package io.keyrotor.crypto;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The message a destruction receipt's signature signs, shared by the node that signs it and every
 * verifier, so a receipt can be checked offline with the audit public keys alone: {@code
 * "keyrotor-destruction-receipt-v1" || 0x00 || name || version (4 bytes) || destroyed time (Unix
 * ms, 8 bytes) || scheduled destroy time (ms, 8 bytes) || scheduled by || log index (8 bytes) ||
 * audit record hash (32 bytes) || zone || signer node || key version (4 bytes)}, every string as
 * its UTF-8 length (2 bytes) and bytes, every number big-endian. Signed with the audit key, so
 * {@link AuditCheckpointSignatures#verify} checks it; the distinct domain keeps a receipt signature
 * from ever passing as a checkpoint's or a backup's.
 */
public final class DestructionReceiptSignatures {
  private static final byte[] DOMAIN =
      "keyrotor-destruction-receipt-v1".getBytes(StandardCharsets.US_ASCII);

  private DestructionReceiptSignatures() {}

  /** What a receipt states: the destroyed version, when, on whose schedule, and its chain place. */
  public record Receipt(
      String name,
      int version,
      long destroyedTimeMillis,
      long scheduledDestroyTimeMillis,
      String scheduledBy,
      long logIndex,
      @SuppressWarnings("ArrayRecordComponent") byte[] auditRecordHash,
      String zone) {}

  /** The signed message of {@code receipt} signed by audit key {@code keyVersion} of a node. */
  public static byte[] message(Receipt receipt, String signerNode, int keyVersion) {
    if (receipt.auditRecordHash().length != 32) {
      throw new IllegalArgumentException(
          "an audit record hash is 32 bytes, not " + receipt.auditRecordHash().length);
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.write(DOMAIN);
      out.writeByte(0);
      string(out, receipt.name());
      out.writeInt(receipt.version());
      out.writeLong(receipt.destroyedTimeMillis());
      out.writeLong(receipt.scheduledDestroyTimeMillis());
      string(out, receipt.scheduledBy());
      out.writeLong(receipt.logIndex());
      out.write(receipt.auditRecordHash());
      string(out, receipt.zone());
      string(out, signerNode);
      out.writeInt(keyVersion);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  private static void string(DataOutputStream out, String value) throws IOException {
    byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
    if (utf8.length > 0xFFFF) {
      throw new IllegalArgumentException("a receipt's strings are at most 65535 bytes");
    }
    out.writeShort(utf8.length);
    out.write(utf8);
  }
}
