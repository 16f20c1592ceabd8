package io.keyrotor.storage.apply.key;

import io.keyrotor.api.v1.KeyEventType;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.KeyEventRecord;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.RotateKey;
import io.keyrotor.storage.apply.CommandContext;
import io.keyrotor.storage.lifecycle.VersionLifecycle;
import io.keyrotor.storage.lifecycle.VersionLifecycle.Move;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The version a rotation adds: when it activates, whether it is gated, how it entered the
 * lifecycle, and the events and audit detail that say so.
 *
 * <p>A scheduled rotation takes effect as if applied at its due time when the command's time is
 * earlier (the leader's clock stepped back after it noticed the due time): it activates at
 * max(time, due) + delay, never before due + delay. The version is created (and gated, by the
 * requested delay alone) at the command's time; a compromise rotation never waits and is never
 * gated.
 *
 * @param rotate the rotation
 * @param entered the new version as it entered the lifecycle, and its entry event
 * @param effectiveTime the time the rotation takes effect at: the command's, or a later due time
 * @param validators the nodes that must acknowledge it before its validation deadline (gated only)
 */
record NewVersion(
    RotateKey rotate, VersionLifecycle.Moved entered, long effectiveTime, List<String> validators) {
  /**
   * The validation margin of a gated rotation, as a fraction of its activation delay: every serving
   * node must acknowledge the new version before {@code activation - delay / MARGIN_DIVISOR}.
   */
  static final int MARGIN_DIVISOR = 5;

  static NewVersion of(KeyRecord key, RotateKey rotate, CommandContext context) {
    long time = context.time();
    boolean compromise = rotate.getReason() == RotationReason.ROTATION_REASON_COMPROMISE_VALUE;
    // The activation delay the proposer asked for (as stamped, measured from the command time).
    long delay = compromise ? 0 : Math.max(0, rotate.getActivationTimeUnixMillis() - time);
    long effectiveTime = compromise ? time : Math.max(time, rotate.getDueTimeUnixMillis());
    long activation = effectiveTime + delay;
    KeyVersionRecord.Builder version =
        KeyVersionRecord.newBuilder()
            .setVersion(key.getVersionsCount() + 1)
            .setCreateTimeUnixMillis(time)
            .setActivationTimeUnixMillis(activation)
            .setKek(rotate.getKek())
            .setRotationReason(rotate.getReason())
            .setCreatedByRequestId(context.command().getRequestId());
    List<String> validators = servingNodes(context.state().nodes(), key.getZone());
    boolean gated = !compromise && delay > 0 && !validators.isEmpty();
    if (gated) {
      version
          .addAllRequiredAcknowledgers(validators)
          .setValidationDeadlineUnixMillis(activation - delay / MARGIN_DIVISOR);
    }
    boolean activeNow = activation <= time && !gated;
    version.setActivationRecorded(activeNow);
    return new NewVersion(
        rotate,
        VersionLifecycle.enter(version.build(), activeNow),
        effectiveTime,
        gated ? validators : List.of());
  }

  /** The registered nodes that serve {@code zone}, sorted by id: the validators of a rotation. */
  static List<String> servingNodes(Collection<NodeRecord> nodes, String zone) {
    List<String> out = new ArrayList<>();
    for (NodeRecord node : nodes) {
      if (node.getZonesList().contains(zone)) {
        out.add(node.getId());
      }
    }
    out.sort(null);
    return out;
  }

  KeyVersionRecord record() {
    return entered.version();
  }

  int number() {
    return record().getVersion();
  }

  long activation() {
    return record().getActivationTimeUnixMillis();
  }

  private boolean gated() {
    return !validators.isEmpty();
  }

  /** The entry event, and SUPERSEDED for the primary an ordinary rotation replaces at once. */
  List<KeyEventRecord> events(int previousPrimary, CommandContext context) {
    String name = rotate.getName();
    int reason = rotate.getReason();
    List<KeyEventRecord> events = new ArrayList<>();
    String detail = "activation=" + activation();
    if (entered.move() == Move.ENTER_PENDING && gated()) {
      detail +=
          " validation_deadline="
              + record().getValidationDeadlineUnixMillis()
              + " validators="
              + validators;
    }
    events.add(context.event(entered.event(), name, number(), reason, detail));
    boolean compromise = reason == RotationReason.ROTATION_REASON_COMPROMISE_VALUE;
    if (entered.move() == Move.ENTER_ACTIVE && previousPrimary != 0 && !compromise) {
      events.add(
          context.event(
              KeyEventType.KEY_EVENT_TYPE_SUPERSEDED,
              name,
              previousPrimary,
              reason,
              "by version " + number()));
    }
    return events;
  }

  /** The audit detail of the rotation, applied at {@code time}. */
  String auditDetail(long time) {
    RotationReason reason = RotationReason.forNumber(rotate.getReason());
    return "version="
        + number()
        + " activation="
        + activation()
        + (effectiveTime > time ? " due=" + effectiveTime : "")
        + " reason="
        + (reason == null ? String.valueOf(rotate.getReason()) : reason.name())
        + (gated() ? " gated" : "");
  }
}
