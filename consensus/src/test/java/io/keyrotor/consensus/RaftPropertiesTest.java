package io.keyrotor.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.Map;
import org.apache.ratis.conf.RaftProperties;
import org.junit.jupiter.api.Test;

/** The Ratis properties a node runs with: keyrotor's choices, then the configured overrides. */
class RaftPropertiesTest {
  private static ConsensusConfig config() {
    return ConsensusConfig.of("n1", Map.of("n1", "127.0.0.1:7201"), "test", Path.of("/tmp/x"));
  }

  @Test
  void keyrotorsChoices_withoutOverrides() {
    RaftProperties p = RaftNode.properties(config());
    assertEquals("LINEARIZABLE", p.get("raft.server.read.option"));
    assertEquals("true", p.get("raft.server.leaderelection.pre-vote"));
    assertEquals("1", p.get("raft.grpc.server.leader.outstanding.appends.max"));
    // A follower's appends are not composed (chaos bug 3: AppendEntriesComposeIT).
    assertEquals("false", p.get("raft.server.log.append-entries.compose.enabled"));
    // No 5 s steps between an appender's retries.
    assertEquals("1ms,10, 100ms,1000000", p.get("raft.server.log.appender.retry.policy"));
  }

  @Test
  void overrides_setLast_overKeyrotorsChoices() {
    RaftProperties p =
        RaftNode.properties(
            config()
                .withRatisOverrides(
                    Map.of(
                        "raft.grpc.server.leader.outstanding.appends.max", "8",
                        "raft.server.log.appender.wait-time.min", "0ms")));
    assertEquals("8", p.get("raft.grpc.server.leader.outstanding.appends.max"));
    assertEquals("0ms", p.get("raft.server.log.appender.wait-time.min"));
    assertEquals("LINEARIZABLE", p.get("raft.server.read.option"));
  }
}
