package io.keyrotor.storage.apply.key;

import com.google.rpc.Code;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.KeyEventRecord;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.RotateKey;
import io.keyrotor.storage.KeyVersions;
import io.keyrotor.storage.Limits;
import io.keyrotor.storage.apply.CommandContext;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.KeyHandler;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * RotateKey: a new version of a key, with a compare-and-set on the newest version. A compromise
 * rotation activates at once and disables the previous primary and any pending version; a rotation
 * with an activation delay is gated on the nodes serving the key's zone ({@link NewVersion}). Keys
 * that depend on the rotated one are asked to rotate next.
 */
public final class RotateKeyHandler implements KeyHandler<RotateKey> {
  private final Limits limits;

  /**
   * Refuses a version beyond {@code limits}' versions per key, which keeps one key's record (every
   * version, rewritten by each change) bounded.
   */
  public RotateKeyHandler(Limits limits) {
    this.limits = limits;
  }

  /** A rotation against the state {@code context} reads (the store, or a batch's overlay). */
  @Override
  public Effects apply(RotateKey rotate, KeyRecord key, CommandContext context) {
    String name = rotate.getName();
    long time = context.time();
    int latest = KeyVersions.latestVersion(key);
    if (rotate.getExpectedLatestVersion() != 0 && rotate.getExpectedLatestVersion() != latest) {
      return context.refuse(
          ErrorReason.VERSION_CONFLICT,
          "key \""
              + name
              + "\" is at version "
              + latest
              + ", not "
              + rotate.getExpectedLatestVersion()
              + " as the rotation expected",
          name);
    }
    Optional<String> invalid = KeySchedule.checkMaterial(rotate.getKek(), key.getZone());
    if (invalid.isPresent()) {
      return context.reject(
          ErrorReason.INVALID_ARGUMENT, Code.INVALID_ARGUMENT, invalid.get(), name);
    }
    if (!KeySchedule.boundTo(rotate.getKek(), latest + 1)) {
      return context.refuse(
          ErrorReason.VERSION_CONFLICT,
          "key \""
              + name
              + "\" is at version "
              + latest
              + "; the rotation's key-encryption key was made for version "
              + rotate.getKek().getKeyCheckVersion()
              + " (another rotation came first); retry",
          name);
    }
    boolean compromise = rotate.getReason() == RotationReason.ROTATION_REASON_COMPROMISE_VALUE;
    Optional<KeyVersionRecord> pending = KeyVersions.pendingAt(key, time);
    if (pending.isPresent() && !compromise) {
      return context.refuse(
          ErrorReason.ROTATION_PENDING,
          "key \""
              + name
              + "\" already has version "
              + pending.get().getVersion()
              + " pending activation; wait for it, or cancel or disable it first",
          name);
    }
    if (latest >= limits.versionsPerKey()) {
      return context.refuse(
          ErrorReason.TOO_MANY_VERSIONS,
          "key \"" + name + "\" has reached " + limits.versionsPerKey() + " versions",
          name);
    }
    KeyRecord.Builder updated =
        key.toBuilder()
            .setRevision(context.index())
            .clearRotationRequestedBy()
            .clearRotationRequestedReason();
    int previousPrimary = KeyVersions.primaryVersionAt(key, time);
    List<KeyEventRecord> events =
        compromise
            ? CompromisedVersions.disable(updated, previousPrimary, rotate.getReason(), context)
            : new ArrayList<>();
    NewVersion version = NewVersion.of(key, rotate, context);
    updated.addVersions(version.record());
    KeySchedule.afterRotation(updated, version.activation(), version.effectiveTime());
    events.addAll(version.events(previousPrimary, context));
    return context
        .ok(name, version.number(), version.activation(), "rotated")
        .writeKey(updated.build())
        .writeKeys(KeySchedule.dependentsDueNow(key, context))
        .detail(version.auditDetail(time))
        .events(events)
        .build();
  }
}
