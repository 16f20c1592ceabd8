package io.keyrotor.storage;

/**
 * A state that can be read whole at one applied position, for backups. Apart from {@link StateView}
 * because only the store behind it can take a consistent snapshot: a view over records in memory (a
 * test's, a reader's) has none to offer.
 */
public interface StateExportSource {
  /**
   * The whole state at the current applied position, read page by page from a snapshot of the store
   * while apply goes on. Close it to release the snapshot.
   *
   * @throws StorageException when the store is closed (replaced by a snapshot or stopping)
   */
  StateExport export();
}
