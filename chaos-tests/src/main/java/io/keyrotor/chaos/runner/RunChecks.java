package io.keyrotor.chaos.runner;

import io.keyrotor.chaos.checker.ActivationTimestampChecker;
import io.keyrotor.chaos.checker.AppendOnlyListChecker;
import io.keyrotor.chaos.checker.CheckResult;
import io.keyrotor.chaos.checker.ConvergenceChecker;
import io.keyrotor.chaos.checker.DisableThenUseChecker;
import io.keyrotor.chaos.checker.EncryptDecryptChecker;
import io.keyrotor.chaos.checker.LinearizabilityCheck;
import io.keyrotor.chaos.checker.PrimaryRegisterWorkload;
import io.keyrotor.chaos.checker.ScheduledRotationChecker;
import io.keyrotor.chaos.checker.VersionedRegisterChecker;
import io.keyrotor.chaos.checker.linearizability.CasRegisterModel;
import io.keyrotor.chaos.checker.linearizability.LinearizabilityChecker;
import io.keyrotor.chaos.history.Event;
import io.keyrotor.chaos.history.History;
import io.keyrotor.chaos.history.Operation;
import io.keyrotor.chaos.workload.Workload;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** The checks of a run, chosen by which workloads ran (one list for every tier). */
public final class RunChecks {
  /** The operations that write, for the availability check. */
  private static final Set<String> WRITES =
      Set.of("rotate", "activate", "disable", "enable", "encrypt");

  private RunChecks() {}

  /**
   * Runs the checkers of the {@code active} workloads over {@code history}, plus convergence on
   * {@code nodes} (when {@code convergence}) and a loose availability check.
   */
  public static List<CheckResult> check(
      History history,
      Set<String> nodes,
      Set<Workload> active,
      boolean scheduledRotationSeen,
      boolean convergence) {
    List<CheckResult> checks = new ArrayList<>();
    if (active.contains(Workload.W1)) {
      checks.add(AppendOnlyListChecker.rotations().check(only(history, Workload.W1)));
    }
    if (active.contains(Workload.W2)) {
      History w2 = only(history, Workload.W2);
      checks.add(
          new VersionedRegisterChecker(VersionedRegisterChecker.primaryRegister(1L)).check(w2));
      checks.add(
          LinearizabilityCheck.check(
              "W2 primary (WGL)",
              LinearizabilityChecker.withDefaults(new CasRegisterModel(1L)),
              PrimaryRegisterWorkload.operations(w2, false),
              history.nemesisEvents()));
    }
    if (active.contains(Workload.W3)) {
      checks.add(
          new EncryptDecryptChecker(nodes, EncryptDecryptChecker.DEFAULT_RETRIABLE)
              .check(only(history, Workload.W3)));
    }
    if (active.contains(Workload.W4)) {
      checks.add(new ActivationTimestampChecker().check(history));
    }
    if (active.contains(Workload.W5) && scheduledRotationSeen) {
      checks.add(new ScheduledRotationChecker().check(only(history, Workload.W5)));
    }
    if (active.contains(Workload.W6)) {
      checks.add(new DisableThenUseChecker().check(only(history, Workload.W6)));
    }
    if (convergence) {
      checks.add(new ConvergenceChecker(nodes).check(history));
    }
    checks.add(availability(history));
    return checks;
  }

  /**
   * A cluster that never does anything passes every safety check: at least one write must have been
   * acknowledged, and the final reads must have succeeded somewhere.
   */
  static CheckResult availability(History history) {
    CheckResult.Builder result = CheckResult.builder("availability (loose)");
    long okWrites = history.operations(op -> op.isOk() && WRITES.contains(op.f())).size();
    long okReads = history.operations(Operation::isOk).size() - okWrites;
    result.count("ok-writes", okWrites);
    result.count("ok-reads", okReads);
    boolean anyWriteInvoked = !history.operations(op -> WRITES.contains(op.f())).isEmpty();
    // A read-only mix (W4 or W5 alone) has nothing to acknowledge: then reads must succeed.
    if (anyWriteInvoked ? okWrites == 0 : okReads == 0) {
      result.anomaly(
          io.keyrotor.chaos.checker.Anomaly.of(
              "unavailable",
              null,
              anyWriteInvoked
                  ? "no write was acknowledged during the whole run"
                  : "no read succeeded during the whole run",
              List.of(),
              history.nemesisEvents()));
    }
    return result.build();
  }

  /** The history restricted to one workload's keys (nemesis and keyless events kept). */
  public static History only(History history, Workload workload) {
    List<Event> events = new ArrayList<>();
    for (Event e : history.events()) {
      if (e.keyOrNull() == null || Workload.ofKey(e.keyOrNull()) == workload) {
        events.add(e);
      }
    }
    return History.of(events);
  }
}
