package io.keyrotor.server.rotation;

import com.google.common.util.concurrent.ThreadFactoryBuilder;
import io.keyrotor.consensus.KeyrotorStateMachine;
import io.keyrotor.consensus.RaftNode;
import io.keyrotor.hsm.Hsm;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.server.config.NodeConfig;
import java.time.Clock;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * The rotation engine of one node: its validator and its scheduler (which also rotates keys ahead
 * of their versions' encryption limits). Made before the Raft member (which takes {@link
 * #applyListener()}) and started after it.
 */
public final class RotationEngine implements AutoCloseable {
  private final com.codahale.metrics.MetricRegistry metrics;
  private volatile RaftNode raft;

  /**
   * @param metrics where rotation counts and latencies go: {@code rotation.rotations}, {@code
   *     rotation.cancelled}, {@code rotation.gate-failures}, {@code rotation.rollbacks}, {@code
   *     rotation.acknowledgements}, {@code rotation.acknowledgement-latency} (from a version's
   *     creation to each acknowledgement), {@code rotation.due-to-activated} (from due to the
   *     planned activation, for scheduled rotations)
   */
  public RotationEngine(com.codahale.metrics.MetricRegistry metrics) {
    this.metrics = metrics;
  }

  private volatile VersionValidator validator;
  private ScheduledExecutorService executor;

  /** Wakes the validator when a rotation applied, so acknowledgements do not wait for a scan. */
  public KeyrotorStateMachine.ApplyListener applyListener() {
    return (Command command,
        io.keyrotor.proto.internal.v1.CommandResult result,
        long index,
        long nanos) -> {
      VersionValidator current = validator;
      if (current != null && (command.hasRotateKey() || command.hasRotateKeys())) {
        current.scanSoon();
      }
      count(command, result);
    };
  }

  private void count(Command command, io.keyrotor.proto.internal.v1.CommandResult result) {
    var outcome = result.getOutcome();
    if (outcome.getCode() != com.google.rpc.Code.OK_VALUE || result.getDeduplicated()) {
      return;
    }
    boolean unchanged = outcome.getMessage().startsWith("unchanged");
    switch (command.getBodyCase()) {
      case ROTATE_KEY -> metrics.counter("rotation.rotations").inc();
      case ROTATE_KEYS -> metrics.counter("rotation.rotations").inc(outcome.getVersion());
      case CANCEL_ROTATION -> {
        if (!unchanged) {
          metrics.counter("rotation.cancelled").inc();
          if (command.getCancelRotation().getOnlyIfUnvalidated()) {
            metrics.counter("rotation.gate-failures").inc();
          }
        }
      }
      case ROLLBACK_ROTATION -> metrics.counter("rotation.rollbacks").inc();
      case ACKNOWLEDGE_VERSION -> {
        if (!unchanged) {
          metrics.counter("rotation.acknowledgements").inc();
          RaftNode node = raft;
          if (node != null) {
            node.state()
                .key(command.getAcknowledgeVersion().getName())
                .flatMap(
                    k ->
                        io.keyrotor.storage.KeyVersions.find(
                            k, command.getAcknowledgeVersion().getVersion()))
                .ifPresent(
                    v ->
                        metrics
                            .timer("rotation.acknowledgement-latency")
                            .update(
                                Math.max(
                                    0,
                                    command.getProposedTimeUnixMillis()
                                        - v.getCreateTimeUnixMillis()),
                                java.util.concurrent.TimeUnit.MILLISECONDS));
          }
        }
      }
      default -> {}
    }
  }

  /** Starts the validator and the scheduler. */
  public void start(RaftNode raft, Hsm hsm, NodeConfig config, Clock clock) {
    this.raft = raft;
    executor =
        Executors.newScheduledThreadPool(
            2,
            new ThreadFactoryBuilder().setNameFormat("keyrotor-rotation").setDaemon(true).build());
    validator = new VersionValidator(raft, hsm, config, clock, executor);
    // Both schedule themselves on the executor, which keeps them running until stop().
    new RotationScheduler(raft, new KekIssuer(hsm), config, clock, executor, metrics);
  }

  @Override
  public void close() {
    if (executor != null) {
      executor.shutdownNow();
    }
  }
}
