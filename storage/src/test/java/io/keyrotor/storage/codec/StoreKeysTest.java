package io.keyrotor.storage.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class StoreKeysTest {
  private static final HexFormat HEX = HexFormat.of();

  @Test
  void eventKey_knownBytes_indexThenSequenceBigEndian() {
    assertEquals("000000000000010200000003", HEX.formatHex(StoreKeys.eventKey(258, 3)));
  }

  @Test
  void eventKeys_sortBytewiseInLogOrder() {
    assertTrue(compare(StoreKeys.eventKey(1, 65_535), StoreKeys.eventKey(2, 0)) < 0);
    assertTrue(compare(StoreKeys.eventKey(2, 0), StoreKeys.eventKey(2, 1)) < 0);
    assertTrue(compare(StoreKeys.eventKey(255, 0), StoreKeys.eventKey(256, 0)) < 0);
  }

  @Test
  void keyEventKey_knownBytes_nameZeroThenEventKey() {
    assertEquals(
        "6b3100" + "0000000000000007" + "00000002",
        HEX.formatHex(StoreKeys.keyEventKey("k1", 7, 2)));
  }

  @Test
  void keyEventPrefix_ofOneName_doesNotMatchANameItPrefixes() {
    byte[] ofA = StoreKeys.keyEventPrefix("a");

    assertTrue(StoreKeys.startsWith(StoreKeys.keyEventKey("a", 1, 0), ofA));
    assertFalse(StoreKeys.startsWith(StoreKeys.keyEventKey("ab", 1, 0), ofA));
  }

  @Test
  void eventKeyOfKeyEvent_pointsToTheEventsKey() {
    byte[] prefix = StoreKeys.keyEventPrefix("orders");

    assertArrayEquals(
        StoreKeys.eventKey(42, 5),
        StoreKeys.eventKeyOfKeyEvent(StoreKeys.keyEventKey("orders", 42, 5), prefix.length));
  }

  @Test
  void requestExpiryKey_roundTripsTimeAndId_andSortsByTime() {
    byte[] key = StoreKeys.requestExpiryKey(1_700_000_000_000L, "req-é");

    assertEquals(1_700_000_000_000L, StoreKeys.requestExpiryTime(key));
    assertArrayEquals(StoreKeys.utf8("req-é"), StoreKeys.requestExpiryId(key));
    assertTrue(
        compare(StoreKeys.requestExpiryKey(9, "zzz"), StoreKeys.requestExpiryKey(10, "aaa")) < 0);
  }

  @Test
  void fixedWidthValues_roundTrip() {
    assertEquals(-5L, StoreKeys.readLong(StoreKeys.longBytes(-5L)));
    assertEquals(7, StoreKeys.readInt(StoreKeys.intBytes(7)));
    byte[] position = StoreKeys.twoLongs(3, 99);
    assertEquals(3, StoreKeys.readLong(position));
    assertEquals(99, StoreKeys.readSecondLong(position));
    assertArrayEquals(StoreKeys.longBytes(12), StoreKeys.auditKey(12));
  }

  /** RocksDB's default comparator: unsigned bytewise. */
  private static int compare(byte[] a, byte[] b) {
    return Arrays.compareUnsigned(a, b);
  }
}
