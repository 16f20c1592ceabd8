package io.keyrotor.server.api;

import com.google.rpc.Code;
import io.keyrotor.api.v1.BulkRotation;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.BulkRotationRecord;
import io.keyrotor.proto.internal.v1.Label;
import io.keyrotor.storage.StateView;
import java.util.Objects;
import java.util.Optional;

/**
 * Bulk rotation jobs as the API shows them: the replicated job record, with the number of its keys
 * still waiting for their rotation (keys whose pending rotation names the job).
 */
final class BulkRotationViews {
  private BulkRotationViews() {}

  /** The job {@code id} as {@code state} holds it, or NOT_FOUND JOB_NOT_FOUND. */
  static BulkRotation get(StateView state, String id) {
    return find(state, id)
        .orElseThrow(
            () ->
                ApiErrors.error(
                    Code.NOT_FOUND, ErrorReason.JOB_NOT_FOUND, "no bulk rotation \"" + id + "\""));
  }

  /** The job {@code id} as {@code state} holds it, if it exists. */
  static Optional<BulkRotation> find(StateView state, String id) {
    BulkRotationRecord job = state.bulkRotations().get(id);
    if (job == null) {
      return Optional.empty();
    }
    String marker = "bulk:" + id;
    long remaining =
        java.util.stream.StreamSupport.stream(state.allKeys().spliterator(), false)
            .filter(k -> marker.equals(k.getRotationRequestedBy()))
            .count();
    BulkRotation.Builder out =
        BulkRotation.newBuilder()
            .setId(id)
            .setZone(job.getZone())
            .setReason(
                Objects.requireNonNullElse(
                    RotationReason.forNumber(job.getReason()),
                    RotationReason.ROTATION_REASON_UNSPECIFIED))
            .setStartTime(KeyViews.timestamp(job.getStartTimeUnixMillis()))
            .setTotal(job.getTotal())
            .setRemaining(remaining);
    for (Label label : job.getLabelSelectorList()) {
      out.putLabelSelector(label.getKey(), label.getValue());
    }
    return Optional.of(out.build());
  }
}
