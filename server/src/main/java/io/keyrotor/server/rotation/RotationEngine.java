package io.keyrotor.server.rotation;

import io.keyrotor.consensus.KeyrotorStateMachine;
import io.keyrotor.consensus.RaftNode;
import io.keyrotor.hsm.Hsm;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.server.config.NodeConfig;
import java.time.Clock;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * The rotation engine of one node: its usage counter, its validator, its scheduler and its usage
 * reporter. Made before the Raft member (which takes {@link #applyListener()}) and started after
 * it.
 */
public final class RotationEngine implements AutoCloseable {
  private final UsageCounter usage = new UsageCounter();
  private volatile VersionValidator validator;
  private RotationScheduler scheduler;
  private UsageReporter reporter;
  private ScheduledExecutorService executor;

  /** Counts the data plane's encryptions for usage-based rotation. */
  public UsageCounter usage() {
    return usage;
  }

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
    };
  }

  /** Starts the validator, the scheduler and the usage reporter. */
  public void start(RaftNode raft, Hsm hsm, NodeConfig config, Clock clock) {
    executor =
        Executors.newScheduledThreadPool(
            2,
            runnable -> {
              Thread thread = new Thread(runnable, "keyrotor-rotation");
              thread.setDaemon(true);
              return thread;
            });
    NodeConfig.RotationSettings settings = config.rotation();
    validator =
        new VersionValidator(
            raft,
            hsm,
            config.nodeId(),
            config.zones(),
            clock,
            executor,
            settings.schedulerInterval());
    scheduler =
        new RotationScheduler(
            raft,
            new KekIssuer(hsm),
            config.nodeId(),
            config.zones(),
            clock,
            config.defaultActivationDelay(),
            executor,
            settings.schedulerInterval());
    reporter =
        new UsageReporter(raft, usage, config.nodeId(), executor, settings.usageReportInterval());
  }

  @Override
  public void close() {
    if (executor != null) {
      executor.shutdownNow();
    }
  }
}
