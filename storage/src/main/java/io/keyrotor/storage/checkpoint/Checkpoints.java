package io.keyrotor.storage.checkpoint;

import io.keyrotor.storage.OwnerOnly;
import io.keyrotor.storage.StorageException;
import io.keyrotor.storage.schema.StateDatabase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Stream;
import org.rocksdb.Checkpoint;
import org.rocksdb.RocksDBException;

/**
 * RocksDB checkpoints of a state store: a consistent copy of the whole database in another
 * directory, cheap because immutable table files are hard links. A checkpoint is itself a store
 * directory; snapshots are made of them.
 */
public final class Checkpoints {
  private Checkpoints() {}

  /**
   * Flushes every memtable, then writes a checkpoint of {@code database} to {@code target}, which
   * must not exist. The caller keeps the database still meanwhile (no apply runs).
   */
  public static void write(StateDatabase database, Path target) {
    try (Checkpoint checkpoint = Checkpoint.create(database.rocksDb())) {
      database.flush();
      checkpoint.createCheckpoint(target.toString());
    } catch (RocksDBException e) {
      throw new StorageException("cannot write checkpoint to " + target + ": " + e.getMessage(), e);
    }
  }

  /**
   * Replaces the store in {@code directory} with a copy of the checkpoint in {@code checkpoint}:
   * table files are hard-linked (copied when that is impossible), everything else copied, and the
   * checksums the snapshot transfer leaves next to the files are skipped. The store must be closed.
   */
  public static void restore(Path checkpoint, Path directory) {
    try {
      deleteRecursively(directory);
      OwnerOnly.directory(directory);
      try (Stream<Path> files = Files.list(checkpoint)) {
        for (Path file : (Iterable<Path>) files::iterator) {
          String fileName = file.getFileName().toString();
          if (fileName.endsWith(".md5")) {
            continue; // checksums written by the snapshot transfer, not part of the database
          }
          Path target = directory.resolve(fileName);
          if (fileName.endsWith(".sst")) {
            try {
              Files.createLink(target, file);
              continue;
            } catch (IOException | UnsupportedOperationException e) {
              // Different file system: fall through to a copy.
            }
          }
          Files.copy(file, target);
        }
      }
    } catch (IOException e) {
      throw new StorageException(
          "cannot restore the state store from checkpoint " + checkpoint + ": " + e, e);
    }
  }

  private static void deleteRecursively(Path path) throws IOException {
    if (!Files.exists(path)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(path)) {
      List<Path> all = new ArrayList<>(walk.toList());
      Collections.reverse(all);
      for (Path p : all) {
        Files.delete(p);
      }
    }
  }
}
