package io.keyrotor.server.api;

import com.google.rpc.Code;
import io.keyrotor.api.v1.DestructionReceipt;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.proto.internal.v1.DestructionReceiptRecord;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.storage.StateView;
import java.util.Map;

/**
 * GetDestructionReceipt's answer: the replicated receipt of a destroyed version (when, who
 * scheduled it, and its audit chain position), or a clear refusal when there is none.
 */
final class DestructionReceiptViews {
  private DestructionReceiptViews() {}

  /**
   * The receipt of {@code version} of key {@code name} in {@code state}: NOT_FOUND when the key or
   * version does not exist, FAILED_PRECONDITION VERSION_NOT_DESTROYED when it is not destroyed.
   */
  static DestructionReceipt receipt(StateView state, String name, int version) {
    KeyRecord key = KeyViews.existing(state, name);
    Map<String, String> metadata = Map.of("key", name, "version", Integer.toString(version));
    if (version < 1 || version > key.getVersionsCount()) {
      throw ApiErrors.error(
          Code.NOT_FOUND,
          ErrorReason.VERSION_NOT_FOUND,
          "key \"" + name + "\" has no version " + version,
          metadata);
    }
    DestructionReceiptRecord record =
        state
            .destructionReceipt(name, version)
            .orElseThrow(
                () ->
                    ApiErrors.error(
                        Code.FAILED_PRECONDITION,
                        ErrorReason.VERSION_NOT_DESTROYED,
                        "version "
                            + version
                            + " of key \""
                            + name
                            + "\" is not destroyed"
                            + (key.getVersions(version - 1).getStatus()
                                    == VersionStatus.VERSION_STATUS_DESTROY_SCHEDULED
                                ? " yet (its destruction is scheduled)"
                                : ""),
                        metadata));
    return toApi(record);
  }

  static DestructionReceipt toApi(DestructionReceiptRecord record) {
    return io.keyrotor.storage.receipt.DestructionReceipts.toApi(record);
  }
}
