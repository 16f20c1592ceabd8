package io.keyrotor.storage.apply.version;

import com.google.rpc.Code;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.SetVersionStatus;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.storage.KeyVersions;
import io.keyrotor.storage.apply.CommandContext;
import io.keyrotor.storage.apply.CommandHandler;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.VersionHandler;
import io.keyrotor.storage.apply.VersionTarget;
import io.keyrotor.storage.lifecycle.VersionLifecycle;
import io.keyrotor.storage.lifecycle.VersionLifecycle.Move;
import java.util.Locale;
import java.util.Optional;

/**
 * SetVersionStatus: an operator enables a disabled version or disables one that is not the primary.
 * Asking for the status a version has already changes nothing. The audit detail starts with
 * "enable" or "disable", whatever the outcome.
 */
public final class SetVersionStatusHandler implements CommandHandler<SetVersionStatus> {
  private static final CommandHandler<SetVersionStatus> CHANGE =
      VersionHandler.findingVersion(
          SetVersionStatus::getName, SetVersionStatus::getVersion, SetVersionStatusHandler::change);

  /** The change, or the refusal of a missing key or version, audited with its verb. */
  @Override
  public Effects apply(SetVersionStatus change, CommandContext context) {
    Effects effects = CHANGE.apply(change, context);
    return effects.withAuditDetail(verb(change.getStatus()) + " " + effects.auditDetail());
  }

  private static String verb(VersionStatus target) {
    return switch (target) {
      case VERSION_STATUS_ENABLED -> "enable";
      case VERSION_STATUS_DISABLED -> "disable";
      default -> "set " + target;
    };
  }

  private static Effects change(
      SetVersionStatus change, VersionTarget target, CommandContext context) {
    String name = target.name();
    KeyVersionRecord version = target.version();
    VersionStatus wanted = change.getStatus();
    if (wanted != VersionStatus.VERSION_STATUS_ENABLED
        && wanted != VersionStatus.VERSION_STATUS_DISABLED) {
      return context.reject(
          ErrorReason.INVALID_ARGUMENT,
          Code.INVALID_ARGUMENT,
          "a version can be enabled or disabled this way, not set to " + wanted,
          name);
    }
    boolean disable = wanted == VersionStatus.VERSION_STATUS_DISABLED;
    Move move = disable ? Move.DISABLE : Move.ENABLE;
    VersionStatus current = version.getStatus();
    Optional<VersionLifecycle.Moved> moved =
        VersionLifecycle.move(move, version, disable ? "disabled" : "");
    if (moved.isEmpty() && current != wanted) {
      return context.refuse(
          VersionLifecycle.refusal(move, current),
          target.subject()
              + " is "
              + words(current)
              + " and cannot be "
              + (disable ? "disabled" : "enabled")
              + (current == VersionStatus.VERSION_STATUS_DESTROY_SCHEDULED
                  ? " (cancel the destroy first)"
                  : ""),
          name);
    }
    if (disable
        && KeyVersions.primaryVersionAt(target.key(), context.time()) == version.getVersion()) {
      return context.refuse(
          ErrorReason.VERSION_IS_PRIMARY,
          "version "
              + version.getVersion()
              + " is the primary of key \""
              + name
              + "\"; rotate the key first (or rotate with reason compromise, which disables it)",
          name);
    }
    if (moved.isEmpty()) {
      // Idempotent: nothing changes, and the revision stays.
      return context
          .ok(target, "unchanged")
          .detail("version=" + version.getVersion() + " unchanged")
          .build();
    }
    return context.versionMoved(target, moved.get().version(), moved.get().event(), "changed");
  }

  /** "destroy scheduled" for VERSION_STATUS_DESTROY_SCHEDULED. */
  private static String words(VersionStatus status) {
    String name = status.name();
    String prefix = "VERSION_STATUS_";
    String word = name.startsWith(prefix) ? name.substring(prefix.length()) : name;
    return word.toLowerCase(Locale.ROOT).replace('_', ' ');
  }
}
