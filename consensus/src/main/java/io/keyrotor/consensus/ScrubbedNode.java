package io.keyrotor.consensus;

import io.keyrotor.storage.KeyStateStore;
import java.io.IOException;
import java.nio.file.Path;

/**
 * What the destruction scrubber does through one node: reads its store, asks it to step down when
 * it leads, and takes and deletes its snapshots.
 */
record ScrubbedNode(RaftNode node, KeyrotorStateMachine stateMachine, ConsensusConfig config)
    implements DestructionScrubber.Member {
  @Override
  public KeyStateStore store() {
    return stateMachine.store();
  }

  @Override
  public boolean isLeader() {
    return node.isReadyLeader();
  }

  @Override
  public void askLeaderToStepDown() {
    node.transferLeadership("", config.requestTimeout().toMillis());
  }

  @Override
  public long takeFreshSnapshot() {
    stateMachine.requestFreshSnapshot();
    return node.takeSnapshot(config.requestTimeout().toMillis() * 6);
  }

  @Override
  public void deleteSnapshotsBefore(long index) throws IOException {
    stateMachine.deleteSnapshotsBefore(index);
  }

  @Override
  public Path raftDirectory() {
    return config.raftDirectory();
  }
}
