package io.keyrotor.storage;

/**
 * Where the background check of a store's data against its stored digest stands. A store opens
 * without reading its data (start-up does not grow with the number of keys); the check then reads
 * every entry of the digested column families from a consistent RocksDB snapshot and compares their
 * sum with the digest stored in that snapshot.
 *
 * @param state the check's state
 * @param detail why it failed ({@link State#FAILED}), else empty
 */
public record IntegrityStatus(State state, String detail) {
  /** The check's states. */
  public enum State {
    /** Under way (or not started): nothing found wrong yet. */
    CHECKING,
    /** The data matched the stored digest. */
    VERIFIED,
    /** The data does not match the stored digest, or cannot be read: the node must not serve. */
    FAILED
  }

  /** Not checked yet. */
  public static final IntegrityStatus CHECKING = new IntegrityStatus(State.CHECKING, "");

  /** Whether the check failed. */
  public boolean failed() {
    return state == State.FAILED;
  }
}
