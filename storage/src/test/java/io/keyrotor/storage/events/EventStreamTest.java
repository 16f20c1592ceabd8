package io.keyrotor.storage.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.proto.internal.v1.KeyEventRecord;
import io.keyrotor.storage.StateDigest;
import io.keyrotor.storage.StateView;
import io.keyrotor.storage.schema.StateBatch;
import io.keyrotor.storage.schema.StateDatabase;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The event stream on a real RocksDB. */
class EventStreamTest {
  @TempDir Path dir;

  private static KeyEventRecord event(String key) {
    return KeyEventRecord.newBuilder().setKeyName(key).setType(1).build();
  }

  private static List<KeyEventRecord> append(
      StateDatabase database, EventStream stream, long index, KeyEventRecord... events)
      throws Exception {
    try (StateBatch batch = new StateBatch(database, StateDigest.empty())) {
      List<KeyEventRecord> stored = stream.append(batch, index, List.of(events));
      batch.commit();
      return stored;
    }
  }

  @Test
  void append_numbersEventsWithinTheEntry_andPublishMovesTheCursor() throws Exception {
    try (StateDatabase database = StateDatabase.open(dir)) {
      EventStream stream = new EventStream(database);
      List<KeyEventRecord> stored = append(database, stream, 5, event("a"), event("b"));

      assertEquals(List.of(0, 1), stored.stream().map(KeyEventRecord::getSequence).toList());
      assertEquals(-1, stream.lastCursor(), "written, not yet published");
      stream.publish(stored);
      assertEquals(StateView.cursorOf(5, 1), stream.lastCursor());
      assertEquals(stored, stream.after(-1, 10));
      assertEquals(List.of(stored.get(1)), stream.ofKey("b", 10));
    }
  }

  @Test
  void await_wokenByPublish_longBeforeItsTimeout() throws Exception {
    try (StateDatabase database = StateDatabase.open(dir)) {
      EventStream stream = new EventStream(database);
      CompletableFuture<Boolean> waiter =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return stream.await(-1, 60_000);
                } catch (InterruptedException e) {
                  throw new IllegalStateException(e);
                }
              });
      List<KeyEventRecord> stored = append(database, stream, 1, event("a"));
      stream.publish(stored);

      assertTrue(waiter.get(20, TimeUnit.SECONDS), "woken by the new event, not by the timeout");
      assertFalse(stream.await(stream.lastCursor(), 10), "nothing newer");
    }
  }

  @Test
  void open_existingStream_resumesAfterItsNewestEvent() throws Exception {
    try (StateDatabase database = StateDatabase.open(dir)) {
      EventStream stream = new EventStream(database);
      stream.publish(append(database, stream, 3, event("a"), event("a"), event("b")));
    }
    try (StateDatabase reopened = StateDatabase.open(dir)) {
      assertEquals(StateView.cursorOf(3, 2), new EventStream(reopened).lastCursor());
    }
  }
}
