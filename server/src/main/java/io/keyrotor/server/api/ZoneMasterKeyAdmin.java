package io.keyrotor.server.api;

import com.google.rpc.Code;
import io.grpc.stub.StreamObserver;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.NodeRole;
import io.keyrotor.api.v1.NodeStatus;
import io.keyrotor.api.v1.RetireZoneMasterKeyVersionRequest;
import io.keyrotor.api.v1.RetireZoneMasterKeyVersionResponse;
import io.keyrotor.api.v1.RotateZoneMasterKeyRequest;
import io.keyrotor.api.v1.RotateZoneMasterKeyResponse;
import io.keyrotor.api.v1.ZoneMasterKeyRotation;
import io.keyrotor.api.v1.ZoneMasterKeyRotationState;
import io.keyrotor.api.v1.ZoneMasterKeyVersion;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.RetireZoneMasterKeyVersion;
import io.keyrotor.proto.internal.v1.StartZoneMasterKeyRotation;
import io.keyrotor.proto.internal.v1.ZoneMasterKeyRecord;
import io.keyrotor.server.access.Operation;
import io.keyrotor.server.access.Target;
import io.keyrotor.server.config.NodeConfig;
import io.keyrotor.storage.StateView;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * The AdminService calls of zone master key rotation ({@code RotateZoneMasterKey}, {@code
 * RetireZoneMasterKeyVersion}) and the NodeStatus fields that show it. The rotation itself is
 * carried by the log and driven by {@code io.keyrotor.server.hsm.ZoneMasterKeyRotationDriver}.
 */
final class ZoneMasterKeyAdmin {
  private final ServerContext context;
  private final Calls calls;
  private final WritePath writes;
  private final Function<NodeConfig.Peer, NodeStatus> peerStatus;
  private final Function<String, String> localErrors;

  /**
   * @param writes the write path both calls go through
   * @param peerStatus asks another node for its status (with a short deadline)
   * @param localErrors this node's last error driving a zone's rotation, or null
   */
  ZoneMasterKeyAdmin(
      ServerContext context,
      WritePath writes,
      Function<NodeConfig.Peer, NodeStatus> peerStatus,
      Function<String, String> localErrors) {
    this.context = context;
    this.calls = new Calls(context);
    this.writes = writes;
    this.peerStatus = peerStatus;
    this.localErrors = localErrors;
  }

  /**
   * RotateZoneMasterKey: after the read barrier, on the blocking executor (it asks every holder of
   * the zone for its master key versions), the target version is checked and the rotation proposed;
   * the answer is the zone's rotation once this node applied it.
   */
  void rotate(
      RotateZoneMasterKeyRequest request, StreamObserver<RotateZoneMasterKeyResponse> response) {
    calls.answer(
        response,
        () -> {
          String zone = Requests.zone(request.getZone());
          Write write =
              new Write(
                  Operation.ROTATE_ZONE_MASTER_KEY,
                  Target.zone(zone),
                  Requests.requestId(request.getRequestId()),
                  Write.Needs.STATE_AND_PEERS,
                  (command, sources) ->
                      command.setStartZoneMasterKeyRotation(
                          startRotation(sources.state(), zone, request.getTargetVersion())));
          return writes
              .submit(write)
              .thenCompose(result -> rotationOnceApplied(zone))
              .thenApply(r -> RotateZoneMasterKeyResponse.newBuilder().setRotation(r).build());
        });
  }

  /** RetireZoneMasterKeyVersion: proposed as it is; the state machine checks it. */
  void retire(
      RetireZoneMasterKeyVersionRequest request,
      StreamObserver<RetireZoneMasterKeyVersionResponse> response) {
    calls.answer(
        response,
        () -> {
          String zone = Requests.zone(request.getZone());
          int version = Requests.version(request.getVersion());
          Write write =
              Write.fromRequest(
                  Operation.RETIRE_ZONE_MASTER_KEY_VERSION,
                  Target.zone(zone),
                  Requests.requestId(request.getRequestId()),
                  (command, sources) ->
                      command.setRetireZoneMasterKeyVersion(
                          RetireZoneMasterKeyVersion.newBuilder()
                              .setZone(zone)
                              .setVersion(version)));
          return writes
              .submit(write)
              .thenCompose(result -> rotationOnceApplied(zone))
              .thenApply(
                  r -> RetireZoneMasterKeyVersionResponse.newBuilder().setRotation(r).build());
        });
  }

  /** The rotation of every zone ever rotated, as the replicated state holds it. */
  List<ZoneMasterKeyRotation> rotations() {
    List<ZoneMasterKeyRotation> out = new ArrayList<>();
    for (ZoneMasterKeyRecord record : context.raft().state().zoneMasterKeys().values()) {
      out.add(toApi(record));
    }
    return out;
  }

  /** The master key versions this node's HSM holds, with check values; empty if it cannot say. */
  List<ZoneMasterKeyVersion> heldVersions() {
    List<ZoneMasterKeyVersion> out = new ArrayList<>();
    try {
      for (Map.Entry<String, SortedSet<Integer>> zone :
          context.hsm().zoneMasterKeyVersions().entrySet()) {
        for (int version : zone.getValue()) {
          String checkValue;
          try {
            checkValue = context.hsm().keyCheckValue(zone.getKey(), version);
          } catch (HsmException e) {
            checkValue = "";
          }
          out.add(
              ZoneMasterKeyVersion.newBuilder()
                  .setZone(zone.getKey())
                  .setVersion(version)
                  .setKeyCheckValue(checkValue)
                  .build());
        }
      }
    } catch (HsmException e) {
      return List.of(); // the HSM is down; NodeStatus.hsm.healthy says so
    }
    return out;
  }

  /**
   * Checks that every registered holder of the zone holds the target version with the same check
   * value, and builds the command's body. Runs on the blocking executor (it asks peers).
   */
  private StartZoneMasterKeyRotation.Builder startRotation(
      StateView state, String zone, int requestedVersion) {
    List<NodeRecord> holders = new ArrayList<>();
    for (NodeRecord node : state.nodes().values()) {
      if (node.getZonesList().contains(zone)) {
        holders.add(node);
      }
    }
    if (holders.isEmpty()) {
      throw ApiErrors.error(
          Code.NOT_FOUND,
          ErrorReason.ZONE_NOT_FOUND,
          "no node of this cluster holds zone \"" + zone + "\"",
          Map.of("zone", zone));
    }
    SortedMap<String, Map<Integer, String>> held = new TreeMap<>();
    for (NodeRecord holder : holders) {
      held.put(holder.getId(), versionsOf(holder, zone));
    }
    int target = requestedVersion;
    if (target == 0) {
      Map<Integer, String> own = held.get(context.config().nodeId());
      if (own == null) {
        throw ApiErrors.error(
            Code.FAILED_PRECONDITION,
            ErrorReason.ZONE_NOT_HELD,
            "node "
                + context.config().nodeId()
                + " does not hold zone \""
                + zone
                + "\", so it cannot pick the new master key version; name target_version, or"
                + " ask a node that holds it: "
                + held.keySet(),
            Map.of("zone", zone));
      }
      target = own.keySet().stream().mapToInt(Integer::intValue).max().orElse(0);
      if (target < 2) {
        // Refused here, not by the state machine after a log entry.
        throw ApiErrors.error(
            Code.FAILED_PRECONDITION,
            ErrorReason.ZMK_VERSION_NOT_NEWER,
            "the newest master key version node "
                + context.config().nodeId()
                + " holds of zone \""
                + zone
                + "\" is "
                + target
                + "; create and share a new version into every node of the zone first"
                + " (scripts/hsm rotate-master does both)",
            Map.of("zone", zone));
      }
    }
    if (target < 2) {
      throw ApiErrors.invalid(
          "target_version",
          ErrorReason.INVALID_VERSION,
          "a zone master key rotation moves KEKs to version 2 or later, not " + target);
    }
    String checkValue = null;
    for (Map.Entry<String, Map<Integer, String>> holder : held.entrySet()) {
      String value = holder.getValue().get(target);
      if (value == null) {
        throw ApiErrors.error(
            Code.FAILED_PRECONDITION,
            ErrorReason.ZMK_VERSION_NOT_HELD,
            "node "
                + holder.getKey()
                + " holds master key versions "
                + holder.getValue().keySet()
                + " of zone \""
                + zone
                + "\", not "
                + target
                + "; create and share the new version into every node of the zone first"
                + " (scripts/hsm rotate-master does both)",
            Map.of("zone", zone, "node", holder.getKey()));
      }
      if (!value.isEmpty() && checkValue != null && !checkValue.equals(value)) {
        throw ApiErrors.error(
            Code.FAILED_PRECONDITION,
            ErrorReason.ZMK_MISMATCH,
            "nodes hold different keys as "
                + zone
                + "/"
                + target
                + " (check values differ: "
                + holder.getKey()
                + " has "
                + value
                + "); share the version from one node to the others",
            Map.of("zone", zone, "node", holder.getKey()));
      }
      if (!value.isEmpty()) {
        checkValue = value;
      }
    }
    return StartZoneMasterKeyRotation.newBuilder().setZone(zone).setTargetVersion(target);
  }

  /** Version -> check value of one holder: this node's HSM, or the holder's NodeStatus. */
  private Map<Integer, String> versionsOf(NodeRecord holder, String zone) {
    List<ZoneMasterKeyVersion> versions;
    if (holder.getId().equals(context.config().nodeId())) {
      versions = heldVersions();
    } else {
      NodeConfig.Peer peer = context.config().peers().get(holder.getId());
      NodeStatus status =
          peer == null
              ? NodeStatus.newBuilder().setRole(NodeRole.NODE_ROLE_UNREACHABLE).build()
              : peerStatus.apply(peer);
      if (status.getRole() == NodeRole.NODE_ROLE_UNREACHABLE) {
        throw ApiErrors.error(
            Code.UNAVAILABLE,
            ErrorReason.HOLDER_UNREACHABLE,
            "node "
                + holder.getId()
                + " holds zone \""
                + zone
                + "\" but did not answer ("
                + status.getError()
                + "); every holder must confirm it has the new master key version",
            Map.of("zone", zone, "node", holder.getId()));
      }
      versions = status.getZoneMasterKeysList();
    }
    Map<Integer, String> out = new TreeMap<>();
    for (ZoneMasterKeyVersion version : versions) {
      if (version.getZone().equals(zone)) {
        out.put(version.getVersion(), version.getKeyCheckValue());
      }
    }
    return out;
  }

  /** The zone's rotation as this node's state shows it after the read barrier. */
  private CompletableFuture<ZoneMasterKeyRotation> rotationOnceApplied(String zone) {
    return calls.afterReadBarrier(
        state -> {
          ZoneMasterKeyRecord record = state.zoneMasterKeys().get(zone);
          return record == null
              ? ZoneMasterKeyRotation.newBuilder().setZone(zone).build()
              : toApi(record);
        });
  }

  private ZoneMasterKeyRotation toApi(ZoneMasterKeyRecord record) {
    ZoneMasterKeyRotation.Builder out =
        ZoneMasterKeyRotation.newBuilder()
            .setZone(record.getZone())
            .setFromVersion(record.getFromVersion())
            .setTargetVersion(record.getTargetVersion())
            .setState(state(record))
            .setRewrapped(record.getRewrapped())
            .setRemaining(record.getRemaining())
            .setBatches(record.getBatches())
            .setStartTime(KeyViews.timestamp(record.getStartedTimeUnixMillis()))
            .addAllRetiredVersions(record.getRetiredVersionsList());
    if (record.getCompletedTimeUnixMillis() > 0) {
      out.setCompleteTime(KeyViews.timestamp(record.getCompletedTimeUnixMillis()));
    }
    String error = localErrors.apply(record.getZone());
    if (error != null
        && out.getState() == ZoneMasterKeyRotationState.ZONE_MASTER_KEY_ROTATION_STATE_RUNNING) {
      out.setLastError(error);
    }
    return out.build();
  }

  private static ZoneMasterKeyRotationState state(ZoneMasterKeyRecord record) {
    return switch (record.getRotationState()) {
      case ZONE_MASTER_KEY_ROTATION_STATE_RUNNING ->
          ZoneMasterKeyRotationState.ZONE_MASTER_KEY_ROTATION_STATE_RUNNING;
      case ZONE_MASTER_KEY_ROTATION_STATE_COMPLETED ->
          ZoneMasterKeyRotationState.ZONE_MASTER_KEY_ROTATION_STATE_COMPLETED;
      default -> ZoneMasterKeyRotationState.ZONE_MASTER_KEY_ROTATION_STATE_UNSPECIFIED;
    };
  }
}
