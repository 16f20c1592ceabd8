package io.keyrotor.server.api;

import com.google.rpc.Code;
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
import java.time.Duration;

/**
 * The commands of KeyService's writes: for each checked input, the {@link Write} the {@link
 * WritePath} carries out (its operation and target, and how its command is built). Creating and
 * rotating a key mint a new key-encryption key; a rotation reads the key first (after the read
 * barrier) for its zone and its policy's activation delay, and so does a create that cannot be a
 * retry, to refuse an existing name without a log entry.
 */
final class KeyWrites {
  private final Duration defaultActivationDelay;

  /**
   * @param defaultActivationDelay for rotations that name no delay, of keys whose policy has none
   */
  KeyWrites(Duration defaultActivationDelay) {
    this.defaultActivationDelay = defaultActivationDelay;
  }

  /**
   * CreateKey. A create without a caller's request id cannot be a retry, so it is refused at once
   * (ALREADY_EXISTS KEY_EXISTS, as the state machine would) when the key exists after the read
   * barrier, before a KEK is minted or a log entry taken; a create with one goes to the log, whose
   * deduplication answers a retry with the first outcome.
   */
  Write create(NewKey in) {
    return new Write(
        Operation.CREATE_KEY,
        Target.newKey(in.name(), in.zone(), in.labels()),
        in.requestId(),
        in.requestIdFromCaller() ? Write.Needs.NEW_KEK : Write.Needs.STATE_AND_NEW_KEK,
        (command, sources) -> {
          if (!in.requestIdFromCaller() && sources.state().key(in.name()).isPresent()) {
            throw ApiErrors.error(
                Code.ALREADY_EXISTS,
                ErrorReason.KEY_EXISTS,
                "key \"" + in.name() + "\" already exists");
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

  Write rotate(Rotation in) {
    return new Write(
        Operation.ROTATE_KEY,
        Target.key(in.name()),
        in.requestId(),
        Write.Needs.STATE_AND_NEW_KEK,
        (command, sources) -> {
          KeyRecord key = KeyViews.existing(sources.state(), in.name());
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

  Write setRotationPolicy(PolicyChange in) {
    return Write.fromRequest(
        Operation.SET_ROTATION_POLICY,
        Target.key(in.name()),
        in.requestId(),
        (command, sources) ->
            command.setSetRotationPolicy(
                SetRotationPolicy.newBuilder().setName(in.name()).setPolicy(in.policy())));
  }

  Write scheduleVersionDestroy(DestroySchedule in) {
    return Write.fromRequest(
        Operation.SCHEDULE_KEY_VERSION_DESTROY,
        Target.key(in.name()),
        in.requestId(),
        (command, sources) ->
            command.setScheduleVersionDestroy(
                ScheduleVersionDestroy.newBuilder()
                    .setName(in.name())
                    .setVersion(in.version())
                    .setWaitingPeriodMillis(in.waitingPeriodMillis())));
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
