package io.keyrotor.storage;

/**
 * An infrastructure failure of the state store (RocksDB I/O, corruption). Never a business rule:
 * those are results of {@link KeyStateStore#apply}. The consensus layer treats this as fatal for
 * the node, so the entry is replayed after a restart instead of being skipped on one replica.
 */
public class StorageException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public StorageException(String message) {
    super(message);
  }

  public StorageException(String message, Throwable cause) {
    super(message, cause);
  }
}
