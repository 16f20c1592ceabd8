package io.keyrotor.server.api;

import com.google.protobuf.Duration;
import com.google.protobuf.Timestamp;
import io.keyrotor.api.v1.Key;
import io.keyrotor.api.v1.KeyVersion;
import io.keyrotor.api.v1.RotateKeyResponse;
import io.keyrotor.api.v1.RotationPolicy;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.CommandResult;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.Label;
import io.keyrotor.proto.internal.v1.RotationPolicyRecord;
import io.keyrotor.storage.KeyVersions;
import io.keyrotor.storage.StateView;

/** Turns stored key records into what the API shows, evaluated at a point in time. */
public final class KeyViews {
  private KeyViews() {}

  /** The key named {@code name} in {@code state}, or NOT_FOUND KEY_NOT_FOUND. */
  static KeyRecord existing(StateView state, String name) {
    return state.key(name).orElseThrow(() -> ApiErrors.keyNotFound(name));
  }

  /**
   * The reply of RotateKey: the key as the rotation left it, its new version and when it activates.
   */
  static RotateKeyResponse rotated(CommandResult result, long timeMillis) {
    return RotateKeyResponse.newBuilder()
        .setKey(toApi(result.getKey(), timeMillis))
        .setNewVersion(result.getOutcome().getVersion())
        .setActivationTime(timestamp(result.getOutcome().getActivationTimeUnixMillis()))
        .build();
  }

  /** The API view of {@code key} at {@code timeMillis}; never includes key material. */
  public static Key toApi(KeyRecord key, long timeMillis) {
    Key.Builder out =
        Key.newBuilder()
            .setName(key.getName())
            .setZone(key.getZone())
            .setCreateTime(timestamp(key.getCreateTimeUnixMillis()))
            .setPrimaryVersion(KeyVersions.primaryVersionAt(key, timeMillis))
            .setRotationPolicy(policy(key.getPolicy()))
            .setMinDecryptionVersion(key.getMinDecryptionVersion())
            .setMinEncryptionVersion(key.getMinEncryptionVersion())
            .setAsOfTime(timestamp(timeMillis))
            .setRevision(key.getRevision());
    for (Label label : key.getLabelsList()) {
      out.putLabels(label.getKey(), label.getValue());
    }
    for (KeyVersionRecord version : key.getVersionsList()) {
      KeyVersion.Builder v =
          KeyVersion.newBuilder()
              .setVersion(version.getVersion())
              .setState(KeyVersions.stateAt(key, version, timeMillis))
              .setCreateTime(timestamp(version.getCreateTimeUnixMillis()))
              .setActivationTime(timestamp(version.getActivationTimeUnixMillis()))
              .setZoneMasterKeyVersion(version.getKek().getZoneMasterKeyVersion())
              .setWrapMechanism(version.getKek().getMechanism());
      RotationReason reason = RotationReason.forNumber(version.getRotationReason());
      v.setRotationReason(reason == null ? RotationReason.ROTATION_REASON_UNSPECIFIED : reason);
      if (version.getDestroyTimeUnixMillis() != 0) {
        v.setDestroyTime(timestamp(version.getDestroyTimeUnixMillis()));
      }
      v.addAllRequiredAcknowledgers(version.getRequiredAcknowledgersList())
          .addAllAcknowledgedBy(version.getAcknowledgedByList())
          .setEncryptions(io.keyrotor.storage.EncryptionLimits.counted(version))
          .setEncryptionLimit(io.keyrotor.storage.EncryptionLimits.limit(key))
          .setStatusReason(version.getStatusReason());
      if (version.getValidationDeadlineUnixMillis() != 0) {
        v.setValidationDeadline(timestamp(version.getValidationDeadlineUnixMillis()));
      }
      if (version.getDemotedTimeUnixMillis() != 0) {
        v.setDemotedTime(timestamp(version.getDemotedTimeUnixMillis()));
      }
      out.addVersions(v);
    }
    if (key.getNextRotationTimeUnixMillis() != 0) {
      out.setNextRotationTime(timestamp(key.getNextRotationTimeUnixMillis()));
    }
    out.addAllDependents(key.getDependentsList())
        .setRotationRequestedBy(key.getRotationRequestedBy());
    return out.build();
  }

  static RotationPolicy policy(RotationPolicyRecord record) {
    RotationPolicy.Builder out =
        RotationPolicy.newBuilder()
            .setMaxEncryptions(record.getMaxEncryptions())
            .setTemplate(record.getTemplate());
    if (record.getRotationPeriodMillis() > 0) {
      out.setRotationPeriod(duration(record.getRotationPeriodMillis()));
    }
    if (record.getActivationDelayMillis() >= 0) {
      out.setActivationDelay(duration(record.getActivationDelayMillis()));
    }
    if (record.getDecryptGraceMillis() > 0) {
      out.setDecryptGrace(duration(record.getDecryptGraceMillis()));
    }
    if (record.getNextRotationTimeUnixMillis() > 0) {
      out.setNextRotationTime(timestamp(record.getNextRotationTimeUnixMillis()));
    }
    if (record.getDestroyWaitingPeriodMillis() > 0) {
      out.setDestroyWaitingPeriod(duration(record.getDestroyWaitingPeriodMillis()));
    }
    return out.setRequireValidation(record.getRequireValidation()).build();
  }

  static Timestamp timestamp(long millis) {
    return Timestamp.newBuilder()
        .setSeconds(Math.floorDiv(millis, 1000))
        .setNanos(Math.floorMod(millis, 1000) * 1_000_000)
        .build();
  }

  static Duration duration(long millis) {
    return Duration.newBuilder()
        .setSeconds(millis / 1000)
        .setNanos((int) (millis % 1000) * 1_000_000)
        .build();
  }
}
