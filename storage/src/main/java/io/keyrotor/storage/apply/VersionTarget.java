package io.keyrotor.storage.apply;

import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;

/**
 * The version a command names, found in its key: where a {@link VersionHandler} starts.
 *
 * @param key the key, as the command reads it
 * @param version the version of {@code key} the command names
 */
public record VersionTarget(KeyRecord key, KeyVersionRecord version) {
  /** The key's name. */
  public String name() {
    return key.getName();
  }

  /** The version's number. */
  public int number() {
    return version.getVersion();
  }

  /** How a message names the version: {@code version 2 of key "payments"}. */
  public String subject() {
    return "version " + number() + " of key \"" + name() + "\"";
  }
}
