package io.keyrotor.crypto.backup;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads a backup file ({@link BackupFormat}) one record at a time. It checks the framing (magic,
 * version, lengths, the end marker and record count) and throws {@link BackupFormatException}
 * saying what is wrong; whether the content is authentic is {@link BackupVerifier}'s question.
 */
public final class BackupReader {
  private final MessageDigest content = BackupFormat.sha256();
  private final DataInputStream hashed;
  private final DataInputStream plain;
  private final BackupHeader header;
  private long records;
  private byte[] contentHash;

  /** A record of the backup. */
  public record Entry(
      String family,
      @SuppressWarnings("ArrayRecordComponent") byte[] key,
      @SuppressWarnings("ArrayRecordComponent") byte[] value) {}

  /** Reads and checks the magic, the version and the header. */
  public BackupReader(InputStream in) throws IOException {
    this.plain = new DataInputStream(in);
    this.hashed = new DataInputStream(new DigestInputStream(in, content));
    byte[] magic = new byte[BackupFormat.MAGIC.length];
    try {
      hashed.readFully(magic);
    } catch (EOFException e) {
      throw new BackupFormatException("not a keyrotor backup: the file is shorter than its magic");
    }
    if (!Arrays.equals(magic, BackupFormat.MAGIC)) {
      throw new BackupFormatException("not a keyrotor backup: it does not start with KRBACKUP");
    }
    int version = readUnsignedShort();
    if (version != BackupFormat.VERSION) {
      throw new BackupFormatException(
          "backup format version "
              + version
              + " is not supported: this keyrotor reads version "
              + BackupFormat.VERSION
              + " (use a keyrotor release that wrote it)");
    }
    byte[] encoded = readBytes("the header");
    this.header = decode(encoded);
  }

  /** The header. */
  public BackupHeader header() {
    return header;
  }

  /** The next record, or null after the last one (the record count was checked). */
  public Entry next() throws IOException {
    if (contentHash != null) {
      return null;
    }
    int tag = readByte();
    if (tag == BackupFormat.END) {
      long count = readLong("the record count");
      if (count != records) {
        throw new BackupFormatException(
            "the end marker counts " + count + " records, but the file holds " + records);
      }
      contentHash = content.digest();
      return null;
    }
    if (tag != BackupFormat.RECORD) {
      throw new BackupFormatException("record " + (records + 1) + " has an unknown tag " + tag);
    }
    String family = new String(readBytes("a record's family"), StandardCharsets.UTF_8);
    byte[] key = readBytes("a record's key");
    byte[] value = readBytes("a record's value");
    records++;
    return new Entry(family, key, value);
  }

  /** How many records were read so far. */
  public long records() {
    return records;
  }

  /** The message the signature covers; only after {@link #next} returned null. */
  public byte[] signedMessage() {
    if (contentHash == null) {
      throw new IllegalStateException("read every record first");
    }
    return BackupFormat.signedMessage(contentHash);
  }

  /** The signature, after the records; checks that nothing follows it. */
  public byte[] signature() throws IOException {
    signedMessage();
    int length;
    try {
      length = plain.readInt();
    } catch (EOFException e) {
      throw new BackupFormatException("truncated: the file ends before its signature");
    }
    if (length < 0 || length > 1024) {
      throw new BackupFormatException("the signature's length " + length + " is not plausible");
    }
    byte[] signature = new byte[length];
    try {
      plain.readFully(signature);
    } catch (EOFException e) {
      throw new BackupFormatException("truncated: the file ends inside its signature");
    }
    if (plain.read() != -1) {
      throw new BackupFormatException("bytes follow the signature: the file was appended to");
    }
    return signature;
  }

  private int readByte() throws IOException {
    int b = hashed.read();
    if (b < 0) {
      throw new BackupFormatException(
          "truncated: the file ends after " + records + " records, before its end marker");
    }
    return b;
  }

  private int readUnsignedShort() throws IOException {
    try {
      return hashed.readUnsignedShort();
    } catch (EOFException e) {
      throw new BackupFormatException("truncated: the file ends inside its version");
    }
  }

  private long readLong(String what) throws IOException {
    try {
      return hashed.readLong();
    } catch (EOFException e) {
      throw new BackupFormatException("truncated: the file ends inside " + what);
    }
  }

  private byte[] readBytes(String what) throws IOException {
    int length;
    try {
      length = hashed.readInt();
    } catch (EOFException e) {
      throw new BackupFormatException(
          "truncated: the file ends after " + records + " records, inside " + what);
    }
    if (length < 0 || length > BackupFormat.MAX_FIELD_BYTES) {
      throw new BackupFormatException(
          "after " + records + " records, " + what + " has an impossible length " + length);
    }
    byte[] bytes = new byte[length];
    try {
      hashed.readFully(bytes);
    } catch (EOFException e) {
      throw new BackupFormatException(
          "truncated: the file ends after " + records + " records, inside " + what);
    }
    return bytes;
  }

  private static BackupHeader decode(byte[] encoded) throws IOException {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(encoded))) {
      String cluster = string(in);
      String node = string(in);
      long term = in.readLong();
      long index = in.readLong();
      long created = in.readLong();
      String digest = string(in);
      byte[] head = bytes(in);
      int keyVersion = in.readInt();
      byte[] publicKey = bytes(in);
      int families = in.readInt();
      if (families < 0 || families > 1000) {
        throw new BackupFormatException("the header lists " + families + " digested families");
      }
      List<String> digested = new ArrayList<>();
      for (int i = 0; i < families; i++) {
        digested.add(string(in));
      }
      return new BackupHeader(
          cluster, node, term, index, created, digest, head, keyVersion, publicKey, digested);
    } catch (EOFException | IllegalArgumentException e) {
      throw new BackupFormatException("the header is malformed: " + e.getMessage());
    }
  }

  private static String string(DataInputStream in) throws IOException {
    return new String(bytes(in), StandardCharsets.UTF_8);
  }

  private static byte[] bytes(DataInputStream in) throws IOException {
    int length = in.readInt();
    if (length < 0 || length > in.available()) {
      throw new BackupFormatException("the header is malformed: a field of length " + length);
    }
    return in.readNBytes(length);
  }
}
