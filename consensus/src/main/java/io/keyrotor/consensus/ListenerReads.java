package io.keyrotor.consensus;

import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.ratis.client.impl.ClientProtoUtils;
import org.apache.ratis.proto.RaftProtos.ReadIndexReplyProto;
import org.apache.ratis.proto.RaftProtos.ReadIndexRequestProto;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.ReadIndexException;
import org.apache.ratis.server.protocol.RaftServerAsynchronousProtocol;

/**
 * The linearizable read barrier of a node whose Ratis server does not serve reads itself: a
 * non-voting listener (read replica) added by a configuration change.
 *
 * <p>Why it is needed: Ratis 3.3 leaves such a listener's server in its STARTING state for as long
 * as the leader that added it leads (that leader flags its appends to the listener as
 * "initializing", and only a voter it staged is ever marked caught up), and a server that is not
 * RUNNING refuses every client request, reads included. The listener still receives and applies the
 * log, and the leader still answers its server-to-server ReadIndex requests.
 *
 * <p>So this does what Ratis's own follower read does, with the same messages: it asks the leader
 * for a read index over the Raft server protocol (the leader answers from its lease or after a
 * heartbeat round confirms it still leads, and then sends this node a heartbeat carrying its commit
 * index), waits until this node has applied that index, and completes. Everything that completed
 * before the read started has an index at or below the read index, so the local state read after
 * the barrier reflects it.
 */
final class ListenerReads {
  private final RaftGroupMemberId self;
  private final Supplier<RaftServerAsynchronousProtocol> serverRpc;
  private final AppliedIndexWaiters applied;
  private final Supplier<Optional<String>> leaderId;
  private final Duration timeout;

  ListenerReads(
      RaftGroupMemberId self,
      Supplier<RaftServerAsynchronousProtocol> serverRpc,
      AppliedIndexWaiters applied,
      Supplier<Optional<String>> leaderId,
      Duration timeout) {
    this.self = self;
    this.serverRpc = serverRpc;
    this.applied = applied;
    this.leaderId = leaderId;
    this.timeout = timeout;
  }

  /**
   * Completes with this node's applied index once it reflects every write that completed before the
   * call (an exceptional completion carries Ratis's failure, for {@link RaftRequests#translate}).
   */
  CompletableFuture<Long> barrier(RaftClientRequest read) {
    Optional<String> leader = leaderId.get();
    if (leader.isEmpty() || leader.get().equals(self.getPeerId().toString())) {
      return CompletableFuture.failedFuture(
          new ReadIndexException(self + ": the leader is unknown"));
    }
    ReadIndexRequestProto request =
        ReadIndexRequestProto.newBuilder()
            .setServerRequest(
                ClientProtoUtils.toRaftRpcRequestProtoBuilder(
                    self, RaftPeerId.valueOf(leader.get())))
            .setClientRequest(ClientProtoUtils.toRaftClientRequestProto(read, false))
            .build();
    CompletableFuture<ReadIndexReplyProto> reply;
    try {
      reply = serverRpc.get().readIndexAsync(request);
    } catch (IOException e) {
      return CompletableFuture.failedFuture(e);
    }
    return reply
        .orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
        .thenCompose(
            answer -> {
              if (!answer.getServerReply().getSuccess()) {
                return CompletableFuture.failedFuture(
                    new ReadIndexException(
                        self
                            + ": node "
                            + leader.get()
                            + " gave no read index (no longer leader?)"));
              }
              return awaitApplied(answer.getReadIndex());
            });
  }

  private CompletableFuture<Long> awaitApplied(long index) {
    CompletableFuture<Long> waiter = applied.await(index);
    return waiter
        .orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
        .whenComplete(
            (done, failure) -> {
              if (failure != null) {
                applied.cancel(index, waiter);
              }
            });
  }
}
