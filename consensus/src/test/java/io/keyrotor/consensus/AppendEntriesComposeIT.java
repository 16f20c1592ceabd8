package io.keyrotor.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.impl.ClientProtoUtils;
import org.apache.ratis.proto.RaftProtos.AppendEntriesReplyProto;
import org.apache.ratis.proto.RaftProtos.AppendEntriesReplyProto.AppendResult;
import org.apache.ratis.proto.RaftProtos.AppendEntriesRequestProto;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.StateMachineLogEntryProto;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Chaos bug 3 at its root, deterministically: a follower that receives two appends with the same
 * first index at once (after a partition heals, a retransmitted stale append races the leader's
 * new, longer one) must either write every entry of an append it answers SUCCESS to, or not answer
 * SUCCESS. Ratis 3.3.0 with append-entries compose on skips the longer append as "already being
 * written" and still answers SUCCESS with its last index; the leader then believes the follower
 * holds entries it never wrote and never backs off below that index.
 *
 * <p>The test plays leader "n1" (term 1) against a real node "n2" (whose peers are not running)
 * over the Raft server protocol, each round racing a short and a long append from the same index.
 */
class AppendEntriesComposeIT {
  private static final long TERM = 1;
  private static final int ROUNDS = 20;

  @TempDir Path root;
  private RaftNode follower;

  @AfterEach
  void stop() {
    if (follower != null) {
      follower.close();
    }
  }

  @Test
  void racingAppendsFromOneIndex_everySuccessIsWritten() throws Exception {
    Map<String, String> peers = new TreeMap<>();
    for (String id : List.of("n1", "n2", "n3")) {
      peers.put(id, "127.0.0.1:" + TestCluster.freePort());
    }
    // Long election timeouts: the follower should wait for "n1", not campaign (it cannot win).
    ConsensusConfig config =
        ConsensusConfig.of("n2", peers, "test", root.resolve("n2"))
            .withElectionTimeout(Duration.ofSeconds(20), Duration.ofSeconds(30));
    follower =
        RaftNode.start(
            config,
            Clock.systemUTC(),
            (message, cause) -> {
              throw new AssertionError(message, cause);
            },
            List.of());
    RaftServer.Division division = follower.raftDivision();
    RaftGroupMemberId leader =
        RaftGroupMemberId.valueOf(RaftPeerId.valueOf("n1"), division.getGroup().getGroupId());
    RaftServer server = division.getRaftServer();

    long callId = 0;
    AppendEntriesReplyProto first =
        server.appendEntriesAsync(request(leader, ++callId, null, entries(0, 5))).get(10, SECONDS);
    assertEquals(AppendResult.SUCCESS, first.getResult(), first.toString());

    long next = 5;
    List<String> lies = new ArrayList<>();
    for (int round = 0; round < ROUNDS; round++) {
      TermIndex previous = TermIndex.valueOf(TERM, next - 1);
      // The stale append (3 entries) and the new one (30 entries), from the same index, at once.
      CompletableFuture<AppendEntriesReplyProto> shortAppend =
          server.appendEntriesAsync(request(leader, ++callId, previous, entries(next, 3)));
      CompletableFuture<AppendEntriesReplyProto> longAppend =
          server.appendEntriesAsync(request(leader, ++callId, previous, entries(next, 30)));
      AppendEntriesReplyProto shortReply = shortAppend.get(10, SECONDS);
      AppendEntriesReplyProto longReply = longAppend.get(10, SECONDS);
      long written = division.getRaftLog().getLastEntryTermIndex().getIndex();
      for (AppendEntriesReplyProto reply : List.of(shortReply, longReply)) {
        if (reply.getResult() == AppendResult.SUCCESS && reply.getMatchIndex() > written) {
          lies.add(
              "round "
                  + round
                  + ": SUCCESS with match index "
                  + reply.getMatchIndex()
                  + " but the log ends at "
                  + written);
        }
      }
      assertEquals(AppendResult.SUCCESS, longReply.getResult(), longReply.toString());
      next = written + 1;
    }
    assertTrue(lies.isEmpty(), "the follower acknowledged entries it never wrote: " + lies);
    assertEquals(5 + ROUNDS * 30 - 1, division.getRaftLog().getLastEntryTermIndex().getIndex());
  }

  private static final TimeUnit SECONDS = TimeUnit.SECONDS;

  private static List<LogEntryProto> entries(long firstIndex, int count) {
    List<LogEntryProto> out = new ArrayList<>();
    for (long i = firstIndex; i < firstIndex + count; i++) {
      out.add(
          LogEntryProto.newBuilder()
              .setTerm(TERM)
              .setIndex(i)
              .setStateMachineLogEntry(
                  StateMachineLogEntryProto.newBuilder()
                      .setCallId(i)
                      .setLogData(ByteString.copyFromUtf8("entry " + i)))
              .build());
    }
    return out;
  }

  private static AppendEntriesRequestProto request(
      RaftGroupMemberId leader, long callId, TermIndex previous, List<LogEntryProto> entries) {
    AppendEntriesRequestProto.Builder b =
        AppendEntriesRequestProto.newBuilder()
            .setServerRequest(
                ClientProtoUtils.toRaftRpcRequestProtoBuilder(leader, RaftPeerId.valueOf("n2"))
                    .setCallId(callId))
            .setLeaderTerm(TERM)
            .setLeaderCommit(-1)
            .addAllEntries(entries);
    if (previous != null) {
      b.setPreviousLog(previous.toProto());
    }
    return b.build();
  }
}
