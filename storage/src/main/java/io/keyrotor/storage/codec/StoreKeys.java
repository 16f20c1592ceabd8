package io.keyrotor.storage.codec;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The byte encodings of the store's keys and fixed-width values. Every number is big-endian, so
 * RocksDB's byte order is numeric order for the non-negative values stored (log indexes, times).
 * Changing an encoding is a storage format change.
 *
 * <ul>
 *   <li>event key: (log index: 8 bytes, sequence: 4 bytes);
 *   <li>per-key event key: (key name UTF-8, 0, log index: 8 bytes, sequence: 4 bytes), so the
 *       events of one key are a contiguous range shared with no other key (names hold no 0 byte);
 *   <li>request expiry key: (command time millis: 8 bytes, request id UTF-8), in eviction order;
 *   <li>audit key: the log index, 8 bytes.
 * </ul>
 */
public final class StoreKeys {
  private static final int EVENT_KEY_LENGTH = 12;

  private StoreKeys() {}

  /** The key of an event in the event stream. */
  public static byte[] eventKey(long index, int sequence) {
    return ByteBuffer.allocate(EVENT_KEY_LENGTH).putLong(index).putInt(sequence).array();
  }

  /** The prefix every per-key event key of {@code keyName} starts with. */
  public static byte[] keyEventPrefix(String keyName) {
    byte[] name = utf8(keyName);
    return ByteBuffer.allocate(name.length + 1).put(name).put((byte) 0).array();
  }

  /** The per-key event key of an event of {@code keyName}. */
  public static byte[] keyEventKey(String keyName, long index, int sequence) {
    byte[] prefix = keyEventPrefix(keyName);
    return ByteBuffer.allocate(prefix.length + EVENT_KEY_LENGTH)
        .put(prefix)
        .putLong(index)
        .putInt(sequence)
        .array();
  }

  /**
   * The event key that a per-key event key with a prefix of {@code prefixLength} bytes points to.
   */
  public static byte[] eventKeyOfKeyEvent(byte[] keyEventKey, int prefixLength) {
    ByteBuffer tail = ByteBuffer.wrap(keyEventKey, prefixLength, keyEventKey.length - prefixLength);
    long index = tail.getLong();
    int sequence = tail.getInt();
    return eventKey(index, sequence);
  }

  /** The key that orders a request id for eviction by the time of its command. */
  public static byte[] requestExpiryKey(long timeMillis, String requestId) {
    byte[] id = utf8(requestId);
    return ByteBuffer.allocate(8 + id.length).putLong(timeMillis).put(id).array();
  }

  /** The command time of a request expiry key. */
  public static long requestExpiryTime(byte[] expiryKey) {
    return ByteBuffer.wrap(expiryKey).getLong(0);
  }

  /** The request id (UTF-8, the key of the REQUESTS family) of a request expiry key. */
  public static byte[] requestExpiryId(byte[] expiryKey) {
    return Arrays.copyOfRange(expiryKey, 8, expiryKey.length);
  }

  /** The key of the audit record of the entry at {@code index}. */
  public static byte[] auditKey(long index) {
    return longBytes(index);
  }

  /**
   * The key of the audit record of command {@code batchPosition} (0 for the first, which has the
   * entry's own key) of the batch entry at {@code index}: it sorts after the entry's first record
   * and before the next entry's.
   */
  public static byte[] auditKey(long index, int batchPosition) {
    return batchPosition == 0
        ? auditKey(index)
        : ByteBuffer.allocate(12).putLong(index).putInt(batchPosition).array();
  }

  /** {@code s} in UTF-8: how names and ids are stored as keys. */
  public static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** 8 bytes, big-endian. */
  public static byte[] longBytes(long value) {
    return ByteBuffer.allocate(8).putLong(value).array();
  }

  /** The long in the first 8 bytes. */
  public static long readLong(byte[] bytes) {
    return ByteBuffer.wrap(bytes).getLong();
  }

  /** 4 bytes, big-endian. */
  public static byte[] intBytes(int value) {
    return ByteBuffer.allocate(4).putInt(value).array();
  }

  /** The int in the first 4 bytes. */
  public static int readInt(byte[] bytes) {
    return ByteBuffer.wrap(bytes).getInt();
  }

  /** Two longs, 16 bytes: how the applied position (term, index) is stored. */
  public static byte[] twoLongs(long first, long second) {
    return ByteBuffer.allocate(16).putLong(first).putLong(second).array();
  }

  /** The second long of {@link #twoLongs}. */
  public static long readSecondLong(byte[] bytes) {
    return ByteBuffer.wrap(bytes).getLong(8);
  }

  /** Whether {@code bytes} starts with {@code prefix}. */
  public static boolean startsWith(byte[] bytes, byte[] prefix) {
    if (bytes.length < prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (bytes[i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }
}
