package io.keyrotor.server.access;

import io.keyrotor.proto.internal.v1.Label;
import java.util.List;
import java.util.Objects;

/**
 * What an operation acts on: one key (by name; its zone and labels are looked up in the applied
 * state unless the target carries them, as a key being created does), one zone (every key of it, or
 * its master key), or the cluster as a whole (leadership, snapshots, the policy, a bulk rotation
 * selected by labels across zones).
 *
 * @param zone the key's or the zone's zone; empty when unknown or for the cluster
 * @param labels the key's labels, or a bulk rotation's label selector
 * @param described whether zone and labels are given (a key being created, a zone, a selection);
 *     false for an existing key named only
 */
public record Target(Kind kind, String name, String zone, List<Label> labels, boolean described) {
  /** The kinds of things an operation acts on. */
  public enum Kind {
    KEY,
    ZONE,
    CLUSTER
  }

  private static final Target CLUSTER = new Target(Kind.CLUSTER, "", "", List.of(), true);

  public Target {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(zone, "zone");
    labels = List.copyOf(labels);
  }

  /** The existing key named {@code name} (its zone and labels are looked up). */
  public static Target key(String name) {
    return new Target(Kind.KEY, name, "", List.of(), false);
  }

  /** A key about to be created in {@code zone} with {@code labels}. */
  public static Target newKey(String name, String zone, List<Label> labels) {
    return new Target(Kind.KEY, name, zone, labels, true);
  }

  /** The zone named {@code zone}. */
  public static Target zone(String zone) {
    return new Target(Kind.ZONE, zone, zone, List.of(), true);
  }

  /** The keys of {@code zone} (every zone when empty) carrying every label of {@code selector}. */
  public static Target selection(String zone, List<Label> selector) {
    return zone.isEmpty() && selector.isEmpty()
        ? CLUSTER
        : new Target(zone.isEmpty() ? Kind.CLUSTER : Kind.ZONE, zone, zone, selector, true);
  }

  /** The whole cluster. */
  public static Target cluster() {
    return CLUSTER;
  }

  /** The key name the policy matches: the key's, or empty for a zone or the cluster. */
  public String keyName() {
    return kind == Kind.KEY ? name : "";
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
