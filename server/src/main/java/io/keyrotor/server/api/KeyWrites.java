package io.keyrotor.server.api;

import com.google.rpc.Code;
import io.grpc.StatusRuntimeException;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.proto.internal.v1.CancelRotation;
import io.keyrotor.proto.internal.v1.CancelVersionDestroy;
import io.keyrotor.proto.internal.v1.CreateKey;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.RollbackRotation;
import io.keyrotor.proto.internal.v1.RotateKey;
import io.keyrotor.proto.internal.v1.ScheduleVersionDestroy;
import io.keyrotor.proto.internal.v1.SetDependents;
import io.keyrotor.proto.internal.v1.SetRotationPolicy;
import io.keyrotor.proto.internal.v1.SetVersionFloors;
import io.keyrotor.proto.internal.v1.SetVersionStatus;
import io.keyrotor.proto.internal.v1.StartBulkRotation;
import io.keyrotor.server.access.Operation;
import io.keyrotor.server.access.Target;
import io.keyrotor.server.api.KeyWriteInputs.BulkRotationJob;
import io.keyrotor.server.api.KeyWriteInputs.Dependents;
import io.keyrotor.server.api.KeyWriteInputs.DestroyCancellation;
import io.keyrotor.server.api.KeyWriteInputs.DestroySchedule;
import io.keyrotor.server.api.KeyWriteInputs.NewKey;
import io.keyrotor.server.api.KeyWriteInputs.PolicyChange;
import io.keyrotor.server.api.KeyWriteInputs.Rollback;
import io.keyrotor.server.api.KeyWriteInputs.Rotation;
import io.keyrotor.server.api.KeyWriteInputs.RotationCancellation;
import io.keyrotor.server.api.KeyWriteInputs.VersionFloors;
import io.keyrotor.server.api.KeyWriteInputs.VersionStatusChange;
import io.keyrotor.server.config.LimitSettings;
import io.keyrotor.server.config.LimitSettings.Limit;
import io.keyrotor.storage.StateView;
import java.time.Duration;
import java.util.Map;

/**
 * The commands of KeyService's writes: for each checked input, the {@link Write} the {@link
 * WritePath} carries out (its operation and target, and how its command is built). Creating and
 * rotating a key mint a new key-encryption key; both read the state first (after the read barrier):
 * a rotation for the key's zone, its policy's activation delay and its number of versions, a create
 * for the number of keys and whether the name exists, so that what the limits or an existing name
 * refuse takes no log entry.
 */
final class KeyWrites {
  private final Duration defaultActivationDelay;
  private final LimitSettings limits;
  private final TemplateZones templateZones;

  /**
   * @param defaultActivationDelay for rotations that name no delay, of keys whose policy has none
   * @param limits the node's limits on keys per cluster and zone and versions per key
   * @param templateZones the zones each policy template allows
   */
  KeyWrites(Duration defaultActivationDelay, LimitSettings limits, TemplateZones templateZones) {
    this.defaultActivationDelay = defaultActivationDelay;
    this.limits = limits;
    this.templateZones = templateZones;
  }

  /**
   * CreateKey. A create without a caller's request id cannot be a retry, so it is refused at once
   * (ALREADY_EXISTS KEY_EXISTS, as the state machine would) when the key exists after the read
   * barrier, before a KEK is minted or a log entry taken; a create with one goes to the log, whose
   * deduplication answers a retry with the first outcome. A new name is refused
   * (RESOURCE_EXHAUSTED) when the cluster or the zone holds as many keys as {@code
   * limits.keys-per-cluster} or {@code limits.keys-per-zone} allow; a retry finds its key existing
   * and is not counted.
   */
  Write create(NewKey in) {
    return new Write(
        Operation.CREATE_KEY,
        Target.newKey(in.name(), in.zone(), in.labels()),
        in.requestId(),
        Write.Needs.STATE_AND_NEW_KEK,
        (command, sources) -> {
          StateView state = sources.state();
          boolean exists = state.key(in.name()).isPresent();
          if (!in.requestIdFromCaller() && exists) {
            throw ApiErrors.error(
                Code.ALREADY_EXISTS,
                ErrorReason.KEY_EXISTS,
                "key \"" + in.name() + "\" already exists");
          }
          if (!exists) {
            checkKeyCounts(state, in.zone());
          }
          command.setCreateKey(
              CreateKey.newBuilder()
                  .setName(in.name())
                  .setZone(in.zone())
                  .addAllLabels(in.labels())
                  .setPolicy(in.policy())
                  .setKek(sources.newWrappedKek(in.zone(), in.name(), 1))
                  .setActivationDelayMillis(in.activationDelayMillis()));
        });
  }

  private void checkKeyCounts(StateView state, String zone) {
    int perCluster = limits.get(Limit.KEYS_PER_CLUSTER);
    if (state.keyCount() >= perCluster) {
      throw keyLimit(
          ErrorReason.TOO_MANY_KEYS,
          Limit.KEYS_PER_CLUSTER,
          "the cluster holds " + state.keyCount() + " keys, the most it allows");
    }
    int perZone = limits.get(Limit.KEYS_PER_ZONE);
    long inZone = state.keyCountInZone(zone);
    if (inZone >= perZone) {
      throw keyLimit(
          ErrorReason.TOO_MANY_KEYS_IN_ZONE,
          Limit.KEYS_PER_ZONE,
          "zone \"" + zone + "\" holds " + inZone + " keys, the most it allows");
    }
  }

  /** RESOURCE_EXHAUSTED: waiting does not help (keys are never removed), so no retry delay. */
  private StatusRuntimeException keyLimit(ErrorReason reason, Limit limit, String message) {
    int value = limits.get(limit);
    return ApiErrors.error(
        Code.RESOURCE_EXHAUSTED,
        reason,
        message + " (" + limit.setting() + "=" + value + ")",
        Map.of("limit", Integer.toString(value), "setting", limit.setting()));
  }

  Write rotate(Rotation in) {
    return new Write(
        Operation.ROTATE_KEY,
        Target.key(in.name()),
        in.requestId(),
        Write.Needs.STATE_AND_NEW_KEK,
        (command, sources) -> {
          KeyRecord key = KeyViews.existing(sources.state(), in.name());
          int most = limits.get(Limit.VERSIONS_PER_KEY);
          if (key.getVersionsCount() >= most) {
            throw ApiErrors.error(
                Code.FAILED_PRECONDITION,
                ErrorReason.TOO_MANY_VERSIONS,
                "key \""
                    + in.name()
                    + "\" has "
                    + key.getVersionsCount()
                    + " versions, the most this cluster allows ("
                    + Limit.VERSIONS_PER_KEY.setting()
                    + "); create a new key to rotate further",
                Map.of(
                    "limit", Integer.toString(most), "setting", Limit.VERSIONS_PER_KEY.setting()));
          }
          command.setRotateKey(
              RotateKey.newBuilder()
                  .setName(in.name())
                  .setKek(
                      sources.newWrappedKek(key.getZone(), in.name(), key.getVersionsCount() + 1))
                  .setActivationDelayMillis(activationDelay(in, key))
                  .setReason(in.reason().getNumber())
                  .setExpectedLatestVersion(in.expectedLatestVersion()));
        });
  }

  /** The rotation's own delay, else its key policy's, else this node's default. */
  private long activationDelay(Rotation in, KeyRecord key) {
    if (in.activationDelayMillis() >= 0) {
      return in.activationDelayMillis();
    }
    long policyDelay = key.getPolicy().getActivationDelayMillis();
    return policyDelay >= 0 ? policyDelay : defaultActivationDelay.toMillis();
  }

  Write setVersionStatus(VersionStatusChange in) {
    return Write.fromRequest(
        in.status() == io.keyrotor.proto.internal.v1.VersionStatus.VERSION_STATUS_DISABLED
            ? Operation.DISABLE_KEY_VERSION
            : Operation.ENABLE_KEY_VERSION,
        Target.key(in.name()),
        in.requestId(),
        (command, sources) ->
            command.setSetVersionStatus(
                SetVersionStatus.newBuilder()
                    .setName(in.name())
                    .setVersion(in.version())
                    .setStatus(in.status())));
  }

  /**
   * SetRotationPolicy. A policy whose template restricts zones reads the key first (after the read
   * barrier): a key in a zone the template does not allow is refused (FAILED_PRECONDITION
   * TEMPLATE_ZONE_NOT_ALLOWED) before anything is proposed. A key's zone never changes, so the
   * check made here holds when the command applies.
   */
  Write setRotationPolicy(PolicyChange in) {
    boolean zoneRestricted = templateZones.allowed(in.policy().getTemplate()).isPresent();
    return new Write(
        Operation.SET_ROTATION_POLICY,
        Target.key(in.name()),
        in.requestId(),
        zoneRestricted ? Write.Needs.STATE : Write.Needs.REQUEST,
        (command, sources) -> {
          if (zoneRestricted) {
            KeyRecord key = KeyViews.existing(sources.state(), in.name());
            templateZones.require(in.policy(), key.getZone(), in.name(), Code.FAILED_PRECONDITION);
          }
          command.setSetRotationPolicy(
              SetRotationPolicy.newBuilder().setName(in.name()).setPolicy(in.policy()));
        });
  }

  /**
   * ScheduleKeyVersionDestroy. Reads the key first (after the read barrier): a waiting period
   * shorter than the key policy's destroy waiting period (its template's) is refused
   * (FAILED_PRECONDITION TEMPLATE_REQUIREMENT_NOT_MET) before anything is proposed.
   */
  Write scheduleVersionDestroy(DestroySchedule in) {
    return new Write(
        Operation.SCHEDULE_KEY_VERSION_DESTROY,
        Target.key(in.name()),
        in.requestId(),
        Write.Needs.STATE,
        (command, sources) -> {
          KeyRecord key = KeyViews.existing(sources.state(), in.name());
          long required = key.getPolicy().getDestroyWaitingPeriodMillis();
          if (in.waitingPeriodMillis() < required) {
            String template = key.getPolicy().getTemplate();
            throw ApiErrors.error(
                Code.FAILED_PRECONDITION,
                ErrorReason.TEMPLATE_REQUIREMENT_NOT_MET,
                "waiting_period "
                    + Durations.text(in.waitingPeriodMillis())
                    + " is shorter than key \""
                    + in.name()
                    + "\"'s policy requires: "
                    + Durations.text(required)
                    + (template.isEmpty() ? "" : " (template " + template + ")"),
                Map.of("template", template));
          }
          command.setScheduleVersionDestroy(
              ScheduleVersionDestroy.newBuilder()
                  .setName(in.name())
                  .setVersion(in.version())
                  .setWaitingPeriodMillis(in.waitingPeriodMillis()));
        });
  }

  Write cancelVersionDestroy(DestroyCancellation in) {
    return Write.fromRequest(
        Operation.CANCEL_KEY_VERSION_DESTROY,
        Target.key(in.name()),
        in.requestId(),
        (command, sources) ->
            command.setCancelVersionDestroy(
                CancelVersionDestroy.newBuilder().setName(in.name()).setVersion(in.version())));
  }

  Write cancelRotation(RotationCancellation in) {
    return Write.fromRequest(
        Operation.CANCEL_ROTATION,
        Target.key(in.name()),
        in.requestId(),
        (command, sources) ->
            command.setCancelRotation(
                CancelRotation.newBuilder()
                    .setName(in.name())
                    .setVersion(in.version())
                    .setReason(in.reason())));
  }

  Write rollbackRotation(Rollback in) {
    return Write.fromRequest(
        Operation.ROLLBACK_ROTATION,
        Target.key(in.name()),
        in.requestId(),
        (command, sources) ->
            command.setRollbackRotation(
                RollbackRotation.newBuilder()
                    .setName(in.name())
                    .setVersion(in.version())
                    .setReason(in.reason())
                    .setEffectiveTimeUnixMillis(in.effectiveTimeUnixMillis())));
  }

  Write setVersionFloors(VersionFloors in) {
    return Write.fromRequest(
        Operation.SET_VERSION_FLOORS,
        Target.key(in.name()),
        in.requestId(),
        (command, sources) ->
            command.setSetVersionFloors(
                SetVersionFloors.newBuilder()
                    .setName(in.name())
                    .setMinDecryptionVersion(in.minDecryptionVersion())
                    .setMinEncryptionVersion(in.minEncryptionVersion())));
  }

  Write setDependents(Dependents in) {
    return Write.fromRequest(
        Operation.SET_KEY_DEPENDENTS,
        Target.key(in.name()),
        in.requestId(),
        (command, sources) ->
            command.setSetDependents(
                SetDependents.newBuilder().setName(in.name()).addAllDependents(in.dependents())));
  }

  Write startBulkRotation(BulkRotationJob in) {
    return Write.fromRequest(
        Operation.START_BULK_ROTATION,
        Target.selection(in.zoneOrEmpty(), in.labelSelector()),
        in.jobId(),
        (command, sources) ->
            command.setStartBulkRotation(
                StartBulkRotation.newBuilder()
                    .setJobId(in.jobId())
                    .setZone(in.zoneOrEmpty())
                    .addAllLabelSelector(in.labelSelector())
                    .setReason(in.reason().getNumber())));
  }
}
