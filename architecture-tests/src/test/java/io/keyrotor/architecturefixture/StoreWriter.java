package io.keyrotor.architecturefixture;

import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.storage.KeyStateStore;

/** Deliberately bad: code outside consensus that applies a command to the store. */
public final class StoreWriter {
  private StoreWriter() {}

  public static void write(KeyStateStore store, Command command) {
    store.apply(command, 1, 1);
  }
}
