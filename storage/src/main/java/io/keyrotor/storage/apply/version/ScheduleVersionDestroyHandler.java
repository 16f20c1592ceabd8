package io.keyrotor.storage.apply.version;

import com.google.rpc.Code;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.ScheduleVersionDestroy;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.storage.KeyVersions;
import io.keyrotor.storage.apply.CommandContext;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.Found;
import io.keyrotor.storage.lifecycle.VersionLifecycle;
import io.keyrotor.storage.lifecycle.VersionLifecycle.Move;
import java.util.Optional;

/**
 * ScheduleVersionDestroy: a version that is neither the primary nor pending is destroyed at its
 * destroy time (the leader proposes the destroy then); scheduling it again changes nothing.
 */
public final class ScheduleVersionDestroyHandler {
  public Effects apply(ScheduleVersionDestroy schedule, CommandContext context) {
    Found found = context.findVersion(schedule.getName(), schedule.getVersion());
    if (found.isMissing()) {
      return found.rejection();
    }
    KeyVersionRecord v = found.version();
    String name = found.name();
    if (v.getStatus() == VersionStatus.VERSION_STATUS_DESTROY_SCHEDULED) {
      return context.unchanged(name, v.getVersion(), "already scheduled");
    }
    Optional<VersionLifecycle.Moved> moved =
        VersionLifecycle.move(Move.SCHEDULE_DESTROY, v, "destroy scheduled");
    if (moved.isEmpty()) {
      return refuse(
          context,
          VersionLifecycle.refusal(Move.SCHEDULE_DESTROY, v.getStatus()),
          "version " + v.getVersion() + " of key \"" + name + "\" has no material to destroy",
          name);
    }
    if (KeyVersions.primaryVersionAt(found.key(), context.time()) == v.getVersion()) {
      return refuse(
          context,
          ErrorReason.VERSION_IS_PRIMARY,
          "version " + v.getVersion() + " is the primary of key \"" + name + "\"; rotate first",
          name);
    }
    if (v.getStatus() == VersionStatus.VERSION_STATUS_ENABLED
        && KeyVersions.pendingAt(found.key(), context.time())
                .map(KeyVersionRecord::getVersion)
                .orElse(0)
            == v.getVersion()) {
      return refuse(
          context,
          ErrorReason.VERSION_PENDING,
          "version " + v.getVersion() + " of key \"" + name + "\" is pending; cancel the rotation",
          name);
    }
    long destroyTime = Math.max(context.time(), schedule.getDestroyTimeUnixMillis());
    KeyVersionRecord updated =
        moved.get().version().toBuilder().setDestroyTimeUnixMillis(destroyTime).build();
    return context
        .ok(name, v.getVersion(), 0, "destroy scheduled")
        .writeKey(context.replaceVersion(found.key(), updated))
        .detail("version=" + v.getVersion() + " destroy_time=" + destroyTime)
        .event(
            context.event(moved.get().event(), name, v.getVersion(), "destroy_time=" + destroyTime))
        .build();
  }

  private static Effects refuse(
      CommandContext context, ErrorReason reason, String message, String name) {
    return context.reject(reason, Code.FAILED_PRECONDITION, message, name);
  }
}
