package io.keyrotor.storage.apply.key;

import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.ReportUsage;
import io.keyrotor.proto.internal.v1.UsageCount;
import io.keyrotor.storage.apply.CommandContext;
import io.keyrotor.storage.apply.CommandHandler;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.version.ApplyFeature;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * ReportUsage: a node's data-plane usage per key version, added to the versions' counts. Counts of
 * keys or versions that no longer exist are dropped. Encryptions: nodes now reserve them ahead of
 * use instead ({@link ReserveEncryptionsHandler}); reports in logs written by older nodes still
 * apply as they did, and count against the version's limit. Data keys issued and rewrapped away:
 * added from {@link ApplyFeature#DATA_KEY_USAGE_COUNTS} on, ignored before (as an older binary
 * ignores them), so every replica counts the same.
 */
public final class ReportUsageHandler implements CommandHandler<ReportUsage> {
  @Override
  public Effects apply(ReportUsage report, CommandContext context) {
    boolean dataKeys = context.feature(ApplyFeature.DATA_KEY_USAGE_COUNTS);
    Map<String, KeyRecord.Builder> touched = new LinkedHashMap<>();
    long counted = 0;
    long issued = 0;
    long rewrapped = 0;
    for (UsageCount count : report.getCountsList()) {
      KeyRecord.Builder key = touched.get(count.getName());
      if (key == null) {
        Optional<KeyRecord> found = context.state().key(count.getName());
        if (found.isEmpty()) {
          continue; // deleted meanwhile: nothing to count
        }
        key = found.get().toBuilder();
        touched.put(count.getName(), key);
      }
      int position = count.getVersion() - 1;
      if (position < 0 || position >= key.getVersionsCount()) {
        continue;
      }
      KeyVersionRecord v = key.getVersions(position);
      KeyVersionRecord.Builder updated =
          v.toBuilder().setEncryptions(v.getEncryptions() + count.getEncryptions());
      if (dataKeys) {
        updated
            .setDataKeysIssued(v.getDataKeysIssued() + count.getDataKeysIssued())
            .setDataKeysRewrappedAway(
                v.getDataKeysRewrappedAway() + count.getDataKeysRewrappedAway());
        issued += count.getDataKeysIssued();
        rewrapped += count.getDataKeysRewrappedAway();
      }
      key.setVersions(position, updated);
      counted += count.getEncryptions();
    }
    List<KeyRecord> writes = new ArrayList<>();
    touched.values().forEach(b -> writes.add(b.build()));
    String detail =
        "node=" + report.getNode() + " keys=" + writes.size() + " encryptions=" + counted;
    return context
        .ok("", 0, 0, "counted " + counted)
        .writeKeys(writes)
        .detail(
            dataKeys
                ? detail + " data_keys_issued=" + issued + " rewrapped_away=" + rewrapped
                : detail)
        .build();
  }
}
