package io.keyrotor.server.api;

import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.KeyEvent;
import io.keyrotor.api.v1.KeyEventType;
import io.keyrotor.api.v1.ListKeyEventsResponse;
import io.keyrotor.api.v1.ListRotationsResponse;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.api.v1.RotationStatus;
import io.keyrotor.proto.internal.v1.KeyEventRecord;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.storage.KeyVersions;
import io.keyrotor.storage.StateView;
import java.time.Duration;
import java.util.Objects;

/**
 * Views of the rotation engine's state: what is pending, due, late, scheduled or failed; events.
 */
final class RotationViews {
  /** Due for longer than this: the scheduler could not rotate it. */
  static final Duration LATE_AFTER = Duration.ofMinutes(1);

  /** Cancelled rotations younger than this show as FAILED. */
  static final Duration FAILED_WINDOW = Duration.ofHours(24);

  private RotationViews() {}

  static ListRotationsResponse list(StateView store, long now, long dueWithinMillis) {
    ListRotationsResponse.Builder out = ListRotationsResponse.newBuilder();
    for (KeyRecord key : store.allKeys()) {
      for (KeyVersionRecord v : key.getVersionsList()) {
        if (v.getStatus() == VersionStatus.VERSION_STATUS_ENABLED
            && (v.getActivationTimeUnixMillis() > now || !KeyVersions.isEligible(v))) {
          String detail =
              v.getValidationDeadlineUnixMillis() == 0
                  ? "activates at its activation time"
                  : KeyVersions.isEligible(v)
                      ? "validated by " + v.getAcknowledgedByList()
                      : "waiting for acknowledgements from "
                          + KeyVersions.missingAcknowledgements(v)
                          + " until "
                          + java.time.Instant.ofEpochMilli(v.getValidationDeadlineUnixMillis());
          out.addRotations(
              status(
                  key,
                  RotationStatus.Kind.KIND_PENDING,
                  v.getVersion(),
                  v.getActivationTimeUnixMillis(),
                  detail));
        } else if (v.getStatus() == VersionStatus.VERSION_STATUS_CANCELLED
            && now - v.getCreateTimeUnixMillis() <= FAILED_WINDOW.toMillis()) {
          out.addRotations(
              status(
                  key,
                  RotationStatus.Kind.KIND_FAILED,
                  v.getVersion(),
                  v.getCreateTimeUnixMillis(),
                  v.getStatusReason()));
        }
      }
      long next = key.getNextRotationTimeUnixMillis();
      if (next == 0) {
        continue;
      }
      String why =
          key.getRotationRequestedBy().isEmpty()
              ? "rotation policy"
              : "requested by " + key.getRotationRequestedBy();
      if (next <= now - LATE_AFTER.toMillis()) {
        out.addRotations(status(key, RotationStatus.Kind.KIND_LATE, 0, next, why));
      } else if (next <= now) {
        out.addRotations(status(key, RotationStatus.Kind.KIND_DUE, 0, next, why));
      } else if (next - now <= dueWithinMillis) {
        out.addRotations(status(key, RotationStatus.Kind.KIND_SCHEDULED, 0, next, why));
      }
    }
    return out.build();
  }

  private static RotationStatus status(
      KeyRecord key, RotationStatus.Kind kind, int version, long time, String detail) {
    return RotationStatus.newBuilder()
        .setKeyName(key.getName())
        .setZone(key.getZone())
        .setKind(kind)
        .setVersion(version)
        .setTime(KeyViews.timestamp(time))
        .setDetail(detail)
        .build();
  }

  /** The event cursor as clients see it: "logIndex.sequence". */
  static String cursor(KeyEventRecord event) {
    return event.getLogIndex() + "." + event.getSequence();
  }

  /** Parses a client's cursor; -1 (from the beginning) for "0" or "-1". */
  static long parseCursor(String cursor) {
    int dot = cursor.indexOf('.');
    try {
      if (dot < 0) {
        long index = Long.parseLong(cursor);
        return index <= 0 ? -1 : StateView.cursorOf(index, 0xffff);
      }
      return StateView.cursorOf(
          Long.parseLong(cursor.substring(0, dot)), Integer.parseInt(cursor.substring(dot + 1)));
    } catch (NumberFormatException e) {
      throw ApiErrors.invalid(
          "cursor",
          ErrorReason.INVALID_CURSOR,
          "cursor \"" + cursor + "\" is not one this server returned");
    }
  }

  /**
   * ListKeyEvents: the events of the key named {@code name}, oldest first, at most {@code limit}.
   */
  static ListKeyEventsResponse keyEvents(StateView store, String name, int limit) {
    KeyViews.existing(store, name);
    ListKeyEventsResponse.Builder out = ListKeyEventsResponse.newBuilder();
    for (KeyEventRecord event : store.keyEvents(name, limit)) {
      out.addEvents(event(event));
    }
    return out.build();
  }

  static KeyEvent event(KeyEventRecord record) {
    return KeyEvent.newBuilder()
        .setCursor(cursor(record))
        .setType(
            Objects.requireNonNullElse(
                KeyEventType.forNumber(record.getType()), KeyEventType.KEY_EVENT_TYPE_UNSPECIFIED))
        .setKeyName(record.getKeyName())
        .setVersion(record.getVersion())
        .setTime(KeyViews.timestamp(record.getTimeUnixMillis()))
        .setActor(
            (record.getOriginNode().isEmpty() ? "" : "node " + record.getOriginNode())
                + (record.getRequestId().isEmpty() ? "" : ", request " + record.getRequestId())
                + (record.getDetail().isEmpty() ? "" : ": " + record.getDetail()))
        .setReason(
            Objects.requireNonNullElse(
                RotationReason.forNumber(record.getReason()),
                RotationReason.ROTATION_REASON_UNSPECIFIED))
        .setLogIndex(record.getLogIndex())
        .build();
  }
}
