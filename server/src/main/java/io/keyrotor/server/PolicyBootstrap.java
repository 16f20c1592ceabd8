package io.keyrotor.server;

import io.keyrotor.consensus.RaftNode;
import io.keyrotor.proto.internal.v1.BootstrapAuthorizationPolicy;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.server.config.NodeConfig;
import java.util.UUID;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives a new cluster its first authorisation policy: while the applied state has none, a node
 * whose configuration names administrators ({@code access.bootstrap-admins}) proposes its bootstrap
 * policy, again every second until one is applied. Apply takes the first one and makes every later
 * one a no-op, so nodes configured alike (or not) never fight; an existing cluster is never changed
 * by configuration. Every later change is a SetPolicy by an administrator.
 */
final class PolicyBootstrap {
  private static final Logger LOG = LoggerFactory.getLogger(KeyrotorNode.class);

  private PolicyBootstrap() {}

  static void start(NodeConfig config, RaftNode raft, ScheduledExecutorService scheduler) {
    if (config.bootstrapPolicy().getBindingsCount() == 0) {
      return;
    }
    Command.Builder command =
        Command.newBuilder()
            .setOriginNode(config.nodeId())
            .setBootstrapAuthorizationPolicy(
                BootstrapAuthorizationPolicy.newBuilder()
                    .addAllAdmins(
                        config.bootstrapPolicy().getBindingsList().stream()
                            .filter(b -> b.getName().startsWith("bootstrap-admin-"))
                            .map(b -> b.getPrincipal())
                            .toList())
                    .setPolicy(config.bootstrapPolicy()));
    AtomicBoolean inFlight = new AtomicBoolean();
    AtomicReference<ScheduledFuture<?>> task = new AtomicReference<>();
    task.set(
        scheduler.scheduleWithFixedDelay(
            () -> {
              if (raft.state().accessPolicy().version() != 0) {
                task.get().cancel(false);
                return;
              }
              if (!inFlight.compareAndSet(false, true)) {
                return;
              }
              var unused =
                  raft.propose(
                          command.setRequestId("bootstrap-policy:" + UUID.randomUUID()).build())
                      .orTimeout(10, TimeUnit.SECONDS)
                      .whenComplete(
                          (result, failure) -> {
                            inFlight.set(false);
                            if (failure == null) {
                              LOG.info(
                                  "Node {}: bootstrap authorisation policy proposed ({})",
                                  config.nodeId(),
                                  result.getOutcome().getMessage());
                            }
                          });
            },
            0,
            1,
            TimeUnit.SECONDS));
  }
}
