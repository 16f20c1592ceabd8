package io.keyrotor.server.access;

import java.util.Objects;

/**
 * What an operation acts on: one key (by name), one zone (every key of it, or its master key), or
 * the cluster as a whole (leadership, snapshots, a bulk rotation selected by labels across zones).
 */
public record Target(Kind kind, String name) {
  /** The kinds of things an operation acts on. */
  public enum Kind {
    KEY,
    ZONE,
    CLUSTER
  }

  public Target {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(name, "name");
  }

  /** The key named {@code name}. */
  public static Target key(String name) {
    return new Target(Kind.KEY, name);
  }

  /** The zone named {@code zone}. */
  public static Target zone(String zone) {
    return new Target(Kind.ZONE, zone);
  }

  /** The whole cluster. */
  public static Target cluster() {
    return new Target(Kind.CLUSTER, "");
  }

  /** For messages: {@code key "orders"}, {@code zone "eu"}, {@code the cluster}. */
  @Override
  public String toString() {
    return switch (kind) {
      case KEY -> "key \"" + name + "\"";
      case ZONE -> "zone \"" + name + "\"";
      case CLUSTER -> "the cluster";
    };
  }
}
