package io.keyrotor.consensus;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.grpc.GrpcTlsConfig;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;

/**
 * What a node's Ratis server and forwarding client are configured with (README "Ratis settings"):
 * the group, keyrotor's choices of Ratis properties with the reason for each, then the configured
 * overrides.
 */
final class RaftSettings {
  private RaftSettings() {}

  /**
   * The Raft properties this node runs with (printed by benchmarks and the chaos suite): keyrotor's
   * choices, then the configured overrides.
   *
   * @throws RatisOverrides.InvalidOverrideException when an override has a value Ratis cannot read
   */
  static RaftProperties server(ConsensusConfig config) {
    RaftProperties p = new RaftProperties();
    RaftConfigKeys.Rpc.setType(p, SupportedRpcType.GRPC);
    RaftServerConfigKeys.setStorageDir(p, List.of(config.raftDirectory().toFile()));
    // The listen address: the peer address, or bind.host at its port (peers dial the former).
    String address = config.raftListenAddress();
    GrpcConfigKeys.Server.setHost(p, host(address));
    GrpcConfigKeys.Server.setPort(p, port(address));
    // The client and admin protocols share the server port (Ratis's default, said here): there they
    // sit behind the same mutual TLS and peer binding (RaftTransportSecurity), and a follower's
    // forwarder reaches the leader's client protocol. No other port is opened.
    GrpcConfigKeys.Admin.setPort(p, -1);
    GrpcConfigKeys.Client.setPort(p, -1);
    RaftServerConfigKeys.Rpc.setTimeoutMin(p, millis(config.electionTimeoutMin().toMillis()));
    RaftServerConfigKeys.Rpc.setTimeoutMax(p, millis(config.electionTimeoutMax().toMillis()));
    RaftServerConfigKeys.Read.setOption(
        p,
        config.linearizableReads()
            ? RaftServerConfigKeys.Read.Option.LINEARIZABLE
            : RaftServerConfigKeys.Read.Option.DEFAULT);
    // Ratis documents the lease as on by default; in code it is off. Say what we mean.
    RaftServerConfigKeys.Read.setLeaderLeaseEnabled(p, config.leaderLeaseEnabled());
    RaftServerConfigKeys.Read.setLeaderLeaseTimeoutRatio(p, 0.9);
    // The lease relies on followers refusing votes while they hear from a leader: keep pre-vote.
    RaftServerConfigKeys.LeaderElection.setPreVote(p, true);
    RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, true);
    RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, config.snapshotThreshold());
    // Keep two: a snapshot being streamed to a follower must not be deleted under it.
    RaftServerConfigKeys.Snapshot.setRetentionFileNum(p, 2);
    RaftServerConfigKeys.Log.setPurgeGap(p, config.purgeGap());
    RaftServerConfigKeys.Log.setSegmentSizeMax(
        p, SizeInBytes.valueOf(config.logSegmentSizeBytes()));
    RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(p, true);
    RaftServerConfigKeys.Log.Appender.setInstallSnapshotEnabled(p, true);
    // A snapshot stream to a follower that went away stalls the appender for
    // timeout x element-limit (24 s by default) before it retries: keep that short.
    RaftServerConfigKeys.Log.Appender.setSnapshotChunkSizeMax(p, SizeInBytes.valueOf(4L << 20));
    GrpcConfigKeys.Server.setInstallSnapshotRequestTimeout(p, millis(1_500));
    GrpcConfigKeys.Server.setInstallSnapshotRequestElementLimit(p, 4);
    // Measured on 2 cores: fewer, larger append batches roughly double write throughput.
    RaftServerConfigKeys.Log.setLogMetadataEnabled(p, false);
    GrpcConfigKeys.Server.setLeaderOutstandingAppendsMax(p, 1);
    RaftServerConfigKeys.RetryCache.setExpiryTime(
        p, millis(config.requestTimeout().toMillis() * 12));
    // Ratis 3.3.0's "compose" of a follower's appends skips an append whose first index equals
    // that of an append still being written, yet answers SUCCESS with the longer request's last
    // index. After a partition heals, retransmitted stale appends race the leader's new one: the
    // leader then believes entries are replicated that the follower never wrote, never lowers
    // its next index below that false match index, and the follower never catches up (chaos bug
    // 3; AppendEntriesComposeIT). Compose only pipelines appends, which one outstanding append
    // per follower (below) does not do: turn it off.
    RaftServerConfigKeys.Log.setAppendEntriesComposeEnabled(p, false);
    // The log appender waits between attempts after errors; Ratis's default policy steps up to
    // 5 s after 30 errors, which a follower cut off for a few seconds accumulates. After the heal
    // it then hears from the leader only every 5 s, above its election timeout, and answers
    // NO_LEADER meanwhile. Retry every 100 ms instead: a heartbeat's cost.
    RaftServerConfigKeys.Log.Appender.setRetryPolicy(p, "1ms,10, 100ms,1000000");
    // Ratis's appender sleeps before each send until wait-time.min (1 ms by default) has passed
    // since its previous send to that follower. A lone client's next write often reaches the
    // leader within 1 ms of the commit-index update sent for the one before, so about one append
    // in five slept first, and a 1 ms sleep lasts 1-2 ms on a busy machine, on the write's path
    // (BENCHMARKS.md "Finding the 13 ms per write"). With zero the appender sends at once; it
    // still waits for a reply while its one outstanding append is in flight, and on heartbeat
    // time otherwise, so it does not spin.
    RaftServerConfigKeys.Log.Appender.setWaitTimeMin(p, TimeDuration.ZERO);
    config.ratisOverrides().forEach(p::set);
    RatisOverrides.check(p, config.ratisOverrides());
    return p;
  }

  /**
   * The Raft settings that decide safety and speed, as "key=value" pairs (for logs and benchmarks).
   */
  static String describe(RaftProperties p) {
    StringBuilder out = new StringBuilder();
    for (String key :
        List.of(
            "raft.server.read.option",
            "raft.server.read.leader.lease.enabled",
            "raft.server.read.leader.lease.timeout.ratio",
            "raft.server.leaderelection.pre-vote",
            "raft.server.rpc.timeout.min",
            "raft.server.rpc.timeout.max",
            "raft.server.snapshot.auto.trigger.threshold",
            "raft.server.log.purge.gap",
            "raft.server.log.segment.size.max",
            "raft.server.log.log-metadata.enabled",
            "raft.grpc.server.leader.outstanding.appends.max",
            "raft.server.log.append-entries.compose.enabled",
            "raft.server.log.appender.retry.policy",
            "raft.server.log.appender.wait-time.min")) {
      out.append(key).append('=').append(p.get(key)).append(' ');
    }
    return out.toString().trim();
  }

  /** The forwarding client's properties: gRPC, and the request timeout. */
  static RaftProperties client(ConsensusConfig config) {
    RaftProperties p = new RaftProperties();
    RaftConfigKeys.Rpc.setType(p, SupportedRpcType.GRPC);
    RaftClientConfigKeys.Rpc.setRequestTimeout(p, millis(config.requestTimeout().toMillis()));
    return p;
  }

  /**
   * The transport of the Raft port ({@link RaftTransport}): for mutual TLS, the node's reloading
   * key manager and the peer-binding trust manager for the server, client and admin protocols at
   * both ends, and the interceptor that binds each request to the certificate it came with.
   * Plaintext sets nothing.
   */
  static Parameters parameters(ConsensusConfig config, Membership membership) {
    Parameters parameters = new Parameters();
    if (config.transport() instanceof RaftTransport.MutualTls tls) {
      GrpcTlsConfig conf =
          new GrpcTlsConfig(
              tls.credentials().keyManager(),
              new PeerTrustManager(tls.credentials().trustManager(), membership),
              true);
      GrpcConfigKeys.TLS.setConf(parameters, conf);
      GrpcConfigKeys.Server.setTlsConf(parameters, conf);
      GrpcConfigKeys.Client.setTlsConf(parameters, conf);
      GrpcConfigKeys.Admin.setTlsConf(parameters, conf);
      PeerBindingInterceptor binding = new PeerBindingInterceptor(membership);
      GrpcConfigKeys.Server.setServicesCustomizer(
          parameters, (builder, types) -> builder.intercept(binding));
    }
    return parameters;
  }

  /**
   * The group the Ratis server starts with: {@link #group}, or for a joining node the same group id
   * without members (Ratis then starts it outside any configuration: it does not campaign, and
   * takes its configuration from the leader's log or snapshot).
   */
  static RaftGroup serverGroup(ConsensusConfig config) {
    RaftGroup group = group(config);
    return config.joining() ? RaftGroup.valueOf(group.getGroupId()) : group;
  }

  /** The group: its id derived from the cluster name, and the configured peers. */
  static RaftGroup group(ConsensusConfig config) {
    RaftGroupId groupId =
        RaftGroupId.valueOf(
            UUID.nameUUIDFromBytes(
                ("keyrotor:" + config.clusterName()).getBytes(StandardCharsets.UTF_8)));
    List<RaftPeer> peers =
        config.peers().entrySet().stream()
            .map(
                e ->
                    RaftPeer.newBuilder()
                        .setId(RaftPeerId.valueOf(e.getKey()))
                        .setAddress(e.getValue())
                        .build())
            .toList();
    return RaftGroup.valueOf(groupId, peers);
  }

  static String host(String address) {
    int colon = address.lastIndexOf(':');
    return address.substring(0, colon);
  }

  static int port(String address) {
    return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
  }

  private static TimeDuration millis(long ms) {
    return TimeDuration.valueOf(ms, TimeUnit.MILLISECONDS);
  }
}
