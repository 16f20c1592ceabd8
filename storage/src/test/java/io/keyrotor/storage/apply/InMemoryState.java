package io.keyrotor.storage.apply;

import io.keyrotor.proto.internal.v1.BulkRotationRecord;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.KeyEventRecord;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.ZoneMasterKeyRecord;
import io.keyrotor.storage.CommandStamping;
import io.keyrotor.storage.StateReader;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The replicated state in plain maps, changed by applying commands through a {@link
 * CommandDispatcher} at consecutive log indexes: the in-memory view handler tests run against. The
 * maps are live; a test may add nodes or keys directly to set a scene.
 */
public final class InMemoryState {
  private final SortedMap<String, KeyRecord> keys = new TreeMap<>();
  private final SortedMap<String, NodeRecord> nodes = new TreeMap<>();
  private final Map<String, ZoneMasterKeyRecord> zones = new TreeMap<>();
  private final Map<String, BulkRotationRecord> bulkRotations = new TreeMap<>();
  private final CommandDispatcher dispatcher =
      new CommandDispatcher(StateReader.of(keys, nodes, bulkRotations, zones));
  private long index = 1;

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
    effects.nodeWrite().ifPresent(n -> nodes.put(n.getId(), n));
    effects.zoneMasterKeyWrite().ifPresent(z -> zones.put(z.getZone(), z));
    effects.bulkRotationWrite().ifPresent(j -> bulkRotations.put(j.getId(), j));
    return effects;
  }

  /** {@code command} proposed at {@code time}, with a request id made of both. */
  public static Command at(long time, Command.Builder command) {
    return command
        .setProposedTimeUnixMillis(time)
        .setRequestId("r" + time + command.getBodyCase())
        .build();
  }

  /** The event types of {@code effects}, in order. */
  public static List<Integer> eventTypes(Effects effects) {
    return effects.events().stream().map(KeyEventRecord::getType).toList();
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
