package io.keyrotor.storage.apply;

import com.google.rpc.Code;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.KeyEventType;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.KeyEventRecord;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.storage.StateReader;
import io.keyrotor.storage.version.ApplyFeature;
import io.keyrotor.storage.version.ClusterVersion;

/**
 * One command being applied: the command, its audit action, its log index, its effective time and
 * the state it reads, with the steps every handler shares (refuse, replace a version, build a
 * result or an event). Holds no clock: the time is the command's.
 */
public final class CommandContext {
  private final Command command;
  private final AuditAction action;
  private final long index;
  private final long timeMillis;
  private final StateReader state;
  private final int clusterVersion;

  /**
   * {@code command} applied at log {@code index} and effective {@code timeMillis} on {@code state},
   * in a cluster at version {@link ClusterVersion#BASE}.
   */
  public CommandContext(Command command, long index, long timeMillis, StateReader state) {
    this(command, index, timeMillis, state, ClusterVersion.BASE);
  }

  /**
   * {@code command} applied at log {@code index} and effective {@code timeMillis} on {@code state},
   * in a cluster whose active version (replicated state, never this binary's) is {@code
   * clusterVersion}.
   */
  public CommandContext(
      Command command, long index, long timeMillis, StateReader state, int clusterVersion) {
    this.command = command;
    this.action = AuditAction.of(command.getBodyCase());
    this.index = index;
    this.timeMillis = timeMillis;
    this.state = state;
    this.clusterVersion = clusterVersion;
  }

  public Command command() {
    return command;
  }

  public AuditAction action() {
    return action;
  }

  /** The log index of the command. */
  public long index() {
    return index;
  }

  /** The effective time of the command (leader time, clamped to be monotonic by the store). */
  public long time() {
    return timeMillis;
  }

  /** The state as it is before the command (or as a batch left it). */
  public StateReader state() {
    return state;
  }

  /** The same command reading {@code view} instead (the overlay of a batch). */
  public CommandContext over(StateReader view) {
    return new CommandContext(command, index, timeMillis, view, clusterVersion);
  }

  /** The cluster's active version as of this command (replicated state). */
  public int clusterVersion() {
    return clusterVersion;
  }

  /**
   * Whether the gated apply behaviour {@code feature} is on for this command: the cluster's active
   * version, read from the replicated state, has reached the feature's version. Below it a handler
   * keeps the old behaviour.
   */
  public boolean feature(ApplyFeature feature) {
    return feature.activeAt(clusterVersion);
  }

  /** Effects with a successful result for {@code key} and {@code version} at this index. */
  public Effects.Builder ok(String key, int version, long activationTimeMillis, String message) {
    return Effects.builder(action).ok(key, version, index, activationTimeMillis, message);
  }

  /** Effects with a successful result for {@code target}, the version the command names. */
  public Effects.Builder ok(VersionTarget target, String message) {
    return ok(target.name(), target.number(), 0, message);
  }

  /** Successful effects on {@code target} that change nothing, saying {@code why}. */
  public Effects unchanged(VersionTarget target, String why) {
    return ok(target, "unchanged: " + why).detail("unchanged: " + why).build();
  }

  /**
   * Successful effects of a lifecycle move of {@code target}: {@code moved}, the version after the
   * move, stored in its place, the audit detail {@code version=N} and the move's {@code event}.
   */
  public Effects versionMoved(
      VersionTarget target, KeyVersionRecord moved, KeyEventType event, String message) {
    return ok(target, message)
        .writeKey(replaceVersion(target.key(), moved))
        .detail("version=" + target.number())
        .event(event(event, target.name(), target.number(), ""))
        .build();
  }

  /**
   * Successful effects that store {@code updated}, a key whose settings (policy, dependents)
   * changed: the audit detail and the key's POLICY_CHANGED event both say {@code detail}.
   */
  public Effects policyChanged(KeyRecord updated, String message, String detail) {
    String name = updated.getName();
    return ok(name, 0, 0, message)
        .writeKey(updated)
        .detail(detail)
        .event(event(KeyEventType.KEY_EVENT_TYPE_POLICY_CHANGED, name, 0, detail))
        .build();
  }

  /** The command refused with {@code code} and {@code reason}; nothing changes. */
  public Effects reject(ErrorReason reason, Code code, String message, String key) {
    return Effects.rejected(action, reason, code, message, key, index);
  }

  /**
   * The command refused because the state does not allow it (FAILED_PRECONDITION: a state or
   * version conflict) with {@code reason}; nothing changes.
   */
  public Effects refuse(ErrorReason reason, String message, String key) {
    return reject(reason, Code.FAILED_PRECONDITION, message, key);
  }

  /** The command refused because key {@code name} does not exist. */
  public Effects keyNotFound(String name) {
    return reject(
        ErrorReason.KEY_NOT_FOUND, Code.NOT_FOUND, "key \"" + name + "\" not found", name);
  }

  /** The command refused because {@code key} has no version {@code version}. */
  public Effects versionNotFound(KeyRecord key, long version) {
    return reject(
        ErrorReason.VERSION_NOT_FOUND,
        Code.NOT_FOUND,
        "key \""
            + key.getName()
            + "\" has no version "
            + version
            + " (versions 1-"
            + key.getVersionsCount()
            + ")",
        key.getName());
  }

  /** {@code key} with {@code version} in its place, changed at this index. */
  public KeyRecord replaceVersion(KeyRecord key, KeyVersionRecord version) {
    return key.toBuilder()
        .setVersions(version.getVersion() - 1, version)
        .setRevision(index)
        .build();
  }

  /** An event of this command about {@code version} of {@code key} (0: the key as a whole). */
  public KeyEventRecord event(KeyEventType type, String key, int version, String detail) {
    return event(type, key, version, RotationReason.ROTATION_REASON_UNSPECIFIED_VALUE, detail);
  }

  /** An event of this command that carries the {@link RotationReason} number {@code reason}. */
  public KeyEventRecord event(
      KeyEventType type, String key, int version, int reason, String detail) {
    return KeyEventRecord.newBuilder()
        .setType(type.getNumber())
        .setKeyName(key)
        .setVersion(version)
        .setTimeUnixMillis(timeMillis)
        .setRequestId(command.getRequestId())
        .setOriginNode(command.getOriginNode())
        .setReason(reason)
        .setDetail(detail)
        .build();
  }
}
