package io.keyrotor.storage.apply.version;

import com.google.rpc.Code;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.KeyEventType;
import io.keyrotor.proto.internal.v1.KeyEventRecord;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.SetVersionFloors;
import io.keyrotor.storage.KeyVersions;
import io.keyrotor.storage.apply.CommandContext;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.KeyHandler;
import io.keyrotor.storage.lifecycle.VersionLifecycle;
import io.keyrotor.storage.lifecycle.VersionLifecycle.Move;
import java.util.ArrayList;
import java.util.List;

/**
 * SetVersionFloors: a key's minimum decryption and encryption versions. Raising the decryption
 * floor disables the enabled versions below it; a floor above the primary is refused.
 */
public final class SetVersionFloorsHandler implements KeyHandler<SetVersionFloors> {
  @Override
  public Effects apply(SetVersionFloors floors, KeyRecord key, CommandContext context) {
    String name = floors.getName();
    int latest = key.getVersionsCount();
    int minDecrypt = floors.getMinDecryptionVersion();
    int minEncrypt = floors.getMinEncryptionVersion();
    if (minDecrypt > latest || minEncrypt > latest) {
      return context.reject(
          ErrorReason.INVALID_VERSION,
          Code.INVALID_ARGUMENT,
          "key \"" + name + "\" has versions 1-" + latest + "; a floor cannot be above that",
          name);
    }
    int primary = KeyVersions.primaryVersionAt(key, context.time());
    if (primary != 0 && (primary < minDecrypt || primary < minEncrypt)) {
      return context.refuse(
          ErrorReason.VERSION_IS_PRIMARY,
          "the primary of key \""
              + name
              + "\" is version "
              + primary
              + "; rotate before raising a floor above it",
          name);
    }
    KeyRecord.Builder updated =
        key.toBuilder()
            .setMinDecryptionVersion(minDecrypt)
            .setMinEncryptionVersion(minEncrypt)
            .setRevision(context.index());
    String detail =
        "min_decryption_version=" + minDecrypt + " min_encryption_version=" + minEncrypt;
    List<KeyEventRecord> events = new ArrayList<>();
    events.add(context.event(KeyEventType.KEY_EVENT_TYPE_POLICY_CHANGED, name, 0, detail));
    String below = "below min_decryption_version " + minDecrypt;
    for (int i = 0; i < updated.getVersionsCount(); i++) {
      KeyVersionRecord v = updated.getVersions(i);
      if (v.getVersion() >= minDecrypt) {
        continue;
      }
      int position = i;
      VersionLifecycle.move(Move.DISABLE_BELOW_FLOOR, v, below)
          .ifPresent(
              moved -> {
                updated.setVersions(position, moved.version());
                events.add(context.event(moved.event(), name, v.getVersion(), below));
              });
    }
    return context
        .ok(name, 0, 0, "floors set")
        .writeKey(updated.build())
        .detail(detail)
        .events(events)
        .build();
  }
}
