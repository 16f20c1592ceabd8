package io.keyrotor.server.dataplane;

import io.keyrotor.consensus.RaftNode;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.ReportUsage;
import io.keyrotor.proto.internal.v1.UsageCount;
import io.keyrotor.storage.version.ApplyFeature;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reports this node's {@link DataKeyUsage} through the Raft log: at every tick ({@code
 * usage.report-interval}) it drains the counts into ReportUsage commands of at most {@link
 * #MAX_COUNTS_PER_REPORT} versions each and proposes them one at a time, so every replica adds the
 * same counts to the versions' records ({@code data_keys_issued}, {@code data_keys_rewrapped_away})
 * and answers the compliance report the same way.
 *
 * <p>A report that fails (no leader, a timeout) is proposed again at the next tick with the same
 * request id, so one that did apply is deduplicated rather than counted twice; nothing new is
 * drained while one waits. Nothing is reported until the cluster runs {@link
 * ApplyFeature#DATA_KEY_USAGE_COUNTS} (older binaries would ignore the counts); the counts wait
 * here meanwhile. A node that crashes or stops loses what it counted since its last applied report:
 * at most one interval of its traffic, plus any time without a leader.
 */
public final class DataKeyUsageReporter {
  /** The most versions one ReportUsage command carries. */
  public static final int MAX_COUNTS_PER_REPORT = 1_000;

  private static final Logger LOG = LoggerFactory.getLogger(DataKeyUsageReporter.class);

  private final String nodeId;
  private final DataKeyUsage usage;
  private final Function<Command, CompletableFuture<?>> proposer;
  private final IntSupplier activeClusterVersion;
  private final String processId = UUID.randomUUID().toString();
  private final Deque<Command> pending = new ArrayDeque<>();
  private long sequence;
  private boolean inFlight;

  /**
   * @param proposer proposes a command through the log
   * @param activeClusterVersion the cluster's active apply version, from the applied state
   */
  public DataKeyUsageReporter(
      String nodeId,
      DataKeyUsage usage,
      Function<Command, CompletableFuture<?>> proposer,
      IntSupplier activeClusterVersion) {
    this.nodeId = nodeId;
    this.usage = usage;
    this.proposer = proposer;
    this.activeClusterVersion = activeClusterVersion;
  }

  /** The reporter of a Raft member, proposing through {@code raft}. */
  public static DataKeyUsageReporter of(RaftNode raft, String nodeId, DataKeyUsage usage) {
    return new DataKeyUsageReporter(
        nodeId,
        usage,
        command -> raft.propose(command).orTimeout(10, TimeUnit.SECONDS),
        () -> raft.state().activeClusterVersion());
  }

  /** Proposes the next report, if no proposal is in flight (the scheduler's tick). */
  public synchronized void tick() {
    if (inFlight || !ApplyFeature.DATA_KEY_USAGE_COUNTS.activeAt(activeClusterVersion.getAsInt())) {
      return;
    }
    if (pending.isEmpty()) {
      List<UsageCount> counts = usage.drain();
      for (int from = 0; from < counts.size(); from += MAX_COUNTS_PER_REPORT) {
        List<UsageCount> part =
            counts.subList(from, Math.min(counts.size(), from + MAX_COUNTS_PER_REPORT));
        sequence++;
        pending.add(
            Command.newBuilder()
                .setRequestId("data-key-usage-" + nodeId + "-" + processId + "-" + sequence)
                .setOriginNode(nodeId)
                .setReportUsage(ReportUsage.newBuilder().setNode(nodeId).addAllCounts(part))
                .build());
      }
    }
    Command next = pending.peek();
    if (next == null) {
      return;
    }
    inFlight = true;
    try {
      var unused = proposer.apply(next).whenComplete((result, failure) -> done(next, failure));
    } catch (RuntimeException e) {
      done(next, e);
    }
  }

  /** Reports waiting to be proposed or retried (status and tests). */
  public synchronized int pendingReports() {
    return pending.size();
  }

  private synchronized void done(Command report, Throwable failure) {
    inFlight = false;
    if (failure == null) {
      pending.remove(report);
    } else {
      LOG.debug("Could not report data key usage ({}): {}", report.getRequestId(), failure);
    }
  }
}
