package io.keyrotor.storage;

import com.google.rpc.Code;
import io.keyrotor.api.v1.KeyEventType;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CommandResultRecord;
import io.keyrotor.proto.internal.v1.KeyEventRecord;
import java.util.Optional;

/** Building blocks of transition results: outcomes, rejections and events. */
final class Outcomes {
  private Outcomes() {}

  static CommandResultRecord ok(
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

  static Effects notFound(String action, String name, long index) {
    return reject(
        action, Code.NOT_FOUND, "KEY_NOT_FOUND", "key \"" + name + "\" not found", name, index);
  }

  static Effects versionNotFound(String action, String name, long version, int count, long index) {
    return reject(
        action,
        Code.NOT_FOUND,
        "VERSION_NOT_FOUND",
        "key \"" + name + "\" has no version " + version + " (versions 1-" + count + ")",
        name,
        index);
  }

  static Effects reject(
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

  static KeyEventRecord event(
      KeyEventType type,
      String key,
      int version,
      Command command,
      long time,
      int reason,
      String detail) {
    return KeyEventRecord.newBuilder()
        .setType(type.getNumber())
        .setKeyName(key)
        .setVersion(version)
        .setTimeUnixMillis(time)
        .setRequestId(command.getRequestId())
        .setOriginNode(command.getOriginNode())
        .setReason(reason)
        .setDetail(detail)
        .build();
  }

  static KeyEventRecord event(
      KeyEventType type, String key, int version, Command command, long time, String detail) {
    return event(
        type,
        key,
        version,
        command,
        time,
        RotationReason.ROTATION_REASON_UNSPECIFIED_VALUE,
        detail);
  }

  static String reasonName(int reason) {
    RotationReason r = RotationReason.forNumber(reason);
    return r == null ? String.valueOf(reason) : r.name();
  }
}
