package io.keyrotor.server;

import io.keyrotor.consensus.RaftNode;
import io.keyrotor.consensus.RaftStatus;
import io.keyrotor.hsm.Hsm;
import io.keyrotor.hsm.HsmDescription;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.RegisterNode;
import io.keyrotor.server.config.NodeConfig;
import java.util.List;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells the cluster (through the log) which region and zones a node serves, its API address, its
 * HSM and the zones it proved it can unwrap KEKs of ({@link ZoneProof}), so any node can point a
 * caller to the nodes of a zone. Retries, with backoff, until a leader accepts it; the log line
 * that says so is also how scripts know that the cluster serves writes.
 *
 * <p>A joining node ({@code cluster.join=true}) registers only once it has caught up: it is in the
 * group's configuration (as a listener at first), knows a leader, and has applied everything it
 * knows to be committed. Its proof is then made over the whole state, and the administrator's
 * AddNode waits for it before it makes the node a voter.
 */
final class NodeRegistration {
  /** The node's own logger: its log lines are the node's (scripts wait for "registered"). */
  private static final Logger LOG = LoggerFactory.getLogger(KeyrotorNode.class);

  private static final long CATCH_UP_POLL_MILLIS = 250;

  private NodeRegistration() {}

  /**
   * Proposes the node's {@code RegisterNode} now (a joining node: once caught up), and again on
   * {@code retries} until it commits.
   */
  static void start(NodeConfig config, Hsm hsm, RaftNode raft, ScheduledExecutorService retries) {
    if (config.membership().join()) {
      LOG.info("Node {} waits to be added to the cluster (cluster.join=true)", config.nodeId());
      awaitCaughtUp(config, hsm, raft, retries, 0);
    } else {
      propose(config.nodeId(), command(config, hsm, raft), raft, retries, 0);
    }
  }

  private static void awaitCaughtUp(
      NodeConfig config, Hsm hsm, RaftNode raft, ScheduledExecutorService retries, long polls) {
    if (retries.isShutdown()) {
      return;
    }
    if (caughtUp(config.nodeId(), raft)) {
      LOG.info(
          "Node {} caught up at index {}; proving its zones",
          config.nodeId(),
          raft.state().appliedPosition().index());
      propose(config.nodeId(), command(config, hsm, raft), raft, retries, 0);
      return;
    }
    if (polls % 40 == 39) {
      LOG.info(
          "Node {} still waits to be added and to catch up: {}", config.nodeId(), raft.status());
    }
    var unusedPoll =
        retries.schedule(
            () -> awaitCaughtUp(config, hsm, raft, retries, polls + 1),
            CATCH_UP_POLL_MILLIS,
            TimeUnit.MILLISECONDS);
  }

  /** In the configuration, a leader known, and everything known to be committed applied. */
  static boolean caughtUp(String nodeId, RaftNode raft) {
    RaftStatus status = raft.status();
    return raft.members().contains(nodeId)
        && status.leaderIdOrNull() != null
        && status.commitIndex() > 0
        && raft.state().appliedPosition().index() >= status.commitIndex();
  }

  private static Command command(NodeConfig config, Hsm hsm, RaftNode raft) {
    List<String> verified = ZoneProof.verifiedZones(config.zones(), raft.state(), hsm);
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
            .addAllVerifiedZones(verified)
            .setVerifiedIndex(Math.max(0, raft.state().appliedPosition().index()))
            // The leader raises the cluster's version once every voting member supports it.
            .setSupportedClusterVersion(config.upgrade().maxSupportedVersion())
            .build();
    return Command.newBuilder()
        .setRequestId("register-node:" + UUID.randomUUID())
        .setOriginNode(config.nodeId())
        .setRegisterNode(RegisterNode.newBuilder().setNode(record))
        .build();
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
