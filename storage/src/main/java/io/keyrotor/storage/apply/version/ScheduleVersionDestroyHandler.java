package io.keyrotor.storage.apply.version;

import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.ScheduleVersionDestroy;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.storage.KeyVersions;
import io.keyrotor.storage.apply.CommandContext;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.VersionHandler;
import io.keyrotor.storage.apply.VersionTarget;
import io.keyrotor.storage.lifecycle.VersionLifecycle;
import io.keyrotor.storage.lifecycle.VersionLifecycle.Move;
import java.util.Optional;

/**
 * ScheduleVersionDestroy: a version that is neither the primary nor pending is destroyed at its
 * destroy time (the leader proposes the destroy then); scheduling it again changes nothing.
 */
public final class ScheduleVersionDestroyHandler implements VersionHandler<ScheduleVersionDestroy> {
  @Override
  public Effects apply(
      ScheduleVersionDestroy schedule, VersionTarget target, CommandContext context) {
    KeyVersionRecord v = target.version();
    String name = target.name();
    if (v.getStatus() == VersionStatus.VERSION_STATUS_DESTROY_SCHEDULED) {
      return context.unchanged(target, "already scheduled");
    }
    Optional<VersionLifecycle.Moved> moved =
        VersionLifecycle.move(Move.SCHEDULE_DESTROY, v, "destroy scheduled");
    if (moved.isEmpty()) {
      return context.refuse(
          VersionLifecycle.refusal(Move.SCHEDULE_DESTROY, v.getStatus()),
          target.subject() + " has no material to destroy",
          name);
    }
    if (KeyVersions.primaryVersionAt(target.key(), context.time()) == v.getVersion()) {
      return context.refuse(
          ErrorReason.VERSION_IS_PRIMARY,
          "version " + v.getVersion() + " is the primary of key \"" + name + "\"; rotate first",
          name);
    }
    if (v.getStatus() == VersionStatus.VERSION_STATUS_ENABLED
        && KeyVersions.pendingAt(target.key(), context.time())
                .map(KeyVersionRecord::getVersion)
                .orElse(0)
            == v.getVersion()) {
      return context.refuse(
          ErrorReason.VERSION_PENDING, target.subject() + " is pending; cancel the rotation", name);
    }
    // The waiting period counts from cluster time too: a leader whose clock is behind stamps a
    // destroy time that is early by as much, and must not shorten the wait.
    long destroyTime =
        Math.max(
            context.time() + Math.max(0, schedule.getWaitingPeriodMillis()),
            schedule.getDestroyTimeUnixMillis());
    KeyVersionRecord updated =
        moved.get().version().toBuilder()
            .setDestroyTimeUnixMillis(destroyTime)
            .setDestroyScheduledBy(context.command().getPrincipal())
            .build();
    return context
        .ok(target, "destroy scheduled")
        .writeKey(context.replaceVersion(target.key(), updated))
        .detail("version=" + v.getVersion() + " destroy_time=" + destroyTime)
        .event(
            context.event(moved.get().event(), name, v.getVersion(), "destroy_time=" + destroyTime))
        .build();
  }
}
