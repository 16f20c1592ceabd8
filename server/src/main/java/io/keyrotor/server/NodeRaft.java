package io.keyrotor.server;

import io.keyrotor.consensus.CommandClock;
import io.keyrotor.consensus.ConsensusConfig;
import io.keyrotor.consensus.FatalErrorHandler;
import io.keyrotor.consensus.KeyrotorStateMachine;
import io.keyrotor.consensus.RaftNode;
import io.keyrotor.consensus.RaftTransport;
import io.keyrotor.server.config.NodeConfig;
import io.keyrotor.server.dataplane.KekCache;
import io.keyrotor.server.metrics.NodeMetrics;
import io.keyrotor.server.rotation.RotationEngine;
import io.keyrotor.server.tracing.NodeTracing;
import io.keyrotor.server.transport.ApiTransport;
import io.keyrotor.storage.version.ApplyFeature;
import java.io.IOException;
import java.util.List;

/**
 * The node's Raft member: its consensus settings read from the node configuration (election
 * timeouts, reads, snapshots, transport, cluster version), the apply listeners of the node's parts,
 * and group commit gated on the cluster version.
 */
final class NodeRaft {
  private NodeRaft() {}

  /**
   * The Raft member over {@code transport}'s credentials, with the apply listeners of the metrics,
   * the KEK cache and rotation.
   */
  static RaftNode start(
      NodeConfig config,
      CommandClock clock,
      FatalErrorHandler fatal,
      NodeMetrics metrics,
      KekCache kekCache,
      RotationEngine rotation,
      ApiTransport transport,
      KeyrotorStateMachine.ApplyListener auditSinks,
      NodeTracing tracing)
      throws KeyrotorNode.StartupException {
    // The Raft port speaks mutual TLS with the same credentials as the API (the node certificate
    // is its server and client identity), or plaintext where the configuration says insecure
    // (loopback only, checked by NodeConfig).
    RaftTransport raftTransport =
        transport
            .credentials()
            .map(RaftTransport::mutualTls)
            .orElseGet(RaftTransport::insecureLoopback);
    ConsensusConfig consensus =
        ConsensusConfig.of(
                config.nodeId(), config.raftPeers(), config.clusterName(), config.dataDirectory())
            .withElectionTimeout(config.electionTimeoutMin(), config.electionTimeoutMax())
            .withReads(config.leaderLease(), true)
            // Purge the log up to every snapshot (gap 1): snapshots come every
            // raft.snapshot-threshold entries and after each destruction, whose scrub needs the
            // log purged at once.
            .withSnapshots(config.snapshotThreshold(), 1)
            .withDestroyScrubWithin(config.destroy().scrubWithin())
            .withRatisOverrides(config.ratisOverrides())
            .withTransport(raftTransport)
            .withKeyCacheBytes(config.storage().keyCacheBytes())
            .withJoining(config.membership().join())
            .withBindHost(config.bindHost())
            .withMaxSupportedClusterVersion(config.upgrade().maxSupportedVersion());
    try {
      RaftNode node =
          RaftNode.start(
              consensus,
              clock,
              fatal,
              List.of(
                  metrics.applyListener(),
                  kekCache.applyListener(),
                  rotation.applyListener(),
                  auditSinks,
                  tracing.applyListener()));
      // Batches only once every voter's binary applies them (the cluster version carries that).
      node.groupCommit(
          config.groupCommit().config(),
          () -> ApplyFeature.COMMAND_BATCHES.activeAt(node.state().activeClusterVersion()));
      return node;
    } catch (IOException e) {
      throw new KeyrotorNode.StartupException(e.getMessage(), e);
    }
  }
}
