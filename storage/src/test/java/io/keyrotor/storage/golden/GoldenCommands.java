package io.keyrotor.storage.golden;

import com.google.protobuf.ByteString;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.AcknowledgeVersion;
import io.keyrotor.proto.internal.v1.CancelRotation;
import io.keyrotor.proto.internal.v1.CancelVersionDestroy;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CreateKey;
import io.keyrotor.proto.internal.v1.DestroyVersion;
import io.keyrotor.proto.internal.v1.KekRewrap;
import io.keyrotor.proto.internal.v1.Label;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.RecordActivation;
import io.keyrotor.proto.internal.v1.RegisterNode;
import io.keyrotor.proto.internal.v1.ReportUsage;
import io.keyrotor.proto.internal.v1.RetireZoneMasterKeyVersion;
import io.keyrotor.proto.internal.v1.RewrapKeks;
import io.keyrotor.proto.internal.v1.RollbackRotation;
import io.keyrotor.proto.internal.v1.RotateKey;
import io.keyrotor.proto.internal.v1.RotateKeys;
import io.keyrotor.proto.internal.v1.RotationPolicyRecord;
import io.keyrotor.proto.internal.v1.ScheduleVersionDestroy;
import io.keyrotor.proto.internal.v1.SetDependents;
import io.keyrotor.proto.internal.v1.SetRotationPolicy;
import io.keyrotor.proto.internal.v1.SetVersionFloors;
import io.keyrotor.proto.internal.v1.SetVersionStatus;
import io.keyrotor.proto.internal.v1.StartBulkRotation;
import io.keyrotor.proto.internal.v1.StartZoneMasterKeyRotation;
import io.keyrotor.proto.internal.v1.UsageCount;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.proto.internal.v1.WrappedKeyMaterial;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Builders of the golden log's commands. Wrapped KEKs are fixed bytes standing in for what an HSM
 * would return: the log holds no key material.
 */
final class GoldenCommands {
  private GoldenCommands() {}

  /** A command with {@code body} (a body message builder, or a whole command builder). */
  static Command.Builder command(Object body) {
    Command.Builder command = Command.newBuilder();
    if (body instanceof Command.Builder whole) {
      return whole;
    } else if (body instanceof Command whole) {
      return whole.toBuilder();
    } else if (body instanceof RegisterNode.Builder b) {
      command.setRegisterNode(b);
    } else if (body instanceof CreateKey.Builder b) {
      command.setCreateKey(b);
    } else if (body instanceof RotateKey.Builder b) {
      command.setRotateKey(b);
    } else if (body instanceof RotateKeys.Builder b) {
      command.setRotateKeys(b);
    } else if (body instanceof SetVersionStatus.Builder b) {
      command.setSetVersionStatus(b);
    } else if (body instanceof SetRotationPolicy.Builder b) {
      command.setSetRotationPolicy(b);
    } else if (body instanceof StartZoneMasterKeyRotation.Builder b) {
      command.setStartZoneMasterKeyRotation(b);
    } else if (body instanceof RewrapKeks.Builder b) {
      command.setRewrapKeks(b);
    } else if (body instanceof RetireZoneMasterKeyVersion.Builder b) {
      command.setRetireZoneMasterKeyVersion(b);
    } else if (body instanceof ScheduleVersionDestroy.Builder b) {
      command.setScheduleVersionDestroy(b);
    } else if (body instanceof CancelVersionDestroy.Builder b) {
      command.setCancelVersionDestroy(b);
    } else if (body instanceof DestroyVersion.Builder b) {
      command.setDestroyVersion(b);
    } else if (body instanceof SetVersionFloors.Builder b) {
      command.setSetVersionFloors(b);
    } else if (body instanceof AcknowledgeVersion.Builder b) {
      command.setAcknowledgeVersion(b);
    } else if (body instanceof CancelRotation.Builder b) {
      command.setCancelRotation(b);
    } else if (body instanceof RollbackRotation.Builder b) {
      command.setRollbackRotation(b);
    } else if (body instanceof ReportUsage.Builder b) {
      command.setReportUsage(b);
    } else if (body instanceof SetDependents.Builder b) {
      command.setSetDependents(b);
    } else if (body instanceof RecordActivation.Builder b) {
      command.setRecordActivation(b);
    } else if (body instanceof StartBulkRotation.Builder b) {
      command.setStartBulkRotation(b);
    } else {
      throw new IllegalArgumentException("not a command body: " + body.getClass());
    }
    return command;
  }

  static WrappedKeyMaterial kek(String zone, int zoneMasterKeyVersion, String tag) {
    // Fixed bytes standing in for a KEK wrapped by an HSM: no key material anywhere.
    return WrappedKeyMaterial.newBuilder()
        .setZone(zone)
        .setZoneMasterKeyVersion(zoneMasterKeyVersion)
        .setMechanism("AES_KEY_WRAP_PAD")
        .setCiphertext(
            ByteString.copyFrom(("golden-wrapped-kek:" + tag).getBytes(StandardCharsets.UTF_8)))
        .build();
  }

  static Label label(String key, String value) {
    return Label.newBuilder().setKey(key).setValue(value).build();
  }

  static RegisterNode.Builder registerNode(String id, String zone) {
    return RegisterNode.newBuilder()
        .setNode(
            NodeRecord.newBuilder()
                .setId(id)
                .setRegion("region-1")
                .addZones(zone)
                .setApiAddress(id + ".keyrotor.test:7100")
                .setHsmKind("softhsm2"));
  }

  static CreateKey.Builder createKey(
      String name, String zone, String kekTag, long activationDelayMillis) {
    return CreateKey.newBuilder()
        .setName(name)
        .setZone(zone)
        .setKek(kek(zone, 1, kekTag))
        .setActivationDelayMillis(activationDelayMillis);
  }

  static RotateKey.Builder rotateKey(
      String name, String zone, String kekTag, long activationDelayMillis, RotationReason reason) {
    return RotateKey.newBuilder()
        .setName(name)
        .setKek(kek(zone, 1, kekTag))
        .setActivationDelayMillis(activationDelayMillis)
        .setReason(reason.getNumber());
  }

  static RotateKeys.Builder rotateKeys(RotateKey.Builder... rotations) {
    RotateKeys.Builder batch = RotateKeys.newBuilder();
    for (RotateKey.Builder rotation : rotations) {
      batch.addRotations(rotation);
    }
    return batch;
  }

  static AcknowledgeVersion.Builder acknowledge(String name, int version, String node) {
    return AcknowledgeVersion.newBuilder().setName(name).setVersion(version).setNode(node);
  }

  static RecordActivation.Builder recordActivation(String name, int version) {
    return RecordActivation.newBuilder().setName(name).setVersion(version);
  }

  static SetVersionStatus.Builder setVersionStatus(String name, int version, VersionStatus status) {
    return SetVersionStatus.newBuilder().setName(name).setVersion(version).setStatus(status);
  }

  static SetRotationPolicy.Builder setRotationPolicy(
      String name, RotationPolicyRecord.Builder policy) {
    return SetRotationPolicy.newBuilder().setName(name).setPolicy(policy);
  }

  static SetVersionFloors.Builder setVersionFloors(
      String name, int minDecryption, int minEncryption) {
    return SetVersionFloors.newBuilder()
        .setName(name)
        .setMinDecryptionVersion(minDecryption)
        .setMinEncryptionVersion(minEncryption);
  }

  static SetDependents.Builder setDependents(String name, String... dependents) {
    return SetDependents.newBuilder().setName(name).addAllDependents(List.of(dependents));
  }

  static CancelRotation.Builder cancelRotation(
      String name, int version, String reason, boolean onlyIfUnvalidated) {
    return CancelRotation.newBuilder()
        .setName(name)
        .setVersion(version)
        .setReason(reason)
        .setOnlyIfUnvalidated(onlyIfUnvalidated);
  }

  static RollbackRotation.Builder rollbackRotation(String name, int version, String reason) {
    return RollbackRotation.newBuilder().setName(name).setVersion(version).setReason(reason);
  }

  static UsageCount usage(String name, int version, long encryptions) {
    return UsageCount.newBuilder()
        .setName(name)
        .setVersion(version)
        .setEncryptions(encryptions)
        .build();
  }

  static ReportUsage.Builder reportUsage(String node, UsageCount... counts) {
    return ReportUsage.newBuilder().setNode(node).addAllCounts(List.of(counts));
  }

  static ScheduleVersionDestroy.Builder scheduleDestroy(
      String name, int version, long waitingMillis) {
    return ScheduleVersionDestroy.newBuilder()
        .setName(name)
        .setVersion(version)
        .setWaitingPeriodMillis(waitingMillis);
  }

  static CancelVersionDestroy.Builder cancelDestroy(String name, int version) {
    return CancelVersionDestroy.newBuilder().setName(name).setVersion(version);
  }

  static DestroyVersion.Builder destroyVersion(String name, int version) {
    return DestroyVersion.newBuilder().setName(name).setVersion(version);
  }

  static StartBulkRotation.Builder startBulkRotation(String jobId, String zone, Label... selector) {
    return StartBulkRotation.newBuilder()
        .setJobId(jobId)
        .setZone(zone)
        .addAllLabelSelector(List.of(selector));
  }

  static StartZoneMasterKeyRotation.Builder startZoneMasterKeyRotation(
      String zone, int targetVersion) {
    return StartZoneMasterKeyRotation.newBuilder().setZone(zone).setTargetVersion(targetVersion);
  }

  static KekRewrap rewrap(
      String name, int version, int expectedZoneMasterKeyVersion, WrappedKeyMaterial kek) {
    return KekRewrap.newBuilder()
        .setKeyName(name)
        .setVersion(version)
        .setExpectedZoneMasterKeyVersion(expectedZoneMasterKeyVersion)
        .setKek(kek)
        .build();
  }

  static RewrapKeks.Builder rewrapKeks(String zone, int targetVersion, KekRewrap... rewraps) {
    return RewrapKeks.newBuilder()
        .setZone(zone)
        .setTargetVersion(targetVersion)
        .addAllRewraps(List.of(rewraps));
  }

  static RetireZoneMasterKeyVersion.Builder retireZoneMasterKeyVersion(String zone, int version) {
    return RetireZoneMasterKeyVersion.newBuilder().setZone(zone).setVersion(version);
  }
}
