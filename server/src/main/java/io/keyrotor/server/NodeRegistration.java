package io.keyrotor.server;

import io.keyrotor.consensus.RaftNode;
import io.keyrotor.hsm.Hsm;
import io.keyrotor.hsm.HsmDescription;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.RegisterNode;
import io.keyrotor.server.config.NodeConfig;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells the cluster (through the log) which region and zones a node serves, its API address and its
 * HSM, so any node can point a caller to the nodes of a zone. Retries, with backoff, until a leader
 * accepts it; the log line that says so is also how scripts know that the cluster serves writes.
 */
final class NodeRegistration {
  /** The node's own logger: its log lines are the node's (scripts wait for "registered"). */
  private static final Logger LOG = LoggerFactory.getLogger(KeyrotorNode.class);

  private NodeRegistration() {}

  /**
   * Proposes the node's {@code RegisterNode} now, and again on {@code retries} until it commits.
   */
  static void start(NodeConfig config, Hsm hsm, RaftNode raft, ScheduledExecutorService retries) {
    HsmDescription described = hsm.describe();
    // Module, token and mechanisms go into the replicated registry so the compliance report can
    // say which HSM holds each zone; none of them is secret (no PIN, no passphrase).
    NodeRecord record =
        NodeRecord.newBuilder()
            .setId(config.nodeId())
            .setRegion(config.region())
            .addAllZones(new TreeSet<>(config.zones()))
            .setApiAddress(config.apiAddress())
            .setHsmKind(described.kind())
            .setHsmDescription(config.hsm().describe())
            .setHsmModule(described.module())
            .setHsmTokenLabel(described.tokenLabel())
            .addAllHsmMechanisms(described.mechanisms().stream().map(Enum::name).toList())
            // The leader raises the cluster's version once every voting member supports it.
            .setSupportedClusterVersion(config.upgrade().maxSupportedVersion())
            .build();
    Command command =
        Command.newBuilder()
            .setRequestId("register-node:" + UUID.randomUUID())
            .setOriginNode(config.nodeId())
            .setRegisterNode(RegisterNode.newBuilder().setNode(record))
            .build();
    propose(config.nodeId(), command, raft, retries, 0);
  }

  private static void propose(
      String nodeId,
      Command command,
      RaftNode raft,
      ScheduledExecutorService retries,
      int attempt) {
    // The outcome is handled in the callback: logged, and a failure retried.
    var unusedOutcome =
        raft.propose(command)
            .orTimeout(10, TimeUnit.SECONDS)
            .whenComplete(
                (result, failure) -> {
                  if (failure == null) {
                    LOG.info("Node {} registered with the cluster", nodeId);
                    return;
                  }
                  LOG.debug("Node {} not registered yet: {}", nodeId, failure.toString());
                  if (!retries.isShutdown()) {
                    long delay = Math.min(5_000, 250L << Math.min(attempt, 4));
                    var unusedRetry =
                        retries.schedule(
                            () -> propose(nodeId, command, raft, retries, attempt + 1),
                            delay,
                            TimeUnit.MILLISECONDS);
                  }
                });
  }
}
