package io.keyrotor.storage.apply.key;

import io.keyrotor.proto.internal.v1.KeyEventRecord;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.storage.KeyVersions;
import io.keyrotor.storage.apply.CommandContext;
import io.keyrotor.storage.lifecycle.VersionLifecycle;
import io.keyrotor.storage.lifecycle.VersionLifecycle.Move;
import java.util.ArrayList;
import java.util.List;

/**
 * A compromised key stops being used in the same command that replaces it: the previous primary and
 * any pending version are disabled, as far as the lifecycle allows (enabled versions).
 */
final class CompromisedVersions {
  private CompromisedVersions() {}

  /** Disables them in {@code key}; returns their DISABLED events, carrying {@code reason}. */
  static List<KeyEventRecord> disable(
      KeyRecord.Builder key, int previousPrimary, int reason, CommandContext context) {
    List<KeyEventRecord> events = new ArrayList<>();
    for (int i = 0; i < key.getVersionsCount(); i++) {
      KeyVersionRecord v = key.getVersions(i);
      boolean waiting =
          v.getActivationTimeUnixMillis() > context.time() || !KeyVersions.isEligible(v);
      if (v.getVersion() != previousPrimary && !waiting) {
        continue;
      }
      int position = i;
      VersionLifecycle.move(Move.DISABLE_BY_COMPROMISE, v, "disabled by a compromise rotation")
          .ifPresent(
              moved -> {
                key.setVersions(position, moved.version());
                events.add(
                    context.event(
                        moved.event(),
                        key.getName(),
                        v.getVersion(),
                        reason,
                        "compromise rotation"));
              });
    }
    return events;
  }
}
