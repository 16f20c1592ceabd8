package io.keyrotor.chaos.history;

import com.google.gson.JsonElement;
import java.util.Objects;

/**
 * One line of {@code history.jsonl}.
 *
 * <p>Nullable components end in {@code OrNull}: the node is absent for most nemesis events, the key
 * for nemesis events, the value for requests without arguments, the revision for anything but an
 * {@code ok} that carries the key's revision, the error for anything but {@code fail} and {@code
 * info}. The value is deep-copied on the way in and out, so an event is immutable.
 *
 * @param index position in the history, assigned by the recorder, strictly increasing
 * @param type invoke, ok, fail or info
 * @param process the client process or {@link ProcessId#NEMESIS}
 * @param nodeOrNull the node the request was sent to (for example "n2")
 * @param f the operation name (for example "rotate", "get-primary", "start-partition")
 * @param keyOrNull the key the operation is about
 * @param valueOrNull the operation's argument (on invoke) or result (on ok), as JSON
 * @param revOrNull the key's revision returned by the server (the Raft index of its last change)
 * @param errorOrNull the error of a fail or info (a gRPC status name or an exception class)
 * @param timeNanos {@code System.nanoTime()} minus the run start, on the driver's one clock
 */
public record Event(
    long index,
    EventType type,
    ProcessId process,
    String nodeOrNull,
    String f,
    String keyOrNull,
    JsonElement valueOrNull,
    Long revOrNull,
    String errorOrNull,
    long timeNanos) {

  public Event {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(process, "process");
    Objects.requireNonNull(f, "f");
    if (f.isEmpty()) {
      throw new IllegalArgumentException("f must not be empty");
    }
    if (index < 0) {
      throw new IllegalArgumentException("index must not be negative: " + index);
    }
    if (timeNanos < 0) {
      throw new IllegalArgumentException("t must not be negative: " + timeNanos);
    }
    valueOrNull = valueOrNull == null || valueOrNull.isJsonNull() ? null : valueOrNull.deepCopy();
  }

  @Override
  public JsonElement valueOrNull() {
    return valueOrNull == null ? null : valueOrNull.deepCopy();
  }

  /** One line of the history, as the recorder writes it. */
  @Override
  public String toString() {
    return HistoryCodec.toJsonLine(this);
  }
}
