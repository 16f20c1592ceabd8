package io.keyrotor.storage.apply.access;

import io.keyrotor.proto.internal.v1.Denial;
import io.keyrotor.proto.internal.v1.RecordDenials;
import io.keyrotor.storage.apply.CommandContext;
import io.keyrotor.storage.apply.CommandHandler;
import io.keyrotor.storage.apply.Effects;

/**
 * RecordDenials: calls a node refused before anything was proposed (reads, the data plane, writes
 * denied up front), written into the audit chain. Changes no state; the audit detail lists each
 * denial (principal, permission, key, method, count) and how many the node had to drop.
 */
public final class RecordDenialsHandler implements CommandHandler<RecordDenials> {
  /** Most denials one command may carry; the recorder's batches are smaller. */
  public static final int MAX_DENIALS = 256;

  @Override
  public Effects apply(RecordDenials command, CommandContext context) {
    StringBuilder detail = new StringBuilder("PERMISSION_DENIED");
    int shown = Math.min(command.getDenialsCount(), MAX_DENIALS);
    for (int i = 0; i < shown; i++) {
      Denial d = command.getDenials(i);
      detail
          .append(i == 0 ? " " : "; ")
          .append("principal=")
          .append(d.getPrincipal())
          .append(" permission=")
          .append(d.getPermission())
          .append(" key=")
          .append(d.getKeyName())
          .append(" method=")
          .append(d.getMethod())
          .append(" count=")
          .append(d.getCount());
    }
    long dropped = command.getDropped() + (command.getDenialsCount() - shown);
    if (dropped > 0) {
      detail.append("; dropped=").append(dropped);
    }
    return context.ok("", 0, 0, "recorded " + shown + " denials").detail(detail.toString()).build();
  }
}
