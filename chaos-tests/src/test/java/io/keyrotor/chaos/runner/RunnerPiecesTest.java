package io.keyrotor.chaos.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.keyrotor.chaos.checker.CheckResult;
import io.keyrotor.chaos.history.EventType;
import io.keyrotor.chaos.history.History;
import io.keyrotor.chaos.history.HistoryRecorder;
import io.keyrotor.chaos.launcher.NetnsLauncher;
import io.keyrotor.chaos.nemesis.NemesisKind;
import io.keyrotor.chaos.workload.GrpcNodeApiAccess;
import io.keyrotor.chaos.workload.OpError;
import io.keyrotor.chaos.workload.Workload;
import java.io.StringWriter;
import java.net.ConnectException;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The runner's small parts: option parsing, error classification, history filtering. */
class RunnerPiecesTest {

  @Test
  void nemesisParse_familiesGroupsAndFaults() {
    assertEquals(
        EnumSet.of(
            NemesisKind.ISOLATE_NODE,
            NemesisKind.ISOLATE_LEADER,
            NemesisKind.MAJORITY_MINORITY,
            NemesisKind.BRIDGE,
            NemesisKind.MAJORITIES_RING,
            NemesisKind.KILL_NODE,
            NemesisKind.KILL_LEADER),
        NemesisKind.parse("partition,kill"));
    assertTrue(NemesisKind.parse("network").stream().allMatch(NemesisKind::network));
    assertTrue(NemesisKind.parse("process").stream().noneMatch(NemesisKind::network));
    assertEquals(EnumSet.allOf(NemesisKind.class), NemesisKind.parse("all"));
    assertEquals(Set.of(NemesisKind.CLOCK_STROBE), NemesisKind.parse("clock-strobe"));
    assertTrue(NemesisKind.parse("none").isEmpty());
    assertEquals(
        Set.of(NemesisKind.MEMBER_ADD, NemesisKind.MEMBER_REMOVE, NemesisKind.MEMBER_REPLACE),
        NemesisKind.parse("membership"));
    assertTrue(NemesisKind.parse("process").stream().noneMatch(NemesisKind::membership));
    IllegalArgumentException unknown =
        assertThrows(IllegalArgumentException.class, () -> NemesisKind.parse("disk"));
    assertTrue(unknown.getMessage().contains("membership"));
    assertFalse(NemesisKind.BRIDGE.appliesTo(3));
    assertTrue(NemesisKind.MAJORITIES_RING.appliesTo(5));
  }

  @Test
  void mainOptions_durationsAndSeeds() {
    assertEquals(Duration.ofSeconds(60), ChaosMain.duration("60s"));
    assertEquals(Duration.ofMinutes(5), ChaosMain.duration("5m"));
    assertEquals(Duration.ofHours(2), ChaosMain.duration("2h"));
    assertEquals(Duration.ofSeconds(90), ChaosMain.duration("90"));
    assertThrows(IllegalArgumentException.class, () -> ChaosMain.duration("soon"));
    assertEquals(0xD9626A2BB06256F7L, ChaosMain.parseSeed("0xD9626A2BB06256F7"));
    assertEquals(42L, ChaosMain.parseSeed("42"));
  }

  @Test
  void mainOptions_usageErrors() {
    assertThrows(
        IllegalArgumentException.class, () -> ChaosMain.run(new String[] {"--nodes", "4"}));
    assertThrows(IllegalArgumentException.class, () -> ChaosMain.run(new String[] {"--bogus"}));
    assertThrows(
        IllegalArgumentException.class, () -> ChaosMain.run(new String[] {"--nemesis", "x"}));
    assertThrows(
        IllegalArgumentException.class,
        () -> ChaosMain.run(new String[] {"--node-setting", "no-equals-sign"}));
    assertThrows(
        IllegalArgumentException.class,
        () -> ChaosMain.run(new String[] {"--node-setting", "=value"}));
  }

  @Test
  void launcherSettings_refuseANodeSettingThatIsNotOneLine() {
    NetnsLauncher.Settings defaults = NetnsLauncher.Settings.defaults(3);
    assertThrows(
        IllegalArgumentException.class,
        () -> defaults.withNodeSettings(List.of("raft.x=1\nchaos.enabled=false")));
    assertEquals(
        List.of("raft.x=1"), defaults.withNodeSettings(List.of(" raft.x=1 ")).nodeSettings());
  }

  @Test
  void mainOptions_nodeSettingsKeepTheirValueWhole() {
    assertEquals(
        "ratis.raft.server.log.appender.retry.policy=1ms,10, 1s,20, 5s,1000",
        NetnsLauncher.Settings.nodeSetting(
            " ratis.raft.server.log.appender.retry.policy=1ms,10, 1s,20, 5s,1000"));
  }

  @Test
  void classify_serverRejectionsAreDefinite_timeoutsAndUnavailableAreNot() {
    OpError conflict =
        GrpcNodeApiAccess.classify(
            Status.FAILED_PRECONDITION.withDescription("key is at version 3").asRuntimeException());
    assertTrue(conflict.definite());
    assertEquals("FAILED_PRECONDITION", conflict.code());

    assertFalse(
        GrpcNodeApiAccess.classify(Status.DEADLINE_EXCEEDED.asRuntimeException()).definite());
    assertFalse(
        GrpcNodeApiAccess.classify(
                Status.UNAVAILABLE.withDescription("no leader").asRuntimeException())
            .definite());
    assertFalse(GrpcNodeApiAccess.classify(Status.INTERNAL.asRuntimeException()).definite());
  }

  @Test
  void classify_connectionRefused_neverSent_definite() {
    StatusRuntimeException refused =
        Status.UNAVAILABLE
            .withDescription("io exception")
            .withCause(new ConnectException("Connection refused"))
            .asRuntimeException();
    OpError error = GrpcNodeApiAccess.classify(refused);
    assertTrue(error.definite());
    assertEquals("NOT_CONNECTED", error.reasonOrEmpty());
  }

  @Test
  void workloadKeys_prefixes() {
    assertEquals(Workload.W2, Workload.ofKey("w2-r1a2b-3"));
    assertEquals(null, Workload.ofKey("other"));
    assertEquals(EnumSet.of(Workload.W1, Workload.W3), Workload.parse("w1, W3"));
  }

  @Test
  void onlyAndAvailability_filterByWorkload_andFailAClusterThatNeverWrote() {
    AtomicLong clock = new AtomicLong();
    HistoryRecorder recorder = new HistoryRecorder(new StringWriter(), clock::incrementAndGet);
    recorder.invoke(0, "n1", "list-versions", "w1-r-0", null);
    recorder.fail(0, "UNAVAILABLE", null);
    recorder.invoke(0, "n1", "get-primary", "w2-r-0", null);
    recorder.fail(0, "UNAVAILABLE", null);
    recorder.nemesis(EventType.INVOKE, "isolate-leader", "n1", new JsonObject());
    History history = History.of(recorder.events());
    History w1 = RunChecks.only(history, Workload.W1);
    assertEquals(1, w1.operations().size());
    assertEquals(1, w1.nemesisEvents().size());
    CheckResult availability = RunChecks.availability(history);
    assertEquals(CheckResult.Verdict.FAIL, availability.verdict());
    assertEquals("unavailable", availability.anomalies().get(0).kind());
  }
}
