package io.keyrotor.server.audit;

import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.RecordDataAuditHead;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Commits a node's data audit head to the Raft log: at {@code audit.data.head-interval}, when the
 * stream moved since the last committed head, proposes {@code RecordDataAuditHead(node, sequence,
 * head)}, which every replica applies into the replicated audit chain. A node whose records were
 * later edited or cut can then be caught: its exported chain no longer reaches the head the cluster
 * witnessed ({@link DataAuditVerifier#verifyAgainst}). The request id is the node and sequence, so
 * a retried proposal applies once; one that fails (no leader) is tried again at the next tick.
 */
public final class DataAuditHeads {
  private static final Logger LOG = LoggerFactory.getLogger(DataAuditHeads.class);

  private final String nodeId;
  private final DataAuditLog log;
  private final Function<Command, CompletableFuture<?>> proposer;
  private volatile long committed;
  private volatile boolean inFlight;

  public DataAuditHeads(
      String nodeId, DataAuditLog log, Function<Command, CompletableFuture<?>> proposer) {
    this.nodeId = nodeId;
    this.log = log;
    this.proposer = proposer;
  }

  /** The highest sequence whose head this node saw committed. */
  public long committed() {
    return committed;
  }

  /** Proposes the current head if it moved and no proposal is in flight (the scheduler's tick). */
  public void tick() {
    DataAuditLog.Head head = log.head();
    long sequence = head.sequence();
    if (inFlight || sequence <= committed) {
      return;
    }
    Command command =
        Command.newBuilder()
            .setRequestId("data-audit-head-" + nodeId + "-" + sequence)
            .setOriginNode(nodeId)
            .setRecordDataAuditHead(
                RecordDataAuditHead.newBuilder()
                    .setNode(nodeId)
                    .setSequence(sequence)
                    .setHead(head.hash()))
            .build();
    inFlight = true;
    try {
      var unused =
          proposer
              .apply(command)
              .whenComplete(
                  (result, failure) -> {
                    inFlight = false;
                    if (failure == null) {
                      committed = Math.max(committed, sequence);
                    } else {
                      LOG.debug("Could not commit data audit head {}: {}", sequence, failure);
                    }
                  });
    } catch (RuntimeException e) {
      inFlight = false;
      LOG.debug("Could not propose data audit head {}: {}", sequence, e.toString());
    }
  }
}
