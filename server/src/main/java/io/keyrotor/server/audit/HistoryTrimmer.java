package io.keyrotor.server.audit;

import io.keyrotor.consensus.RaftNode;
import io.keyrotor.proto.internal.v1.AuditRecord;
import io.keyrotor.proto.internal.v1.BulkRotationRecord;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.TrimHistory;
import io.keyrotor.server.config.AuditSettings;
import io.keyrotor.storage.StateView;
import io.keyrotor.storage.version.ApplyFeature;
import java.time.Clock;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Retention ({@code audit.retention.*}): every {@code audit.retention.interval}, the ready leader
 * proposes a {@code TrimHistory} when its state holds history past the settings (audit records
 * older than the maximum age or further than the maximum number of indexes behind the newest, or
 * more or older bulk rotation jobs than kept). The cut time is taken here, from the leader's clock,
 * and carried in the command; apply finds the cut from the state and cuts the audit chain only
 * where a checkpoint signs, so a trim never leaves an export that cannot be verified.
 */
public final class HistoryTrimmer {
  private static final Logger LOG = LoggerFactory.getLogger(HistoryTrimmer.class);

  private final RaftNode raft;
  private final AuditSettings settings;
  private final Clock clock;
  private final String nodeId;

  public HistoryTrimmer(RaftNode raft, AuditSettings settings, Clock clock, String nodeId) {
    this.raft = raft;
    this.settings = settings;
    this.clock = clock;
    this.nodeId = nodeId;
  }

  /** Checks every {@code audit.retention.interval} on {@code scheduler} (never when zero). */
  public void start(ScheduledExecutorService scheduler) {
    long millis = settings.retentionInterval().toMillis();
    if (millis == 0) {
      return;
    }
    // Runs until the scheduler shuts down with the node; failures are logged by the task.
    var unusedTask =
        scheduler.scheduleWithFixedDelay(this::trimIfDue, millis, millis, TimeUnit.MILLISECONDS);
  }

  /** One round: on the ready leader, proposes a trim when there is history past the settings. */
  void trimIfDue() {
    try {
      if (!raft.isReadyLeader()) {
        return;
      }
      TrimHistory trim = trimOf(clock.millis());
      // A binary before the retention version does not know TrimHistory: wait for the cluster.
      if (!ApplyFeature.HISTORY_TRIM.activeAt(raft.state().activeClusterVersion())
          || !due(raft.state(), trim)) {
        return;
      }
      Command command =
          Command.newBuilder()
              .setRequestId("trim-history:" + UUID.randomUUID())
              .setOriginNode(nodeId)
              .setTrimHistory(trim)
              .build();
      var unusedResult =
          raft.propose(command)
              .orTimeout(30, TimeUnit.SECONDS)
              .whenComplete(
                  (result, failure) -> {
                    if (failure != null) {
                      LOG.debug("history trim not applied: {}", failure.toString());
                    }
                  });
    } catch (RuntimeException e) {
      LOG.warn("history trim not proposed: {}", e.getMessage());
    }
  }

  /** The trim the settings ask for at {@code nowMillis}. */
  TrimHistory trimOf(long nowMillis) {
    long maxAge = settings.retentionMaxAge().toMillis();
    return TrimHistory.newBuilder()
        .setCutTimeUnixMillis(maxAge > 0 ? Math.max(0, nowMillis - maxAge) : 0)
        .setKeepIndexes(settings.retentionMaxIndexes())
        .setKeepBulkRotations(settings.retentionBulkRotations())
        .build();
  }

  /**
   * Whether the state holds anything {@code trim} may remove: proposes nothing (no log entry) on a
   * cluster whose history is within the settings. Apply may still cut less (no checkpoint yet).
   */
  static boolean due(StateView state, TrimHistory trim) {
    List<AuditRecord> first = state.audit(0, 1);
    var last = state.lastAudit();
    if (!first.isEmpty() && last.isPresent()) {
      AuditRecord oldest = first.get(0);
      boolean old =
          trim.getCutTimeUnixMillis() > 0
              && oldest.getTimeUnixMillis() < trim.getCutTimeUnixMillis();
      boolean many =
          trim.getKeepIndexes() > 0
              && last.get().getLogIndex() - oldest.getLogIndex() > trim.getKeepIndexes();
      if ((old || many) && last.get().getLogIndex() > oldest.getLogIndex()) {
        return true;
      }
    }
    var jobs = state.bulkRotations();
    if (trim.getKeepBulkRotations() > 0 && jobs.size() > trim.getKeepBulkRotations()) {
      return true;
    }
    return trim.getCutTimeUnixMillis() > 0
        && jobs.values().stream()
            .mapToLong(BulkRotationRecord::getStartTimeUnixMillis)
            .anyMatch(start -> start < trim.getCutTimeUnixMillis());
  }
}
