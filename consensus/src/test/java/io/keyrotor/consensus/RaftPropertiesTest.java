package io.keyrotor.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServerConfigKeys;
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
    // The appender sends a new entry at once, without sleeping out 1 ms since its last send.
    assertEquals(0, RaftServerConfigKeys.Log.Appender.waitTimeMin(p).toLong(TimeUnit.NANOSECONDS));
  }

  @Test
  void listensOnItsOwnPeerAddress_unlessABindHostIsGiven() {
    RaftProperties own = RaftNode.properties(config());
    assertEquals("127.0.0.1", own.get("raft.grpc.server.host"));
    assertEquals("7201", own.get("raft.grpc.server.port"));
    RaftProperties wildcard = RaftNode.properties(config().withBindHost(Optional.of("0.0.0.0")));
    assertEquals("0.0.0.0", wildcard.get("raft.grpc.server.host"));
    assertEquals("7201", wildcard.get("raft.grpc.server.port"));
    // The peers still dial the advertised address.
    assertEquals(
        "127.0.0.1:7201",
        RaftSettings.group(config().withBindHost(Optional.of("0.0.0.0")))
            .getPeer(RaftPeerId.valueOf("n1"))
            .getAddress());
  }

  @Test
  void overrides_setLast_overKeyrotorsChoices() {
    RaftProperties p =
        RaftNode.properties(
            config()
                .withRatisOverrides(
                    Map.of(
                        "raft.grpc.server.leader.outstanding.appends.max", "8",
                        "raft.server.log.appender.wait-time.min", "5ms")));
    assertEquals("8", p.get("raft.grpc.server.leader.outstanding.appends.max"));
    assertEquals("5ms", p.get("raft.server.log.appender.wait-time.min"));
    assertEquals("LINEARIZABLE", p.get("raft.server.read.option"));
  }

  private static String refusal(String key, String value) {
    return assertThrows(
            RatisOverrides.InvalidOverrideException.class,
            () -> RaftNode.properties(config().withRatisOverrides(Map.of(key, value))))
        .getMessage();
  }

  /** Asserts that overriding {@code key} with {@code value} is refused as "key=value: why". */
  private static void assertRefused(String key, String value, String why) {
    assertEquals(key + "=" + value + ": " + why, refusal(key, value));
  }

  @Test
  void badOverrides_areRefusedWithTheSettingTheValueAndWhy() {
    assertRefused(
        "raft.server.rpc.timeout.min", "fast", "not a duration (such as 500ms, 3s or 2min)");
    assertRefused("raft.server.snapshot.auto.trigger.threshold", "many", "not a whole number");
    assertRefused(
        "raft.grpc.server.leader.outstanding.appends.max",
        "1.5",
        "not a whole number (up to 2147483647)");
    assertRefused(
        "raft.server.read.option",
        "linearizable",
        "not one of DEFAULT, LINEARIZABLE (case matters)");
    // Ratis itself would read "maybe" as its default without a word.
    assertRefused(
        "raft.server.leaderelection.pre-vote",
        "maybe",
        "neither true nor false (Ratis would silently use its default, true)");
    String size = refusal("raft.server.log.segment.size.max", "lots");
    assertTrue(
        size.startsWith(
            "raft.server.log.segment.size.max=lots: not a size in bytes (such as 4096, 64KB or"
                + " 8MB): "),
        size);
    // Read only when a leader starts replicating to a follower: the group never kept a leader.
    String retry = refusal("raft.server.log.appender.retry.policy", "1ms,10,soon,3");
    assertTrue(
        retry.startsWith(
            "raft.server.log.appender.retry.policy=1ms,10,soon,3: not a retry policy (pairs of"
                + " sleep time and retry count, such as \"1ms,10, 100ms,1000000\"): "),
        retry);
    assertTrue(retry.contains("\"soon\""), retry);
  }

  @Test
  void goodOverridesOfEachCheckedKind_apply() {
    Map<String, String> overrides =
        Map.of(
            "raft.server.rpc.timeout.min", "250ms",
            "raft.server.log.segment.size.max", "8MB",
            "raft.server.snapshot.auto.trigger.threshold", "0x10",
            "raft.server.leaderelection.pre-vote", "FALSE",
            "raft.server.read.option", "DEFAULT",
            "raft.server.log.appender.retry.policy", "ExponentialBackoffRetry,100ms,5s,10",
            "raft.server.no.such.key", "anything");
    RaftProperties p = RaftNode.properties(config().withRatisOverrides(overrides));
    overrides.forEach((key, value) -> assertEquals(value, p.get(key), key));
  }

  @Test
  void undeclaredKeys_areNamed_declaredOnesAreNot() {
    assertEquals(
        List.of("raft.server.rpc.timeout.minn"),
        RatisOverrides.undeclared(
            Map.of(
                "raft.server.rpc.timeout.minn", "500ms",
                "raft.server.rpc.timeout.min", "500ms",
                // declared without a default
                "raft.server.storage.dir", "/tmp/x",
                "raft.server.log.append-entries.compose.enabled", "true")));
  }
}
