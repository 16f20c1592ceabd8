package io.keyrotor.chaos.checker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import io.keyrotor.chaos.history.EventType;
import io.keyrotor.chaos.history.History;
import io.keyrotor.chaos.history.SyntheticHistory;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The end-of-run summary: one line per check, the result, and on failure the evidence. */
class RunSummaryTest {
  private static final String RERUN =
      "mvn -pl chaos-tests verify -Pchaos -Dchaos.seed=0x5EED7F3A -Dchaos.profile=netns-smoke/A";
  private static final RunSummary.Run RUN =
      new RunSummary.Run(
          "20260114-1532-7f3a",
          0x5EED7F3AL,
          "netns-smoke/A",
          3,
          Duration.ofMinutes(2),
          "target/chaos/20260114-1532-7f3a/",
          RERUN,
          List.of("ratis: read=LINEARIZABLE lease=off"));

  private final History history =
      new SyntheticHistory()
          .nemesis(EventType.INVOKE, "isolate-leader", 5, null)
          .okRev(1, "activate", "k", "{\"version\":2,\"expected\":1}", 0, 10, null, 6)
          .okRev(2, "get-primary", "k", null, 20, 30, "{\"version\":1}", 5)
          .info(3, "activate", "k", "{\"version\":3,\"expected\":2}", 40, 50)
          .nemesis(EventType.INFO, "isolate-leader", 45, null)
          .build();

  /** Asserts that the summary's {@code text} contains each of {@code parts}. */
  private static void assertContains(String text, String... parts) {
    for (String part : parts) {
      assertTrue(text.contains(part), text);
    }
  }

  private CheckResult passing(String name) {
    return CheckResult.builder(name).count("ops", 3).build();
  }

  @Test
  void allChecksPassing_printsPass_andNoRerunCommand() {
    RunSummary summary =
        new RunSummary(RUN, history, List.of(passing("W1 rotations (list)")), null);
    String text = summary.render();
    assertTrue(summary.passed());
    assertTrue(
        text.startsWith(
            "=== chaos run 20260114-1532-7f3a  seed=0x5EED7F3A  profile=netns-smoke/A  nodes=3"
                + "  120s ===\nratis: read=LINEARIZABLE lease=off\n"),
        text);
    assertContains(
        text,
        "ops: invoked 3 | ok 2 | fail 0 | info 1 (33.3%) | keys 1 (max 3 ops/key)",
        "nemesis: isolate-leader\u00d71",
        "check W1 rotations (list)         PASS    ops=3",
        "positive control                  n/a",
        "RESULT: PASS   artifacts: target/chaos/20260114-1532-7f3a/");
    assertFalse(text.contains("re-run"), text);
  }

  @Test
  void failedCheck_printsItsAnomaliesWithOperationsAndNemesis_andTheRerunCommand() {
    CheckResult stale =
        new VersionedRegisterChecker(VersionedRegisterChecker.primaryRegister(1L)).check(history);
    assertEquals(CheckResult.Verdict.FAIL, stale.verdict());
    RunSummary summary = new RunSummary(RUN, history, List.of(stale), null);
    String text = summary.render();
    assertEquals(RunSummary.Result.FAIL, summary.result());
    assertContains(
        text,
        "check W2 primary (rev)            FAIL",
        "stale-read=1",
        "stale-read on k: a read invoked after",
        "#1 p2 n1 get-primary k -> ok {\"version\":1} rev=5");
    assertTrue(text.contains("\"f\":\"isolate-leader\""), "overlapping nemesis events:\n" + text);
    assertTrue(text.endsWith("re-run: " + RERUN + "\n"), text);
  }

  @Test
  void unknownCheck_isInconclusive_notAPass() {
    CheckResult unknown =
        CheckResult.builder("W2 primary (WGL)").unknown("key k: time budget exceeded").build();
    RunSummary summary = new RunSummary(RUN, history, List.of(passing("a"), unknown), null);
    assertEquals(RunSummary.Result.INCONCLUSIVE, summary.result());
    assertFalse(summary.passed());
    String text = summary.render();
    assertContains(
        text,
        "RESULT: INCONCLUSIVE (not a pass",
        "unknown: key k: time budget exceeded",
        "re-run: ");
  }

  @Test
  void positiveControlNotCaught_failsTheRun() {
    RunSummary blind =
        new RunSummary(RUN, history, List.of(passing("a")), passing("W6 positive control"));
    assertEquals(RunSummary.Result.FAIL, blind.result());
    assertTrue(blind.render().contains("the harness is blind"), blind.render());

    CheckResult caught =
        new VersionedRegisterChecker(VersionedRegisterChecker.primaryRegister(1L)).check(history);
    RunSummary seeing = new RunSummary(RUN, history, List.of(passing("a")), caught);
    assertEquals(RunSummary.Result.PASS, seeing.result());
  }

  @Test
  void anomaliesJson_listsEveryCheckAndItsOperations() {
    CheckResult stale =
        new VersionedRegisterChecker(VersionedRegisterChecker.primaryRegister(1L)).check(history);
    var json = JsonParser.parseString(AnomaliesJson.render(List.of(stale))).getAsJsonArray();
    var anomaly = json.get(0).getAsJsonObject().getAsJsonArray("anomalies").get(0);
    assertEquals("stale-read", anomaly.getAsJsonObject().get("kind").getAsString());
    assertEquals(2, anomaly.getAsJsonObject().getAsJsonArray("operations").size());
  }
}
