package io.keyrotor.server.dataplane;

import io.keyrotor.consensus.RaftNode;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.ReportUsage;
import io.keyrotor.proto.internal.v1.UsageCount;
import io.keyrotor.storage.version.ApplyFeature;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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
 * here meanwhile. A node that stops gracefully reports what it still holds ({@link #flush}),
 * waiting at most a bound, so a node without a leader or no longer a member still stops in time; a
 * node that crashes loses what it counted since its last applied report: at most one interval of
 * its traffic, plus any time without a leader.
 */
public final class DataKeyUsageReporter {
  /** The most versions one ReportUsage command carries. */
  public static final int MAX_COUNTS_PER_REPORT = 1_000;

  /** How long a graceful stop waits at most for the last reports to apply. */
  public static final Duration FINAL_REPORT_TIMEOUT = Duration.ofSeconds(5);

  /** The pause between attempts of a final report whose proposal failed at once. */
  private static final long RETRY_PAUSE_MILLIS = 100;

  private static final Logger LOG = LoggerFactory.getLogger(DataKeyUsageReporter.class);

  private final String nodeId;
  private final DataKeyUsage usage;
  private final Function<Command, CompletableFuture<?>> proposer;
  private final IntSupplier activeClusterVersion;
  private final String processId = UUID.randomUUID().toString();
  private final Deque<Command> pending = new ArrayDeque<>();
  private long sequence;
  private CompletableFuture<?> inFlightOrNull;

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

  /**
   * The reporter of a Raft member, ticking every {@code interval} on {@code scheduler} until it
   * shuts down.
   */
  public static DataKeyUsageReporter start(
      RaftNode raft,
      String nodeId,
      DataKeyUsage usage,
      ScheduledExecutorService scheduler,
      Duration interval) {
    DataKeyUsageReporter reporter = of(raft, nodeId, usage);
    long millis = interval.toMillis();
    // Runs until the scheduler shuts down with the node; a failed report is retried by the tick.
    var unused =
        scheduler.scheduleWithFixedDelay(reporter::tick, millis, millis, TimeUnit.MILLISECONDS);
    return reporter;
  }

  /** Proposes the next report, if no proposal is in flight (the scheduler's tick). */
  public synchronized void tick() {
    if (inFlightOrNull == null) {
      var unused = proposeNext();
    }
  }

  /**
   * Reports everything counted so far (a graceful stop, after the API stopped taking calls): waits
   * for a report in flight, drains the counts, and proposes every report, retrying failed ones,
   * until all applied or {@code timeout} passed. Counts that could not be reported by then are lost
   * with the node, as in a crash; a report whose outcome is unknown was applied at most once.
   *
   * @return whether every count reached the log
   */
  public boolean flush(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      CompletableFuture<?> waiting;
      synchronized (this) {
        waiting = inFlightOrNull != null ? inFlightOrNull : proposeNext();
        if (waiting == null) {
          return pending.isEmpty();
        }
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      try {
        waiting.get(left, TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        return false;
      } catch (ExecutionException e) {
        // No leader, not a member, a timeout: the report stays pending and is tried again.
        TimeUnit.MILLISECONDS.sleep(
            Math.min(RETRY_PAUSE_MILLIS, TimeUnit.NANOSECONDS.toMillis(left)));
      }
    }
  }

  /**
   * {@link #flush} within {@link #FINAL_REPORT_TIMEOUT}, saying in the log if counts are left (a
   * graceful stop).
   */
  public void flushOnStop() {
    try {
      if (!flush(FINAL_REPORT_TIMEOUT)) {
        LOG.warn(
            "Stopping without reporting every data key counted: no report applied within {}",
            FINAL_REPORT_TIMEOUT);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Proposes the oldest pending report, draining the counts into new reports first when none is
   * pending; null when there is nothing to report or the cluster does not count data keys yet. The
   * future completes once the outcome is recorded.
   */
  private CompletableFuture<?> proposeNext() {
    if (!ApplyFeature.DATA_KEY_USAGE_COUNTS.activeAt(activeClusterVersion.getAsInt())) {
      return null;
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
      return null;
    }
    CompletableFuture<?> settled;
    try {
      settled = proposer.apply(next).whenComplete((result, failure) -> done(next, failure));
    } catch (RuntimeException e) {
      done(next, e);
      return CompletableFuture.failedFuture(e);
    }
    // Holding the lock, so done() has either run already (settled is done) or waits for it.
    if (!settled.isDone()) {
      inFlightOrNull = settled;
    }
    return settled;
  }

  /** Reports waiting to be proposed or retried (status and tests). */
  public synchronized int pendingReports() {
    return pending.size();
  }

  private synchronized void done(Command report, Throwable failure) {
    inFlightOrNull = null;
    if (failure == null) {
      pending.remove(report);
    } else {
      LOG.debug("Could not report data key usage ({}): {}", report.getRequestId(), failure);
    }
  }
}
