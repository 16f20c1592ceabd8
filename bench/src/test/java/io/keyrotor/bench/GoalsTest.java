package io.keyrotor.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GoalsTest {
  private static Row row(
      String scenario, String target, long load, int round, double ops, double p50) {
    return new Row(scenario, target, "closed", load, round, ops, p50, p50 * 3, p50 * 5, Map.of());
  }

  @Test
  void paired_isTheMedianOfPerRoundRatios_notTheRatioOfMedians() {
    List<Row> rows =
        List.of(
            row("read", "a", 16, 0, 100, 1),
            row("read", "b", 16, 0, 50, 1),
            row("read", "a", 16, 1, 300, 1),
            row("read", "b", 16, 1, 300, 1),
            row("read", "a", 16, 2, 90, 1),
            row("read", "b", 16, 2, 30, 1));
    Goals goals = new Goals(rows, List.of(), List.of());
    // Per-round ratios 2.0, 1.0, 3.0: median 2.0 (the ratio of medians would be 100 / 50).
    assertEquals(2.0, goals.paired("read", "a", "b", 16, Row::opsPerSecond), 1e-9);
  }

  @Test
  void paired_ignoresRoundsWhereOneSideIsMissing() {
    List<Row> rows =
        List.of(
            row("read", "a", 16, 0, 100, 1),
            row("read", "b", 16, 0, 50, 1),
            row("read", "a", 16, 1, 999, 1));
    assertEquals(
        2.0,
        new Goals(rows, List.of(), List.of()).paired("read", "a", "b", 16, Row::opsPerSecond),
        1e-9);
  }

  @Test
  void evaluate_marksMetMissedAndNotRun() {
    List<Row> rows = new ArrayList<>();
    rows.add(row("decrypt", "keyrotor", 64, 0, 700, 2));
    rows.add(row("decrypt", "echo-mtls", 64, 0, 1000, 1));
    rows.add(row("gdk", "keyrotor", 64, 0, 500, 5));
    rows.add(row("gdk", "echo-mtls", 64, 0, 1000, 1));
    List<Goal> goals = new Goals(rows, List.of(), List.of()).evaluate();
    Goal decrypt = find(goals, "decrypt-vs-echo");
    assertEquals(0.7, decrypt.value(), 1e-9);
    assertTrue(decrypt.met());
    assertEquals("MET", decrypt.status());
    Goal gdkLatency = find(goals, "gdk-p50-vs-echo");
    assertFalse(gdkLatency.met());
    assertEquals("MISSED", gdkLatency.status());
    Goal reads = find(goals, "read-lease-vs-etcd");
    assertNull(reads.met());
    assertEquals("not run", reads.status());
  }

  @Test
  void dataPlaneTargets_areAgainstTheMutualTlsEcho_notAPlaintextOne() {
    List<Row> rows =
        List.of(
            row("decrypt", "keyrotor", 64, 0, 500, 2),
            row("decrypt", "echo-plaintext", 64, 0, 1000, 1),
            row("gdk", "keyrotor", 64, 0, 500, 2),
            row("gdk", "echo-mtls", 64, 0, 1000, 1),
            row("gdk", "echo-plaintext", 64, 0, 2000, 1));
    List<Goal> goals = new Goals(rows, List.of(), List.of()).evaluate();
    Goal decrypt = find(goals, "decrypt-vs-echo");
    assertNull(decrypt.met(), "a plaintext echo is not the baseline of the mTLS target");
    assertEquals("not run", decrypt.status());
    Goal gdk = find(goals, "gdk-vs-echo");
    assertEquals(0.5, gdk.value(), 1e-9);
    assertFalse(gdk.met());
    assertTrue(gdk.target().contains("mTLS echo"), gdk.target());
  }

  @Test
  void leaderKill_comparesMediansOfRounds() {
    List<Observation> observations =
        List.of(
            new Observation("leader-kill", "keyrotor", "first_write_ms", 500, "ms", 0, ""),
            new Observation("leader-kill", "keyrotor", "first_write_ms", 700, "ms", 1, ""),
            new Observation("leader-kill", "keyrotor", "first_write_ms", 600, "ms", 2, ""),
            new Observation("leader-kill", "etcd", "first_write_ms", 1500, "ms", 0, ""));
    Goal goal = find(new Goals(List.of(), observations, List.of()).evaluate(), "leader-kill-write");
    assertEquals(0.4, goal.value(), 1e-9);
    assertTrue(goal.met());
  }

  @Test
  void incident_needsZeroFailedCalls() {
    List<Observation> observations =
        List.of(
            new Observation("incident-rotation", "keyrotor", "seconds_per_10k_keys", 4, "s", 0, ""),
            new Observation("incident-rotation", "keyrotor", "keys", 10_000, "keys", 0, ""),
            new Observation("incident-rotation", "keyrotor", "seconds", 4, "s", 0, ""),
            new Observation("incident-rotation", "keyrotor", "failed_calls", 1, "calls", 0, ""));
    Goal goal =
        find(new Goals(List.of(), observations, List.of()).evaluate(), "incident-rotation-10k");
    assertFalse(goal.met());
  }

  @Test
  void micro_serverSideDecrypt_underFiveMicros() {
    List<MicroRow> micro =
        List.of(
            new MicroRow("DecryptBenchmark.leaderDecrypt", "", "avgt", 1, 4.2, 0.1, "us/op"),
            new MicroRow("DecryptBenchmark.rawJdkAesGcm", "", "avgt", 1, 0.4, 0.01, "us/op"));
    Goal goal = find(new Goals(List.of(), List.of(), micro).evaluate(), "decrypt-server-side-jmh");
    assertTrue(goal.met());
    assertTrue(goal.note().contains("10.5x"), goal.note());
  }

  private static Goal find(List<Goal> goals, String id) {
    return goals.stream().filter(g -> g.id().equals(id)).findFirst().orElseThrow();
  }

  @Test
  void auditGoals_comparePairedRoundsOfAuditOnAndOff() {
    List<Row> rows = new ArrayList<>();
    rows.add(row("audit-decrypt", AuditScenario.ON, 64, 0, 950, 1));
    rows.add(row("audit-decrypt", AuditScenario.OFF, 64, 0, 1000, 1));
    rows.add(row("audit-gdk", AuditScenario.ON, 64, 0, 800, 1));
    rows.add(row("audit-gdk", AuditScenario.OFF, 64, 0, 1000, 1));
    List<Goal> goals = new Goals(rows, List.of(), List.of()).evaluate();

    Goal decrypt = find(goals, "audit-decrypt-vs-audit-off");
    assertEquals(0.95, decrypt.value(), 1e-9);
    assertTrue(decrypt.met());
    Goal gdk = find(goals, "audit-gdk-vs-audit-off");
    assertEquals(0.8, gdk.value(), 1e-9);
    assertFalse(gdk.met());
    assertNull(
        find(new Goals(List.of(), List.of(), List.of()).evaluate(), "audit-gdk-vs-audit-off")
            .met());
  }
}
