package io.keyrotor.server.dataplane;

import io.keyrotor.consensus.ConsensusException;
import io.keyrotor.consensus.RaftNode;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.NodeRecord;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * What a data-plane call waits for before it reads the replicated state: a linearizable read
 * barrier, so that it sees every write that completed before it started.
 */
@FunctionalInterface
public interface ReadGate {

  /**
   * Completes once this node may serve a read about {@code keyNameOrNull} from its applied state,
   * or exceptionally with a {@link ConsensusException} (no leader, not leader, timeout).
   */
  CompletableFuture<?> await(String keyNameOrNull);

  /** How a follower serves a data-plane read. */
  enum FollowerReads {
    /**
     * Ratis ReadIndex: the follower asks the leader for its commit index (answered from the
     * leader's lease), waits until it has applied that far, then serves locally.
     */
    READ_INDEX("read-index"),
    /**
     * The follower answers UNAVAILABLE NOT_LEADER with the leader's address, unless the leader does
     * not hold the key's zone (then it serves through ReadIndex: the leader could not). A read
     * replica (a non-voting listener) always serves through ReadIndex.
     */
    REDIRECT("redirect");

    private final String configName;

    FollowerReads(String configName) {
      this.configName = configName;
    }

    /** The value of {@code reads.follower} in a node's configuration. */
    public String configName() {
      return configName;
    }

    /** Parses {@code read-index} or {@code redirect}. */
    public static Optional<FollowerReads> fromConfigName(String name) {
      for (FollowerReads mode : values()) {
        if (mode.configName.equals(name)) {
          return Optional.of(mode);
        }
      }
      return Optional.empty();
    }
  }

  /** The gate of a Raft member: its linearizable read barrier, with the given follower policy. */
  static ReadGate of(RaftNode raft, FollowerReads followerReads) {
    if (followerReads == FollowerReads.READ_INDEX) {
      return key -> raft.readBarrier();
    }
    return key -> {
      // A read replica serves its region's reads itself: redirecting would defeat it.
      if (!raft.isReadyLeader() && !raft.isListener()) {
        Optional<String> leader = raft.leaderId();
        if (leader.isPresent()
            && !leader.get().equals(raft.nodeId())
            && leaderServesKey(raft, leader.get(), key)) {
          return CompletableFuture.failedFuture(
              new ConsensusException(
                  ConsensusException.Kind.NOT_LEADER,
                  "node " + raft.nodeId() + " sends data-plane reads to the leader",
                  leader.get(),
                  null));
        }
      }
      return raft.readBarrier();
    };
  }

  /**
   * Whether the call should go to the leader: the leader is known to hold the zone of {@code
   * keyNameOrNull}. A key's zone never changes, so the local (possibly lagging) state is good
   * enough to decide. A key this node does not know yet (just created), an unknown leader record,
   * or a batch (no single key: its items may span zones) is served here through ReadIndex instead,
   * so a call never bounces between a follower and a leader that cannot serve it.
   */
  private static boolean leaderServesKey(RaftNode raft, String leaderId, String keyNameOrNull) {
    if (keyNameOrNull == null) {
      return false;
    }
    Optional<KeyRecord> key = raft.state().key(keyNameOrNull);
    NodeRecord leader = raft.state().nodes().get(leaderId);
    return key.isPresent() && leader != null && leader.getZonesList().contains(key.get().getZone());
  }
}
