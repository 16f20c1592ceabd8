package io.keyrotor.storage.apply;

import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;

/**
 * What a handler looked up: a key (and one of its versions), or the refusal that says what is
 * missing. Read {@link #key} and {@link #version} only when {@link #isMissing} is false.
 */
public final class Found {
  private final KeyRecord key;
  private final KeyVersionRecord version;
  private final Effects rejection;

  private Found(KeyRecord key, KeyVersionRecord version, Effects rejection) {
    this.key = key;
    this.version = version;
    this.rejection = rejection;
  }

  static Found key(KeyRecord key) {
    return new Found(key, null, null);
  }

  static Found version(KeyRecord key, KeyVersionRecord version) {
    return new Found(key, version, null);
  }

  static Found missing(Effects rejection) {
    return new Found(null, null, rejection);
  }

  /** Whether the key or the version does not exist. */
  public boolean isMissing() {
    return rejection != null;
  }

  /** The refusal to return when {@link #isMissing}. */
  public Effects rejection() {
    return rejection;
  }

  public KeyRecord key() {
    return key;
  }

  public KeyVersionRecord version() {
    return version;
  }

  /** The key's name. */
  public String name() {
    return key.getName();
  }
}
