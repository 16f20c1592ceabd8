package io.keyrotor.storage.apply.key;

import com.google.rpc.Code;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.proto.internal.v1.BulkRotationRecord;
import io.keyrotor.proto.internal.v1.KeyEventRecord;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.RotateKey;
import io.keyrotor.proto.internal.v1.RotateKeys;
import io.keyrotor.proto.internal.v1.ZoneMasterKeyRecord;
import io.keyrotor.storage.StateReader;
import io.keyrotor.storage.apply.CommandContext;
import io.keyrotor.storage.apply.Effects;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * RotateKeys: a batch of rotations (the scheduler's). Each applies on its own, with its own
 * compare-and-set, against the state as the batch left it, so one key twice in a batch rotates
 * once; a refused rotation is skipped and the others still apply.
 */
public final class RotateKeysHandler {
  /** Most rotations in one RotateKeys batch. */
  public static final int MAX_ROTATIONS_PER_BATCH = 1_000;

  private final RotateKeyHandler rotateKey;

  public RotateKeysHandler(RotateKeyHandler rotateKey) {
    this.rotateKey = rotateKey;
  }

  public Effects apply(RotateKeys batch, CommandContext context) {
    if (batch.getRotationsCount() > MAX_ROTATIONS_PER_BATCH) {
      return context.reject(
          ErrorReason.BATCH_TOO_LARGE,
          Code.INVALID_ARGUMENT,
          "a batch holds at most " + MAX_ROTATIONS_PER_BATCH + " rotations",
          "");
    }
    Map<String, KeyRecord> overlay = new LinkedHashMap<>();
    CommandContext inBatch = context.over(new Overlay(context.state(), overlay));
    List<KeyEventRecord> events = new ArrayList<>();
    int rotated = 0;
    int skipped = 0;
    for (RotateKey rotate : batch.getRotationsList()) {
      Effects one = rotateKey.apply(rotate, inBatch);
      if (one.result().getCode() == Code.OK_VALUE) {
        rotated++;
        one.allKeyWrites().forEach(k -> overlay.put(k.getName(), k));
        events.addAll(one.events());
      } else {
        skipped++;
      }
    }
    return context
        .ok("", rotated, 0, rotated + " rotated, " + skipped + " skipped")
        .writeKeys(overlay.values())
        .detail("rotated=" + rotated + " skipped=" + skipped)
        .events(events)
        .build();
  }

  /** The state with the keys a batch changed so far in place of the stored ones. */
  private static final class Overlay implements StateReader {
    private final StateReader state;
    private final Map<String, KeyRecord> changed;

    Overlay(StateReader state, Map<String, KeyRecord> changed) {
      this.state = state;
      this.changed = changed;
    }

    @Override
    public Optional<KeyRecord> key(String name) {
      KeyRecord key = changed.get(name);
      return key != null ? Optional.of(key) : state.key(name);
    }

    @Override
    public Collection<KeyRecord> keys() {
      return state.keys();
    }

    @Override
    public Collection<NodeRecord> nodes() {
      return state.nodes();
    }

    @Override
    public Optional<BulkRotationRecord> bulkRotation(String id) {
      return state.bulkRotation(id);
    }

    @Override
    public Optional<ZoneMasterKeyRecord> zoneMasterKey(String zone) {
      return state.zoneMasterKey(zone);
    }
  }
}
