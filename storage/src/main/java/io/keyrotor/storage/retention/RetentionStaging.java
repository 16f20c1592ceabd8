package io.keyrotor.storage.retention;

import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.audit.AuditChain;
import io.keyrotor.storage.audit.HistoryTrim;
import io.keyrotor.storage.schema.StateBatch;
import io.keyrotor.storage.schema.StateDatabase;
import io.keyrotor.storage.view.RecordViews;
import java.util.Optional;
import org.rocksdb.RocksDBException;

/**
 * The retention side of applying one command: the cut an accepted TrimHistory makes, planned
 * against the state written up to its entry, staged in the entry's write batch with the rest of its
 * changes, and taken out of the in-memory views only once that batch is written. Apply thread only;
 * reads no clock, so every replica cuts the same.
 */
public final class RetentionStaging {
  private final StateDatabase database;
  private final RecordViews views;

  public RetentionStaging(StateDatabase database, RecordViews views) {
    this.database = database;
    this.views = views;
  }

  /**
   * The cut {@code command} makes: present only for a TrimHistory that was accepted ({@code
   * effects} succeeded) and is not a deduplicated retry.
   */
  public Optional<HistoryTrim.Cut> plan(
      Command command, boolean deduplicated, Effects effects, AuditChain auditChain) {
    if (deduplicated || !command.hasTrimHistory() || effects.result().getCode() != 0) {
      return Optional.empty();
    }
    return Optional.of(
        HistoryTrim.plan(database, auditChain, command.getTrimHistory(), views.bulkRotations()));
  }

  /** Puts every removal of {@code cut} (audit, events, bulk rotation jobs) into {@code batch}. */
  public void stage(StateBatch batch, Optional<HistoryTrim.Cut> cut) throws RocksDBException {
    if (cut.isPresent()) {
      HistoryTrim.stage(batch, cut.get());
      views.stageRemovals(batch, cut.get().bulkRotations());
    }
  }

  /** Forgets the bulk rotation jobs {@code cut} removed, once its batch is written. */
  public void publish(Optional<HistoryTrim.Cut> cut) {
    cut.ifPresent(c -> views.removeBulkRotations(c.bulkRotations()));
  }
}
