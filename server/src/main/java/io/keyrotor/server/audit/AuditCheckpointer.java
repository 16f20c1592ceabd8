package io.keyrotor.server.audit;

import io.keyrotor.api.v1.AuditCheckpoint;
import io.keyrotor.consensus.RaftNode;
import io.keyrotor.proto.internal.v1.AuditRecord;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Signs the chain's head at {@code audit.checkpoint-interval} on the leader, when records other
 * than checkpoints were added since the last checkpoint (an idle cluster adds none), so a node's
 * start-up check and an export's unsigned tail stay bounded by the interval.
 */
public final class AuditCheckpointer {
  private static final Logger LOG = LoggerFactory.getLogger(AuditCheckpointer.class);

  private final AuditSigner signer;
  private final RaftNode raft;

  public AuditCheckpointer(AuditSigner signer, RaftNode raft) {
    this.signer = signer;
    this.raft = raft;
  }

  /** Checks every {@code interval} on {@code scheduler} (nothing when the interval is zero). */
  public void start(ScheduledExecutorService scheduler, Duration interval) {
    if (interval.isZero()) {
      return;
    }
    // Runs until the scheduler shuts down with the node; failures are logged by the task.
    var unusedTask =
        scheduler.scheduleWithFixedDelay(
            this::checkpointIfDue, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** One round: on the ready leader, signs and proposes when the last record is no checkpoint. */
  void checkpointIfDue() {
    try {
      if (!raft.isReadyLeader()) {
        return;
      }
      Optional<AuditRecord> last = raft.state().lastAudit();
      if (last.isEmpty() || last.get().hasCheckpoint()) {
        return;
      }
      AuditCheckpoint checkpoint = signer.sign(raft.state());
      var unusedResult =
          raft.propose(
                  signer.checkpointCommand(checkpoint, "audit-checkpoint:" + UUID.randomUUID()))
              .orTimeout(10, TimeUnit.SECONDS)
              .whenComplete(
                  (result, failure) -> {
                    if (failure != null) {
                      LOG.debug("audit checkpoint not recorded: {}", failure.toString());
                    }
                  });
    } catch (RuntimeException e) {
      LOG.warn("audit checkpoint not signed: {}", e.getMessage());
    }
  }
}
