package io.keyrotor.architecturefixture;

import org.rocksdb.RocksDB;

/** Deliberately bad: RocksDB used outside storage. */
public final class RocksDbUser {
  private RocksDbUser() {}

  public static void load() {
    RocksDB.loadLibrary();
  }
}
