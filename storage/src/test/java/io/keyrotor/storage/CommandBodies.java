package io.keyrotor.storage;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import com.google.protobuf.MessageOrBuilder;
import io.keyrotor.api.v1.AuditKeyRegistration;
import io.keyrotor.api.v1.DestructionReceiptSignature;
import io.keyrotor.proto.internal.v1.AcknowledgeVersion;
import io.keyrotor.proto.internal.v1.CancelRotation;
import io.keyrotor.proto.internal.v1.CancelVersionDestroy;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CreateKey;
import io.keyrotor.proto.internal.v1.DestroyVersion;
import io.keyrotor.proto.internal.v1.KekRewrap;
import io.keyrotor.proto.internal.v1.Label;
import io.keyrotor.proto.internal.v1.RecordActivation;
import io.keyrotor.proto.internal.v1.RegisterAuditKey;
import io.keyrotor.proto.internal.v1.ReportUsage;
import io.keyrotor.proto.internal.v1.ReserveEncryptions;
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
import io.keyrotor.proto.internal.v1.SignDestructionReceipt;
import io.keyrotor.proto.internal.v1.StartBulkRotation;
import io.keyrotor.proto.internal.v1.StartZoneMasterKeyRotation;
import io.keyrotor.proto.internal.v1.UsageCount;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.proto.internal.v1.WrappedKeyMaterial;
import java.util.Arrays;
import java.util.List;

/**
 * Builders of command bodies for tests (the handler tests and the golden log's script), and {@link
 * #inCommand}, which puts a body into a command. {@link Commands} builds whole commands.
 */
public final class CommandBodies {
  private CommandBodies() {}

  /** A command whose body is {@code body}: any body of {@link Command}, or its builder. */
  public static Command.Builder inCommand(MessageOrBuilder body) {
    Message message = body instanceof Message.Builder builder ? builder.build() : (Message) body;
    for (FieldDescriptor field : Command.getDescriptor().getFields()) {
      if (field.getContainingOneof() != null
          && field.getMessageType().equals(message.getDescriptorForType())) {
        return Command.newBuilder().setField(field, message);
      }
    }
    throw new IllegalArgumentException(
        "not a command body: " + message.getDescriptorForType().getFullName());
  }

  /**
   * CreateKey of {@code name} in the default zone, with the material {@link Commands#create} has.
   */
  public static CreateKey.Builder createKey(String name) {
    return CreateKey.newBuilder()
        .setName(name)
        .setZone("default")
        .setKek(Commands.kek("default", name + "/1"));
  }

  public static Label label(String key, String value) {
    return Label.newBuilder().setKey(key).setValue(value).build();
  }

  public static RotateKeys.Builder rotateKeys(RotateKey.Builder... rotations) {
    RotateKeys.Builder batch = RotateKeys.newBuilder();
    for (RotateKey.Builder rotation : rotations) {
      batch.addRotations(rotation);
    }
    return batch;
  }

  public static AcknowledgeVersion.Builder acknowledge(String name, int version, String node) {
    return AcknowledgeVersion.newBuilder().setName(name).setVersion(version).setNode(node);
  }

  public static RecordActivation.Builder recordActivation(String name, int version) {
    return RecordActivation.newBuilder().setName(name).setVersion(version);
  }

  public static SetVersionStatus.Builder setVersionStatus(
      String name, int version, VersionStatus status) {
    return SetVersionStatus.newBuilder().setName(name).setVersion(version).setStatus(status);
  }

  public static SetRotationPolicy.Builder setRotationPolicy(
      String name, RotationPolicyRecord.Builder policy) {
    return SetRotationPolicy.newBuilder().setName(name).setPolicy(policy);
  }

  public static SetVersionFloors.Builder setVersionFloors(
      String name, int minDecryption, int minEncryption) {
    return SetVersionFloors.newBuilder()
        .setName(name)
        .setMinDecryptionVersion(minDecryption)
        .setMinEncryptionVersion(minEncryption);
  }

  public static SetDependents.Builder setDependents(String name, String... dependents) {
    return SetDependents.newBuilder().setName(name).addAllDependents(List.of(dependents));
  }

  public static CancelRotation.Builder cancelRotation(
      String name, int version, String reason, boolean onlyIfUnvalidated) {
    return CancelRotation.newBuilder()
        .setName(name)
        .setVersion(version)
        .setReason(reason)
        .setOnlyIfUnvalidated(onlyIfUnvalidated);
  }

  public static RollbackRotation.Builder rollbackRotation(String name, int version, String reason) {
    return RollbackRotation.newBuilder().setName(name).setVersion(version).setReason(reason);
  }

  public static UsageCount usage(String name, int version, long encryptions) {
    return UsageCount.newBuilder()
        .setName(name)
        .setVersion(version)
        .setEncryptions(encryptions)
        .build();
  }

  /** A node's count of data keys issued under a version and rewrapped away from it. */
  public static UsageCount dataKeyUsage(String name, int version, long issued, long rewrappedAway) {
    return UsageCount.newBuilder()
        .setName(name)
        .setVersion(version)
        .setDataKeysIssued(issued)
        .setDataKeysRewrappedAway(rewrappedAway)
        .build();
  }

  public static ReportUsage.Builder reportUsage(String node, UsageCount... counts) {
    return ReportUsage.newBuilder().setNode(node).addAllCounts(List.of(counts));
  }

  public static ReserveEncryptions.Builder reserveEncryptions(
      String node, String name, int version, long count) {
    return ReserveEncryptions.newBuilder()
        .setNode(node)
        .setName(name)
        .setVersion(version)
        .setCount(count);
  }

  public static ScheduleVersionDestroy.Builder scheduleDestroy(
      String name, int version, long waitingMillis) {
    return ScheduleVersionDestroy.newBuilder()
        .setName(name)
        .setVersion(version)
        .setWaitingPeriodMillis(waitingMillis);
  }

  public static CancelVersionDestroy.Builder cancelDestroy(String name, int version) {
    return CancelVersionDestroy.newBuilder().setName(name).setVersion(version);
  }

  public static DestroyVersion.Builder destroyVersion(String name, int version) {
    return DestroyVersion.newBuilder().setName(name).setVersion(version);
  }

  public static StartBulkRotation.Builder startBulkRotation(
      String jobId, String zone, Label... selector) {
    return StartBulkRotation.newBuilder()
        .setJobId(jobId)
        .setZone(zone)
        .addAllLabelSelector(List.of(selector));
  }

  public static StartZoneMasterKeyRotation.Builder startZoneMasterKeyRotation(
      String zone, int targetVersion) {
    return StartZoneMasterKeyRotation.newBuilder().setZone(zone).setTargetVersion(targetVersion);
  }

  public static KekRewrap rewrap(
      String name, int version, int expectedZoneMasterKeyVersion, WrappedKeyMaterial kek) {
    return KekRewrap.newBuilder()
        .setKeyName(name)
        .setVersion(version)
        .setExpectedZoneMasterKeyVersion(expectedZoneMasterKeyVersion)
        .setKek(kek)
        .build();
  }

  public static RewrapKeks.Builder rewrapKeks(
      String zone, int targetVersion, KekRewrap... rewraps) {
    return RewrapKeks.newBuilder()
        .setZone(zone)
        .setTargetVersion(targetVersion)
        .addAllRewraps(List.of(rewraps));
  }

  public static RetireZoneMasterKeyVersion.Builder retireZoneMasterKeyVersion(
      String zone, int version) {
    return RetireZoneMasterKeyVersion.newBuilder().setZone(zone).setVersion(version);
  }

  /** RegisterAuditKey of audit key {@code node}/{@code version}, its public key's encoding. */
  public static RegisterAuditKey.Builder registerAuditKey(
      String node, int version, byte[] publicKey) {
    return RegisterAuditKey.newBuilder()
        .setKey(
            AuditKeyRegistration.newBuilder()
                .setNode(node)
                .setKeyVersion(version)
                .setPublicKey(ByteString.copyFrom(publicKey)));
  }

  /**
   * SignDestructionReceipt of {@code name} v{@code version} by audit key {@code node}/{@code
   * keyVersion}: a signature of {@code signatureBytes} bytes, each 7.
   */
  public static SignDestructionReceipt.Builder signDestructionReceipt(
      String name, int version, String node, int keyVersion, int signatureBytes) {
    byte[] signature = new byte[signatureBytes];
    Arrays.fill(signature, (byte) 7);
    return SignDestructionReceipt.newBuilder()
        .setName(name)
        .setVersion(version)
        .setSignature(
            DestructionReceiptSignature.newBuilder()
                .setSignerNode(node)
                .setKeyVersion(keyVersion)
                .setSignature(ByteString.copyFrom(signature)));
  }
}
