package io.keyrotor.storage.schema;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.keyrotor.storage.StateDigest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One write batch and the digest it moves, on a real RocksDB. */
class StateBatchTest {
  @TempDir Path dir;

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void putReplaceDelete_digestFollowsTheDataExactly() throws Exception {
    try (StateDatabase database = StateDatabase.open(dir)) {
      StateDigest digest = StateDigest.empty();
      try (StateBatch batch = new StateBatch(database, digest)) {
        batch.put(Schema.KEYS, bytes("k"), bytes("v1"));
        batch.commit();
      }
      StateDigest afterFirst = StateDigest.fromBytes(digest.toBytes());
      try (StateBatch batch = new StateBatch(database, digest)) {
        batch.put(Schema.KEYS, bytes("k"), bytes("v2"), bytes("v1"));
        batch.commit();
      }
      StateDigest onlyV2 = StateDigest.empty();
      onlyV2.add(Schema.KEYS, bytes("k"), bytes("v2"));
      assertEquals(onlyV2, digest, "replacing removes the old value's share");
      assertNotEquals(afterFirst, digest);

      try (StateBatch batch = new StateBatch(database, digest)) {
        batch.delete(Schema.KEYS, bytes("k"), bytes("v2"));
        batch.commit();
      }
      assertEquals(StateDigest.empty(), digest);
      assertNull(database.get(Schema.KEYS, bytes("k")));
    }
  }

  @Test
  void put_familyLeftOutOfTheDigest_writesWithoutMovingIt() throws Exception {
    try (StateDatabase database = StateDatabase.open(dir)) {
      StateDigest digest = StateDigest.empty();
      try (StateBatch batch = new StateBatch(database, digest)) {
        batch.put(Schema.AUDIT, bytes("1"), bytes("record"));
        batch.put(Schema.REQUEST_EXPIRY, bytes("t"), new byte[0]);
        batch.commit();
      }
      assertEquals(StateDigest.empty(), digest);
      assertArrayEquals(bytes("record"), database.get(Schema.AUDIT, bytes("1")));
    }
  }

  @Test
  void uncommitted_writesNothing() throws Exception {
    try (StateDatabase database = StateDatabase.open(dir)) {
      try (StateBatch batch = new StateBatch(database, StateDigest.empty())) {
        batch.put(Schema.KEYS, bytes("k"), bytes("v"));
      }
      assertNull(database.get(Schema.KEYS, bytes("k")));
    }
  }
}
