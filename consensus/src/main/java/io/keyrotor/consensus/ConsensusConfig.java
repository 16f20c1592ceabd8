package io.keyrotor.consensus;

import io.keyrotor.storage.version.ClusterVersion;
import io.keyrotor.storage.view.KeyCache;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * How one node takes part in the Raft group.
 *
 * @param nodeId this node's id (one of {@code peers})
 * @param peers every voting member: id -> Raft address (host:port)
 * @param clusterName names the Raft group; every member must use the same
 * @param dataDirectory holds {@code raft/} (Ratis log, snapshots) and {@code state/} (RocksDB)
 * @param electionTimeoutMin Ratis rpc.timeout.min; the leader lease is 90 % of it
 * @param electionTimeoutMax Ratis rpc.timeout.max
 * @param leaderLeaseEnabled serve linearizable reads on the leader without a heartbeat round
 * @param linearizableReads false only for the chaos suite's positive control (reads that bypass the
 *     read barrier); never in production
 * @param snapshotThreshold applied entries between automatic snapshots
 * @param purgeGap log entries to accumulate before purging up to a snapshot
 * @param requestTimeout how long a proposal forwarded to the leader may take
 * @param logSegmentSizeBytes the size at which a Raft log segment is closed; only closed segments
 *     are purged after a snapshot
 * @param ratisOverrides Ratis properties set last, over keyrotor's choices (tuning experiments; the
 *     node logs them at start)
 * @param transport how the Raft port talks to peers: mutual TLS bound to member ids, or plaintext
 *     on loopback ({@link RaftTransport})
 * @param keyCacheBytes the bound of the state store's key record cache, in estimated heap bytes
 * @param destroyScrubWithin how soon after a node applies a version's destruction the version's
 *     wrapped KEK must be gone from every file of its data directory ({@link DestructionScrubber})
 * @param joining the node starts outside the group's configuration and waits for the leader to add
 *     it (cluster.join): its Ratis server starts with no members, so it never campaigns, and takes
 *     the configuration from the log it receives. Once a member, the stored configuration rules.
 * @param maxSupportedClusterVersion the highest cluster version this node applies: {@link
 *     ClusterVersion#SUPPORTED}, or less to act as an older binary (testing upgrades only); a log
 *     or state that needs more stops the node instead of applying it
 * @param bindHost the IPv4 literal the Raft server listens on, such as {@code 0.0.0.0}, when it is
 *     not the host of this node's own peer address (which peers keep dialling): a node in a
 *     container listens on every interface and is reached at its container address
 */
public record ConsensusConfig(
    String nodeId,
    Map<String, String> peers,
    String clusterName,
    Path dataDirectory,
    Duration electionTimeoutMin,
    Duration electionTimeoutMax,
    boolean leaderLeaseEnabled,
    boolean linearizableReads,
    long snapshotThreshold,
    int purgeGap,
    Duration requestTimeout,
    long logSegmentSizeBytes,
    Map<String, String> ratisOverrides,
    RaftTransport transport,
    long keyCacheBytes,
    Duration destroyScrubWithin,
    boolean joining,
    int maxSupportedClusterVersion,
    Optional<String> bindHost) {

  /** The shortest election timeout unless configured ({@code raft.election-timeout-min}). */
  public static final Duration DEFAULT_ELECTION_TIMEOUT_MIN = Duration.ofMillis(600);

  /** The longest election timeout unless configured ({@code raft.election-timeout-max}). */
  public static final Duration DEFAULT_ELECTION_TIMEOUT_MAX = Duration.ofMillis(1200);

  /** How soon a destroyed version's material leaves the data directory, unless configured. */
  public static final Duration DEFAULT_DESTROY_SCRUB_WITHIN = Duration.ofMinutes(5);

  public ConsensusConfig {
    if (keyCacheBytes < 0) {
      throw new IllegalArgumentException("the key cache bound is at least 0 bytes");
    }
    Objects.requireNonNull(nodeId, "nodeId");
    Objects.requireNonNull(transport, "transport");
    Objects.requireNonNull(bindHost, "bindHost");
    peers = Map.copyOf(new TreeMap<>(peers));
    ratisOverrides = Collections.unmodifiableSortedMap(new TreeMap<>(ratisOverrides));
    if (!peers.containsKey(nodeId)) {
      throw new IllegalArgumentException(
          "node " + nodeId + " is not one of the configured peers " + peers.keySet());
    }
    if (electionTimeoutMax.compareTo(electionTimeoutMin) <= 0) {
      throw new IllegalArgumentException("election timeout max must exceed min");
    }
    if (destroyScrubWithin.isNegative() || destroyScrubWithin.isZero()) {
      throw new IllegalArgumentException("the destruction scrub bound must be positive");
    }
    if (maxSupportedClusterVersion < ClusterVersion.BASE
        || maxSupportedClusterVersion > ClusterVersion.SUPPORTED) {
      throw new IllegalArgumentException(
          "the supported cluster version is "
              + ClusterVersion.BASE
              + " to "
              + ClusterVersion.SUPPORTED
              + ", not "
              + maxSupportedClusterVersion);
    }
  }

  /**
   * Defaults for a node: 600 ms-1.2 s elections, lease on, a snapshot every 20,000 entries, and the
   * plaintext loopback transport (set {@link #withTransport} for anything else).
   *
   * <p>A follower draws a timeout, sleeps it whole, and only then compares it with the time since
   * it last heard from the leader, so it notices a dead leader about 1.5 timeouts after the last
   * heartbeat; the leader heartbeats every min / 2 and its lease is 90 % of the min. Shorter
   * timeouts (400-800 ms) would fail over faster; they stay an option ({@code
   * raft.election-timeout-min/max}) until the chaos suite has passed with them.
   */
  public static ConsensusConfig of(
      String nodeId, Map<String, String> peers, String clusterName, Path dataDirectory) {
    return new ConsensusConfig(
        nodeId,
        peers,
        clusterName,
        dataDirectory,
        DEFAULT_ELECTION_TIMEOUT_MIN,
        DEFAULT_ELECTION_TIMEOUT_MAX,
        true,
        true,
        20_000,
        1_024,
        Duration.ofSeconds(5),
        8L << 20,
        Map.of(),
        RaftTransport.insecureLoopback(),
        KeyCache.DEFAULT_BYTES,
        DEFAULT_DESTROY_SCRUB_WITHIN,
        false,
        ClusterVersion.SUPPORTED,
        Optional.empty());
  }

  /**
   * Keeps at most {@code bytes} (estimated heap) of key records cached over the state store ({@code
   * storage.key-cache-bytes}).
   */
  public ConsensusConfig withKeyCacheBytes(long bytes) {
    return toBuilder().keyCacheBytes(bytes).build();
  }

  /**
   * Snapshot every {@code threshold} entries, purge after {@code gap}, segments of {@code
   * segmentBytes}.
   */
  public ConsensusConfig withSnapshots(long threshold, int gap, long segmentBytes) {
    return toBuilder()
        .snapshotThreshold(threshold)
        .purgeGap(gap)
        .logSegmentSizeBytes(segmentBytes)
        .build();
  }

  public ConsensusConfig withSnapshots(long threshold, int gap) {
    return toBuilder().snapshotThreshold(threshold).purgeGap(gap).build();
  }

  public ConsensusConfig withElectionTimeout(Duration min, Duration max) {
    return toBuilder().electionTimeoutMin(min).electionTimeoutMax(max).build();
  }

  public ConsensusConfig withReads(boolean lease, boolean linearizable) {
    return toBuilder().leaderLeaseEnabled(lease).linearizableReads(linearizable).build();
  }

  /** Sets these Ratis properties after keyrotor's own (key as Ratis names it, value as text). */
  public ConsensusConfig withRatisOverrides(Map<String, String> overrides) {
    return toBuilder().ratisOverrides(overrides).build();
  }

  /**
   * Talks to peers through {@code value}: {@link RaftTransport#mutualTls} with the node's reloading
   * credentials, or {@link RaftTransport#insecureLoopback}.
   */
  public ConsensusConfig withTransport(RaftTransport value) {
    return toBuilder().transport(value).build();
  }

  /** Starts outside the group and waits to be added (see {@link #joining}). */
  public ConsensusConfig withJoining(boolean value) {
    return toBuilder().joining(value).build();
  }

  /** Scrubs a destroyed version's wrapped KEK from the data directory within {@code bound}. */
  public ConsensusConfig withDestroyScrubWithin(Duration bound) {
    return toBuilder().destroyScrubWithin(bound).build();
  }

  /**
   * Applies cluster versions up to {@code version} only, as an older binary would (testing
   * upgrades: {@code upgrade.max-supported-version}).
   */
  public ConsensusConfig withMaxSupportedClusterVersion(int version) {
    return toBuilder().maxSupportedClusterVersion(version).build();
  }

  /**
   * Listens on {@code host} (an IPv4 literal such as {@code 0.0.0.0}) at this node's Raft port; the
   * peers keep the node's own peer address ({@code bind.host}).
   */
  public ConsensusConfig withBindHost(Optional<String> host) {
    return toBuilder().bindHost(host).build();
  }

  /** Where this node's Raft server listens: the bind host, if any, at its own peer port. */
  String raftListenAddress() {
    String own = peers.get(nodeId);
    return bindHost.map(h -> h + own.substring(own.lastIndexOf(':'))).orElse(own);
  }

  private Builder toBuilder() {
    return new Builder(this);
  }

  /** A copy of a configuration with some settings changed. */
  private static final class Builder {
    private final ConsensusConfig from;
    private Duration electionTimeoutMin;
    private Duration electionTimeoutMax;
    private boolean leaderLeaseEnabled;
    private boolean linearizableReads;
    private long snapshotThreshold;
    private int purgeGap;
    private long logSegmentSizeBytes;
    private Map<String, String> ratisOverrides;
    private RaftTransport transport;
    private long keyCacheBytes;
    private Duration destroyScrubWithin;
    private boolean joining;
    private int maxSupportedClusterVersion;
    private Optional<String> bindHost;

    Builder(ConsensusConfig from) {
      this.bindHost = from.bindHost;
      this.maxSupportedClusterVersion = from.maxSupportedClusterVersion;
      this.keyCacheBytes = from.keyCacheBytes;
      this.from = from;
      this.electionTimeoutMin = from.electionTimeoutMin;
      this.electionTimeoutMax = from.electionTimeoutMax;
      this.leaderLeaseEnabled = from.leaderLeaseEnabled;
      this.linearizableReads = from.linearizableReads;
      this.snapshotThreshold = from.snapshotThreshold;
      this.purgeGap = from.purgeGap;
      this.logSegmentSizeBytes = from.logSegmentSizeBytes;
      this.ratisOverrides = from.ratisOverrides;
      this.transport = from.transport;
      this.destroyScrubWithin = from.destroyScrubWithin;
      this.joining = from.joining;
    }

    Builder bindHost(Optional<String> value) {
      bindHost = value;
      return this;
    }

    Builder joining(boolean value) {
      joining = value;
      return this;
    }

    Builder maxSupportedClusterVersion(int value) {
      maxSupportedClusterVersion = value;
      return this;
    }

    Builder destroyScrubWithin(Duration value) {
      destroyScrubWithin = value;
      return this;
    }

    Builder keyCacheBytes(long value) {
      keyCacheBytes = value;
      return this;
    }

    Builder transport(RaftTransport value) {
      transport = value;
      return this;
    }

    Builder ratisOverrides(Map<String, String> value) {
      ratisOverrides = value;
      return this;
    }

    Builder electionTimeoutMin(Duration value) {
      electionTimeoutMin = value;
      return this;
    }

    Builder electionTimeoutMax(Duration value) {
      electionTimeoutMax = value;
      return this;
    }

    Builder leaderLeaseEnabled(boolean value) {
      leaderLeaseEnabled = value;
      return this;
    }

    Builder linearizableReads(boolean value) {
      linearizableReads = value;
      return this;
    }

    Builder snapshotThreshold(long value) {
      snapshotThreshold = value;
      return this;
    }

    Builder purgeGap(int value) {
      purgeGap = value;
      return this;
    }

    Builder logSegmentSizeBytes(long value) {
      logSegmentSizeBytes = value;
      return this;
    }

    ConsensusConfig build() {
      return new ConsensusConfig(
          from.nodeId,
          from.peers,
          from.clusterName,
          from.dataDirectory,
          electionTimeoutMin,
          electionTimeoutMax,
          leaderLeaseEnabled,
          linearizableReads,
          snapshotThreshold,
          purgeGap,
          from.requestTimeout,
          logSegmentSizeBytes,
          ratisOverrides,
          transport,
          keyCacheBytes,
          destroyScrubWithin,
          joining,
          maxSupportedClusterVersion,
          bindHost);
    }
  }

  Path raftDirectory() {
    return dataDirectory.resolve("raft");
  }

  Path stateDirectory() {
    return dataDirectory.resolve("state");
  }
}
