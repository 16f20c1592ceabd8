package io.keyrotor.consensus;

/**
 * This node's view of the Raft group.
 *
 * @param role LEADER, FOLLOWER, CANDIDATE, LISTENER or UNKNOWN
 * @param term the current term
 * @param leaderIdOrNull the leader this node knows of
 * @param commitIndex the highest index known committed
 * @param appliedIndex the highest index applied to the state
 * @param snapshotIndex the index of the newest local snapshot, or -1
 * @param logStartIndex the first index still in the local Raft log (later after a purge)
 * @param snapshotsInstalled how many snapshots this node received from a leader since it started
 */
public record RaftStatus(
    String role,
    long term,
    String leaderIdOrNull,
    long commitIndex,
    long appliedIndex,
    long snapshotIndex,
    long logStartIndex,
    long snapshotsInstalled) {}
