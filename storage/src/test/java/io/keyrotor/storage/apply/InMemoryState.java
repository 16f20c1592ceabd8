package io.keyrotor.storage.apply;

import com.google.protobuf.MessageOrBuilder;
import io.keyrotor.api.v1.KeyVersionState;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.BulkRotationRecord;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.KeyEventRecord;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.ZoneMasterKeyRecord;
import io.keyrotor.storage.CommandBodies;
import io.keyrotor.storage.CommandStamping;
import io.keyrotor.storage.Commands;
import io.keyrotor.storage.KeyVersions;
import io.keyrotor.storage.Limits;
import io.keyrotor.storage.StateReader;
import io.keyrotor.storage.access.AccessPolicy;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The replicated state in plain maps, changed by applying commands through a {@link
 * CommandDispatcher} at consecutive log indexes: the in-memory view handler tests run against, and
 * the steps their scenarios share (apply a command at a time, read a version's record or state
 * back). The maps are live; a test may add nodes or keys directly to set a scene.
 */
public final class InMemoryState {
  /** When the handler tests' scenarios start: 2023-11-14T22:13:20Z. */
  public static final long T0 = 1_700_000_000_000L;

  private final SortedMap<String, KeyRecord> keys = new TreeMap<>();
  private final SortedMap<String, NodeRecord> nodes = new TreeMap<>();
  private final Map<String, ZoneMasterKeyRecord> zones = new TreeMap<>();
  private final Map<String, BulkRotationRecord> bulkRotations = new TreeMap<>();
  private final CommandDispatcher dispatcher;
  private long index = 1;

  /** A state whose apply enforces the limits every replica applies ({@link Limits#CEILINGS}). */
  public InMemoryState() {
    this(Limits.CEILINGS);
  }

  /** A state whose apply refuses beyond {@code limits} (tests of the limits). */
  public InMemoryState(Limits limits) {
    this.dispatcher =
        new CommandDispatcher(
            StateReader.of(keys, nodes, bulkRotations, zones), () -> AccessPolicy.NONE, limits);
  }

  /**
   * Nodes n1, n2 and n3 serve the default zone (set directly): delayed rotations there are gated on
   * them.
   */
  public InMemoryState threeNodesServeTheDefaultZone() {
    return nodesServe("default", "n1", "n2", "n3");
  }

  /** Nodes {@code ids} serve {@code zone}, set directly (not registered by a command). */
  public InMemoryState nodesServe(String zone, String... ids) {
    for (String id : ids) {
      nodes.put(id, NodeRecord.newBuilder().setId(id).addZones(zone).build());
    }
    return this;
  }

  /**
   * Key {@code name} created at {@link #T0} and rotated at T0 + 1, active at once: version 2 is the
   * primary, version 1 decrypts only.
   */
  public void createAndRotateOnce(String name) {
    apply(Commands.create("c", T0, name));
    apply(Commands.rotate("r", T0 + 1, name, T0 + 1, RotationReason.ROTATION_REASON_MANUAL));
  }

  /**
   * Every node there is acknowledges version {@code version} of key {@code name} at {@code time}.
   */
  public void allNodesAcknowledge(long time, String name, int version) {
    for (String node : List.copyOf(nodes.keySet())) {
      apply(time, CommandBodies.acknowledge(name, version, node));
    }
  }

  /**
   * Applies {@code command} at the next log index and its proposed time, and stores what it writes.
   * Destroy and rollback times come from the leader's stamp (stamped here at the proposed time);
   * rotations carry their activation time as the test built it.
   */
  public Effects apply(Command command) {
    Command stamped =
        command.hasScheduleVersionDestroy() || command.hasRollbackRotation()
            ? CommandStamping.stamp(command, command.getProposedTimeUnixMillis())
            : command;
    Effects effects = dispatcher.apply(stamped, index++, stamped.getProposedTimeUnixMillis());
    effects.allKeyWrites().forEach(k -> keys.put(k.getName(), k));
    effects
        .nodeWrite()
        .ifPresent(
            n -> {
              if (n.getRemoved()) {
                nodes.remove(n.getId());
              } else {
                nodes.put(n.getId(), n);
              }
            });
    effects.zoneMasterKeyWrite().ifPresent(z -> zones.put(z.getZone(), z));
    effects.bulkRotationWrite().ifPresent(j -> bulkRotations.put(j.getId(), j));
    return effects;
  }

  /**
   * Applies a command with {@code body} ({@link CommandBodies}) proposed at {@code time}, with a
   * request id made of both.
   */
  public Effects apply(long time, MessageOrBuilder body) {
    return apply(at(time, CommandBodies.inCommand(body)));
  }

  /** {@code command} proposed at {@code time}, with a request id made of both. */
  public static Command at(long time, Command.Builder command) {
    return command
        .setProposedTimeUnixMillis(time)
        .setRequestId("r" + time + command.getBodyCase())
        .build();
  }

  /** The reason {@code effects} were refused with; "" for effects that were not refused. */
  public static String reason(Effects effects) {
    return effects.result().getReason();
  }

  /** The event types of {@code effects}, in order. */
  public static List<Integer> eventTypes(Effects effects) {
    return effects.events().stream().map(KeyEventRecord::getType).toList();
  }

  /** The record of key {@code name}, or null. */
  public KeyRecord key(String name) {
    return keys.get(name);
  }

  /** The record of version {@code version} of key {@code name}. */
  public KeyVersionRecord version(String name, int version) {
    return keys.get(name).getVersions(version - 1);
  }

  /** The state of version {@code version} of key {@code name} at {@code time}. */
  public KeyVersionState stateAt(String name, int version, long time) {
    return KeyVersions.stateAt(keys.get(name), version(name, version), time);
  }

  /** The primary version of key {@code name} at {@code time}, 0 for none. */
  public int primaryAt(String name, long time) {
    return KeyVersions.primaryVersionAt(keys.get(name), time);
  }

  /** Every key by name (live). */
  public Map<String, KeyRecord> keyMap() {
    return keys;
  }

  /** Every node by id (live). */
  public Map<String, NodeRecord> nodeMap() {
    return nodes;
  }

  /** Every zone master key record by zone (live). */
  public Map<String, ZoneMasterKeyRecord> zoneMap() {
    return zones;
  }
}
