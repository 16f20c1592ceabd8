package io.keyrotor.crypto.backup;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.DigestOutputStream;
import java.security.MessageDigest;

/**
 * Writes a backup file ({@link BackupFormat}) record by record, hashing what it writes, so a backup
 * of any size needs no more memory than one record. Call {@link #finish} after the last record,
 * sign the hash it returns, and hand the signature to {@link #writeSignature}.
 */
public final class BackupWriter {
  private final MessageDigest content = BackupFormat.sha256();
  private final DataOutputStream hashed;
  private final DataOutputStream plain;
  private long records;
  private boolean finished;

  /** Writes the magic, the version and {@code header} to {@code out}. */
  public BackupWriter(OutputStream out, BackupHeader header) throws IOException {
    this.plain = new DataOutputStream(out);
    this.hashed = new DataOutputStream(new DigestOutputStream(out, content));
    hashed.write(BackupFormat.MAGIC);
    hashed.writeShort(BackupFormat.VERSION);
    byte[] encoded = encode(header);
    hashed.writeInt(encoded.length);
    hashed.write(encoded);
  }

  /** Appends one record of {@code family}. */
  public void record(String family, byte[] key, byte[] value) throws IOException {
    if (finished) {
      throw new IllegalStateException("the backup is finished");
    }
    hashed.writeByte(BackupFormat.RECORD);
    writeBytes(hashed, family.getBytes(StandardCharsets.UTF_8));
    writeBytes(hashed, key);
    writeBytes(hashed, value);
    records++;
  }

  /** How many records were written. */
  public long records() {
    return records;
  }

  /** Ends the records; returns the message the signature must cover. */
  public byte[] finish() throws IOException {
    finished = true;
    hashed.writeByte(BackupFormat.END);
    hashed.writeLong(records);
    hashed.flush();
    return BackupFormat.signedMessage(content.digest());
  }

  /** Writes the signature over {@link #finish}'s message: the file is complete. */
  public void writeSignature(byte[] signature) throws IOException {
    if (!finished) {
      throw new IllegalStateException("finish the records before signing");
    }
    plain.writeInt(signature.length);
    plain.write(signature);
    plain.flush();
  }

  static byte[] encode(BackupHeader header) throws IOException {
    var bytes = new java.io.ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      writeString(out, header.clusterName());
      writeString(out, header.nodeId());
      out.writeLong(header.appliedTerm());
      out.writeLong(header.appliedIndex());
      out.writeLong(header.createdUnixMillis());
      writeString(out, header.stateDigest());
      writeBytes(out, header.auditHead());
      out.writeInt(header.signerKeyVersion());
      writeBytes(out, header.signerPublicKey());
      out.writeInt(header.digestedFamilies().size());
      for (String family : header.digestedFamilies()) {
        writeString(out, family);
      }
    }
    return bytes.toByteArray();
  }

  private static void writeString(DataOutputStream out, String s) throws IOException {
    writeBytes(out, s.getBytes(StandardCharsets.UTF_8));
  }

  private static void writeBytes(DataOutputStream out, byte[] b) throws IOException {
    out.writeInt(b.length);
    out.write(b);
  }
}
