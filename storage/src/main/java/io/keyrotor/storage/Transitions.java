package io.keyrotor.storage;

import com.google.rpc.Code;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CommandResultRecord;
import io.keyrotor.proto.internal.v1.CreateKey;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.RegisterNode;
import io.keyrotor.proto.internal.v1.RotateKey;
import io.keyrotor.proto.internal.v1.SetRotationPolicy;
import io.keyrotor.proto.internal.v1.SetVersionStatus;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.proto.internal.v1.WrappedKeyMaterial;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * The deterministic transition of the replicated state: command + current records + log index +
 * effective time -> {@link Effects}. It reads no clock and no random source; every input arrives in
 * the command or the arguments. Rule violations are results (never exceptions), so every replica
 * records the same outcome.
 */
public final class Transitions {
  /** Upper bound on versions per key, to keep one record well below RocksDB's value sweet spot. */
  public static final int MAX_VERSIONS_PER_KEY = 10_000;

  private final Function<String, Optional<KeyRecord>> keys;
  private final ZoneMasterKeyTransitions zoneMasterKeys;

  /**
   * @param keys reads the current record of a key by name
   */
  public Transitions(Function<String, Optional<KeyRecord>> keys) {
    this(keys, new ZoneMasterKeyTransitions(keys, List::of, zone -> Optional.empty()));
  }

  /**
   * @param keys reads the current record of a key by name
   * @param zoneMasterKeys the transitions of zone master key rotation
   */
  public Transitions(
      Function<String, Optional<KeyRecord>> keys, ZoneMasterKeyTransitions zoneMasterKeys) {
    this.keys = keys;
    this.zoneMasterKeys = zoneMasterKeys;
  }

  /** The effects of {@code command} applied at log {@code index} and effective {@code time}. */
  public Effects apply(Command command, long index, long timeMillis) {
    switch (command.getBodyCase()) {
      case CREATE_KEY:
        return createKey(command.getCreateKey(), command, index, timeMillis);
      case ROTATE_KEY:
        return rotateKey(command.getRotateKey(), command, index, timeMillis);
      case SET_VERSION_STATUS:
        return setVersionStatus(command.getSetVersionStatus(), index, timeMillis);
      case SET_ROTATION_POLICY:
        return setRotationPolicy(command.getSetRotationPolicy(), index);
      case REGISTER_NODE:
        return registerNode(command.getRegisterNode(), index, timeMillis);
      case START_ZONE_MASTER_KEY_ROTATION:
      case REWRAP_KEKS:
      case RETIRE_ZONE_MASTER_KEY_VERSION:
        return zoneMasterKeys.apply(command, index, timeMillis);
      default:
        return reject(
            "UNKNOWN",
            Code.INVALID_ARGUMENT,
            "UNKNOWN_COMMAND",
            "this node does not know the command kind " + command.getBodyCase(),
            "",
            index);
    }
  }

  private Effects createKey(CreateKey create, Command command, long index, long time) {
    String action = "CREATE_KEY";
    String name = create.getName();
    Optional<String> invalid =
        Validation.checkKeyName(name)
            .or(() -> Validation.checkZoneName(create.getZone()))
            .or(() -> Validation.checkLabels(create.getLabelsList()))
            .or(() -> Validation.checkPolicy(create.getPolicy()))
            .or(() -> checkMaterial(create.getKek(), create.getZone()));
    if (invalid.isPresent()) {
      return reject(action, Code.INVALID_ARGUMENT, "INVALID_ARGUMENT", invalid.get(), name, index);
    }
    if (keys.apply(name).isPresent()) {
      return reject(
          action,
          Code.ALREADY_EXISTS,
          "KEY_EXISTS",
          "key \"" + name + "\" already exists",
          name,
          index);
    }
    long activation = Math.max(time, create.getActivationTimeUnixMillis());
    KeyVersionRecord first =
        KeyVersionRecord.newBuilder()
            .setVersion(1)
            .setStatus(VersionStatus.VERSION_STATUS_ENABLED)
            .setCreateTimeUnixMillis(time)
            .setActivationTimeUnixMillis(activation)
            .setKek(create.getKek())
            .setRotationReason(RotationReason.ROTATION_REASON_UNSPECIFIED_VALUE)
            .setCreatedByRequestId(command.getRequestId())
            .build();
    KeyRecord key =
        KeyRecord.newBuilder()
            .setName(name)
            .setZone(create.getZone())
            .addAllLabels(create.getLabelsList())
            .setCreateTimeUnixMillis(time)
            .addVersions(first)
            .setPolicy(create.getPolicy())
            .setRevision(index)
            .build();
    return new Effects(
        ok(name, 1, index, activation, "created"),
        Optional.of(key),
        Optional.empty(),
        action,
        "zone=" + create.getZone() + " activation=" + activation);
  }

  private Effects rotateKey(RotateKey rotate, Command command, long index, long time) {
    String action = "ROTATE_KEY";
    String name = rotate.getName();
    Optional<KeyRecord> found = keys.apply(name);
    if (found.isEmpty()) {
      return notFound(action, name, index);
    }
    KeyRecord key = found.get();
    int latest = KeyVersions.latestVersion(key);
    if (rotate.getExpectedLatestVersion() != 0 && rotate.getExpectedLatestVersion() != latest) {
      return reject(
          action,
          Code.FAILED_PRECONDITION,
          "VERSION_CONFLICT",
          "key \""
              + name
              + "\" is at version "
              + latest
              + ", not "
              + rotate.getExpectedLatestVersion()
              + " as the rotation expected",
          name,
          index);
    }
    Optional<String> invalid = checkMaterial(rotate.getKek(), key.getZone());
    if (invalid.isPresent()) {
      return reject(action, Code.INVALID_ARGUMENT, "INVALID_ARGUMENT", invalid.get(), name, index);
    }
    boolean compromise = rotate.getReason() == RotationReason.ROTATION_REASON_COMPROMISE_VALUE;
    Optional<KeyVersionRecord> pending = KeyVersions.pendingAt(key, time);
    if (pending.isPresent() && !compromise) {
      return reject(
          action,
          Code.FAILED_PRECONDITION,
          "ROTATION_PENDING",
          "key \""
              + name
              + "\" already has version "
              + pending.get().getVersion()
              + " pending activation; wait for it or disable it first",
          name,
          index);
    }
    if (latest >= MAX_VERSIONS_PER_KEY) {
      return reject(
          action,
          Code.FAILED_PRECONDITION,
          "TOO_MANY_VERSIONS",
          "key \"" + name + "\" has reached " + MAX_VERSIONS_PER_KEY + " versions",
          name,
          index);
    }
    long activation = compromise ? time : Math.max(time, rotate.getActivationTimeUnixMillis());
    int newVersion = latest + 1;
    KeyRecord.Builder updated = key.toBuilder().setRevision(index);
    if (compromise) {
      // A compromised key stops being used in the same command that replaces it: the previous
      // primary and any pending version are disabled.
      int primary = KeyVersions.primaryVersionAt(key, time);
      for (int i = 0; i < updated.getVersionsCount(); i++) {
        KeyVersionRecord v = updated.getVersions(i);
        boolean isPending =
            v.getStatus() == VersionStatus.VERSION_STATUS_ENABLED
                && v.getActivationTimeUnixMillis() > time;
        if (v.getVersion() == primary || isPending) {
          updated.setVersions(
              i, v.toBuilder().setStatus(VersionStatus.VERSION_STATUS_DISABLED).build());
        }
      }
    }
    updated.addVersions(
        KeyVersionRecord.newBuilder()
            .setVersion(newVersion)
            .setStatus(VersionStatus.VERSION_STATUS_ENABLED)
            .setCreateTimeUnixMillis(time)
            .setActivationTimeUnixMillis(activation)
            .setKek(rotate.getKek())
            .setRotationReason(rotate.getReason())
            .setCreatedByRequestId(command.getRequestId())
            .build());
    return new Effects(
        ok(name, newVersion, index, activation, "rotated"),
        Optional.of(updated.build()),
        Optional.empty(),
        action,
        "version="
            + newVersion
            + " activation="
            + activation
            + " reason="
            + reasonName(rotate.getReason()));
  }

  private Effects setVersionStatus(SetVersionStatus change, long index, long time) {
    String action =
        change.getStatus() == VersionStatus.VERSION_STATUS_ENABLED
            ? "ENABLE_VERSION"
            : "DISABLE_VERSION";
    String name = change.getName();
    Optional<KeyRecord> found = keys.apply(name);
    if (found.isEmpty()) {
      return notFound(action, name, index);
    }
    KeyRecord key = found.get();
    Optional<KeyVersionRecord> maybeVersion = KeyVersions.find(key, change.getVersion());
    if (maybeVersion.isEmpty()) {
      return reject(
          action,
          Code.NOT_FOUND,
          "VERSION_NOT_FOUND",
          "key \""
              + name
              + "\" has no version "
              + change.getVersion()
              + " (versions 1-"
              + key.getVersionsCount()
              + ")",
          name,
          index);
    }
    KeyVersionRecord version = maybeVersion.get();
    VersionStatus current = version.getStatus();
    VersionStatus target = change.getStatus();
    if (target != VersionStatus.VERSION_STATUS_ENABLED
        && target != VersionStatus.VERSION_STATUS_DISABLED) {
      return reject(
          action,
          Code.INVALID_ARGUMENT,
          "INVALID_ARGUMENT",
          "a version can be enabled or disabled this way, not set to " + target,
          name,
          index);
    }
    if (current == VersionStatus.VERSION_STATUS_DESTROYED
        || current == VersionStatus.VERSION_STATUS_DESTROY_SCHEDULED
        || current == VersionStatus.VERSION_STATUS_CANCELLED) {
      return reject(
          action,
          Code.FAILED_PRECONDITION,
          "VERSION_" + current.name().substring("VERSION_STATUS_".length()),
          "version "
              + version.getVersion()
              + " of key \""
              + name
              + "\" is "
              + current.name().substring("VERSION_STATUS_".length()).toLowerCase()
              + " and cannot be "
              + (target == VersionStatus.VERSION_STATUS_ENABLED ? "enabled" : "disabled"),
          name,
          index);
    }
    if (target == VersionStatus.VERSION_STATUS_DISABLED
        && KeyVersions.primaryVersionAt(key, time) == version.getVersion()) {
      return reject(
          action,
          Code.FAILED_PRECONDITION,
          "VERSION_IS_PRIMARY",
          "version "
              + version.getVersion()
              + " is the primary of key \""
              + name
              + "\"; rotate the key first (or rotate with reason compromise, which disables it)",
          name,
          index);
    }
    if (current == target) {
      // Idempotent: nothing changes, and the revision stays.
      return new Effects(
          ok(name, version.getVersion(), index, 0, "unchanged"),
          Optional.empty(),
          Optional.empty(),
          action,
          "version=" + version.getVersion() + " unchanged");
    }
    KeyRecord updated =
        key.toBuilder()
            .setVersions(version.getVersion() - 1, version.toBuilder().setStatus(target).build())
            .setRevision(index)
            .build();
    return new Effects(
        ok(name, version.getVersion(), index, 0, "changed"),
        Optional.of(updated),
        Optional.empty(),
        action,
        "version=" + version.getVersion());
  }

  private Effects setRotationPolicy(SetRotationPolicy change, long index) {
    String action = "SET_ROTATION_POLICY";
    String name = change.getName();
    Optional<KeyRecord> found = keys.apply(name);
    if (found.isEmpty()) {
      return notFound(action, name, index);
    }
    Optional<String> invalid = Validation.checkPolicy(change.getPolicy());
    if (invalid.isPresent()) {
      return reject(action, Code.INVALID_ARGUMENT, "INVALID_POLICY", invalid.get(), name, index);
    }
    KeyRecord updated =
        found.get().toBuilder().setPolicy(change.getPolicy()).setRevision(index).build();
    return new Effects(
        ok(name, 0, index, 0, "policy set"),
        Optional.of(updated),
        Optional.empty(),
        action,
        "period_ms="
            + change.getPolicy().getRotationPeriodMillis()
            + " max_encryptions="
            + change.getPolicy().getMaxEncryptions());
  }

  private Effects registerNode(RegisterNode register, long index, long time) {
    NodeRecord node = register.getNode();
    if (node.getId().isEmpty()) {
      return reject(
          "REGISTER_NODE",
          Code.INVALID_ARGUMENT,
          "INVALID_ARGUMENT",
          "a node id is required",
          "",
          index);
    }
    NodeRecord stored = node.toBuilder().setRegisteredTimeUnixMillis(time).build();
    return new Effects(
        ok("", 0, index, 0, "registered"),
        Optional.empty(),
        Optional.of(stored),
        "REGISTER_NODE",
        "node=" + node.getId() + " region=" + node.getRegion() + " zones=" + node.getZonesList());
  }

  private static Optional<String> checkMaterial(WrappedKeyMaterial kek, String zone) {
    if (kek.getCiphertext().isEmpty()) {
      return Optional.of("the command carries no wrapped key material");
    }
    if (!kek.getZone().equals(zone)) {
      return Optional.of(
          "key material is wrapped for zone \"" + kek.getZone() + "\", not \"" + zone + "\"");
    }
    return Optional.empty();
  }

  private static String reasonName(int reason) {
    RotationReason r = RotationReason.forNumber(reason);
    return r == null ? String.valueOf(reason) : r.name();
  }

  private static CommandResultRecord ok(
      String key, int version, long index, long activation, String message) {
    return CommandResultRecord.newBuilder()
        .setCode(Code.OK_VALUE)
        .setKeyName(key)
        .setVersion(version)
        .setAppliedIndex(index)
        .setActivationTimeUnixMillis(activation)
        .setMessage(message)
        .build();
  }

  private static Effects notFound(String action, String name, long index) {
    return reject(
        action, Code.NOT_FOUND, "KEY_NOT_FOUND", "key \"" + name + "\" not found", name, index);
  }

  private static Effects reject(
      String action, Code code, String reason, String message, String key, long index) {
    CommandResultRecord result =
        CommandResultRecord.newBuilder()
            .setCode(code.getNumber())
            .setReason(reason)
            .setMessage(message)
            .setKeyName(key)
            .setAppliedIndex(index)
            .build();
    return new Effects(result, Optional.empty(), Optional.empty(), action, reason);
  }
}
