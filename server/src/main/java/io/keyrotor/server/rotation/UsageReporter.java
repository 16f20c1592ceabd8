package io.keyrotor.server.rotation;

import io.keyrotor.consensus.RaftNode;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.ReportUsage;
import io.keyrotor.proto.internal.v1.UsageCount;
import io.keyrotor.server.config.NodeConfig;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Proposes this node's usage counts through the log at a bounded interval. A report is retried with
 * the same request id until it applies, so it is counted once; counts arriving meanwhile wait for
 * the next report. What a node counted but had not reported when it crashed is lost: the count of a
 * version undercounts by at most one interval of that node's encryptions.
 */
public final class UsageReporter implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(UsageReporter.class);

  private final RaftNode raft;
  private final UsageCounter counter;
  private final String nodeId;
  private final ScheduledExecutorService executor;
  private Command pending;

  /** Reports as the node of {@code config}, every {@code rotation.usage-report-interval}. */
  public UsageReporter(
      RaftNode raft, UsageCounter counter, NodeConfig config, ScheduledExecutorService executor) {
    this.raft = raft;
    this.counter = counter;
    this.nodeId = config.nodeId();
    this.executor = executor;
    long interval = config.rotation().usageReportInterval().toMillis();
    // Runs until the engine's executor shuts down; report catches and logs its own failures.
    var unusedReports =
        executor.scheduleWithFixedDelay(this::report, interval, interval, TimeUnit.MILLISECONDS);
  }

  private synchronized void report() {
    if (pending == null) {
      List<UsageCount> counts = counter.drain();
      if (counts.isEmpty()) {
        return;
      }
      pending =
          Command.newBuilder()
              .setRequestId("usage:" + nodeId + ":" + UUID.randomUUID())
              .setOriginNode(nodeId)
              .setReportUsage(ReportUsage.newBuilder().setNode(nodeId).addAllCounts(counts))
              .build();
    }
    try {
      raft.propose(pending).get(10, TimeUnit.SECONDS);
      pending = null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      LOG.debug("usage report not applied yet, will retry: {}", e.toString());
    }
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
