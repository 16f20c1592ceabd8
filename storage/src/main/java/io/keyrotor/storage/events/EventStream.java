package io.keyrotor.storage.events;

import com.google.protobuf.InvalidProtocolBufferException;
import io.keyrotor.proto.internal.v1.KeyEventRecord;
import io.keyrotor.storage.StateView;
import io.keyrotor.storage.codec.StoreKeys;
import io.keyrotor.storage.schema.Schema;
import io.keyrotor.storage.schema.StateBatch;
import io.keyrotor.storage.schema.StateDatabase;
import java.util.ArrayList;
import java.util.List;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;

/**
 * The lifecycle event stream: the events of every applied command in log order, in {@code EVENTS}
 * by (log index, sequence), with an index by key in {@code KEY_EVENTS}. Events are derived from
 * commands (the audit chain covers those), so they are left out of the digest.
 *
 * <p>Appended by the apply thread in two steps: {@link #append} puts a command's events into its
 * batch, and {@link #publish} moves the cursor and wakes the waiters once the batch is written.
 * Readers on any thread read after a cursor ({@link StateView#cursorOf}), by key, or wait for
 * something newer.
 */
public final class EventStream {
  private final StateDatabase database;
  private final Object signal = new Object();

  /** The cursor of the newest event; -1 when there is none. */
  private volatile long lastCursor = -1;

  /** Opens the stream of {@code database}, positioned after its newest stored event. */
  public EventStream(StateDatabase database)
      throws RocksDBException, InvalidProtocolBufferException {
    this.database = database;
    try (RocksIterator it = database.newIterator(Schema.EVENTS)) {
      it.seekToLast();
      if (it.isValid()) {
        KeyEventRecord last = KeyEventRecord.parseFrom(it.value());
        lastCursor = StateView.cursorOf(last.getLogIndex(), last.getSequence());
      }
      it.status();
    }
  }

  /**
   * Puts {@code events}, caused by the entry at {@code index}, into {@code batch}, numbered in
   * order after the events already stored for that index (the earlier commands of a batch entry);
   * returns them as stored (with log index and sequence).
   */
  public List<KeyEventRecord> append(StateBatch batch, long index, List<KeyEventRecord> events)
      throws RocksDBException {
    List<KeyEventRecord> stored = new ArrayList<>();
    // The commands of a batch entry share its index: each goes on from the one before.
    int first =
        lastCursor >= 0 && (lastCursor >>> 16) == index ? (int) (lastCursor & 0xffff) + 1 : 0;
    for (KeyEventRecord event : events) {
      KeyEventRecord numbered =
          event.toBuilder().setLogIndex(index).setSequence(first + stored.size()).build();
      stored.add(numbered);
      batch.put(
          Schema.EVENTS, StoreKeys.eventKey(index, numbered.getSequence()), numbered.toByteArray());
      batch.put(
          Schema.KEY_EVENTS,
          StoreKeys.keyEventKey(numbered.getKeyName(), index, numbered.getSequence()),
          new byte[0]);
    }
    return stored;
  }

  /** Moves the cursor past {@code stored} (from {@link #append}) and wakes the waiters. */
  public void publish(List<KeyEventRecord> stored) {
    if (stored.isEmpty()) {
      return;
    }
    KeyEventRecord last = stored.get(stored.size() - 1);
    lastCursor = StateView.cursorOf(last.getLogIndex(), last.getSequence());
    synchronized (signal) {
      signal.notifyAll();
    }
  }

  /** The cursor of the newest event, or -1 if there is none yet. */
  public long lastCursor() {
    return lastCursor;
  }

  /** Up to {@code limit} events after {@code cursor} (exclusive), in log order. */
  public List<KeyEventRecord> after(long cursor, int limit) {
    long next = cursor + 1;
    return database.read(
        "the event stream",
        db -> {
          List<KeyEventRecord> out = new ArrayList<>();
          try (RocksIterator it = db.newIterator(Schema.EVENTS)) {
            for (it.seek(StoreKeys.eventKey(Math.max(0, next >>> 16), (int) (next & 0xffff)));
                it.isValid() && out.size() < limit;
                it.next()) {
              out.add(KeyEventRecord.parseFrom(it.value()));
            }
            it.status();
          }
          return out;
        });
  }

  /** The events of one key, oldest first, at most {@code limit}. */
  public List<KeyEventRecord> ofKey(String name, int limit) {
    byte[] prefix = StoreKeys.keyEventPrefix(name);
    return database.read(
        "the events of key " + name,
        db -> {
          List<KeyEventRecord> out = new ArrayList<>();
          try (RocksIterator it = db.newIterator(Schema.KEY_EVENTS)) {
            for (it.seek(prefix); it.isValid() && out.size() < limit; it.next()) {
              byte[] key = it.key();
              if (!StoreKeys.startsWith(key, prefix)) {
                break;
              }
              byte[] value =
                  db.get(Schema.EVENTS, StoreKeys.eventKeyOfKeyEvent(key, prefix.length));
              if (value != null) {
                out.add(KeyEventRecord.parseFrom(value));
              }
            }
            it.status();
          }
          return out;
        });
  }

  /**
   * Waits until an event after {@code cursor} exists, {@code timeoutMillis} passed, or the store is
   * closed; returns whether one exists.
   */
  public boolean await(long cursor, long timeoutMillis) throws InterruptedException {
    long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
    synchronized (signal) {
      while (lastCursor <= cursor && !database.isClosed()) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        signal.wait(Math.max(1, left / 1_000_000));
      }
    }
    return lastCursor > cursor;
  }
}
