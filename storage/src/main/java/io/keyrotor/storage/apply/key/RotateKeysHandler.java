package io.keyrotor.storage.apply.key;

import com.google.rpc.Code;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.proto.internal.v1.KeyEventRecord;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.RotateKey;
import io.keyrotor.proto.internal.v1.RotateKeys;
import io.keyrotor.storage.apply.CommandContext;
import io.keyrotor.storage.apply.CommandHandler;
import io.keyrotor.storage.apply.Effects;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * RotateKeys: a batch of rotations (the scheduler's). Each applies on its own, with its own
 * compare-and-set, against the state as the batch left it, so one key twice in a batch rotates
 * once; a refused rotation is skipped and the others still apply.
 */
public final class RotateKeysHandler implements CommandHandler<RotateKeys> {
  /** Most rotations in one RotateKeys batch. */
  public static final int MAX_ROTATIONS_PER_BATCH = 1_000;

  private final CommandHandler<RotateKey> rotateKey;

  /** Batches applying each rotation with {@code rotateKey}, which finds the key it names. */
  public RotateKeysHandler(CommandHandler<RotateKey> rotateKey) {
    this.rotateKey = rotateKey;
  }

  @Override
  public Effects apply(RotateKeys batch, CommandContext context) {
    if (batch.getRotationsCount() > MAX_ROTATIONS_PER_BATCH) {
      return context.reject(
          ErrorReason.BATCH_TOO_LARGE,
          Code.INVALID_ARGUMENT,
          "a batch holds at most " + MAX_ROTATIONS_PER_BATCH + " rotations",
          "");
    }
    Map<String, KeyRecord> overlay = new LinkedHashMap<>();
    CommandContext inBatch =
        context.over(context.state().withKeys(name -> Optional.ofNullable(overlay.get(name))));
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
}
