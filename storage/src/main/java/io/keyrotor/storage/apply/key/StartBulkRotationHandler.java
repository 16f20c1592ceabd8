package io.keyrotor.storage.apply.key;

import com.google.rpc.Code;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.BulkRotationRecord;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.Label;
import io.keyrotor.proto.internal.v1.StartBulkRotation;
import io.keyrotor.storage.apply.CommandContext;
import io.keyrotor.storage.apply.CommandHandler;
import io.keyrotor.storage.apply.Effects;
import java.util.ArrayList;
import java.util.List;

/**
 * StartBulkRotation: records the job and marks every key of the zone, or carrying all the labels,
 * due now; the scheduler then rotates them.
 */
public final class StartBulkRotationHandler implements CommandHandler<StartBulkRotation> {
  @Override
  public Effects apply(StartBulkRotation start, CommandContext context) {
    String id = start.getJobId();
    if (id.isEmpty()) {
      return context.reject(
          ErrorReason.INVALID_ARGUMENT, Code.INVALID_ARGUMENT, "a job id is required", "");
    }
    if (context.state().bulkRotation(id).isPresent()) {
      return context.reject(
          ErrorReason.JOB_EXISTS, Code.ALREADY_EXISTS, "bulk rotation " + id + " exists", "");
    }
    int reason =
        start.getReason() == RotationReason.ROTATION_REASON_UNSPECIFIED_VALUE
            ? RotationReason.ROTATION_REASON_MANUAL_VALUE
            : start.getReason();
    List<KeyRecord> marked = new ArrayList<>();
    for (KeyRecord key : context.state().keys()) {
      if (!start.getZone().isEmpty() && !start.getZone().equals(key.getZone())) {
        continue;
      }
      if (!key.getLabelsList().containsAll(start.getLabelSelectorList())) {
        continue;
      }
      marked.add(
          key.toBuilder()
              .setRotationRequestedBy("bulk:" + id)
              .setRotationRequestedReason(reason)
              .setNextRotationTimeUnixMillis(context.time())
              .setRevision(context.index())
              .build());
    }
    BulkRotationRecord job =
        BulkRotationRecord.newBuilder()
            .setId(id)
            .setZone(start.getZone())
            .addAllLabelSelector(start.getLabelSelectorList())
            .setReason(reason)
            .setStartTimeUnixMillis(context.time())
            .setTotal(marked.size())
            .setStartedByRequestId(context.command().getRequestId())
            .build();
    return context
        .ok("", marked.size(), 0, "bulk rotation of " + marked.size() + " keys")
        .writeKeys(marked)
        .writeBulkRotation(job)
        .detail(
            "job="
                + id
                + " zone="
                + start.getZone()
                + " selector="
                + labels(start.getLabelSelectorList())
                + " keys="
                + marked.size())
        .build();
  }

  private static String labels(List<Label> labels) {
    StringBuilder out = new StringBuilder("{");
    for (Label l : labels) {
      if (out.length() > 1) {
        out.append(',');
      }
      out.append(l.getKey()).append('=').append(l.getValue());
    }
    return out.append('}').toString();
  }
}
