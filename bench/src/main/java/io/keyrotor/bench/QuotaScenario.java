package io.keyrotor.bench;

import io.keyrotor.api.v1.AdminServiceGrpc;
import io.keyrotor.api.v1.AuthorizationPolicy;
import io.keyrotor.api.v1.GetPolicyRequest;
import io.keyrotor.api.v1.Permission;
import io.keyrotor.api.v1.Quota;
import io.keyrotor.api.v1.SetPolicyRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * What per-principal quotas cost (issue 13's "quota overhead"): Decrypt and GenerateDataKey at 64
 * in flight on the cluster under test with quotas in its authorisation policy, generous enough
 * never to throttle (every principal its own buckets: one over every call, one over the data plane,
 * each 1,000,000 per second with a burst of 1,000,000), against the same calls with no quota, in
 * alternating blocks on the same cluster (the policy is switched through SetPolicy between blocks
 * and restored at the end), after one unmeasured block of each call. The rounds are rounded up to
 * an even number, so each arm goes first as often as the other (with one round the first arm ran on
 * a colder JIT and always lost). Target: at least 0.95x. Runs only when named ({@code scripts/bench
 * --scenarios quota}).
 */
final class QuotaScenario {
  static final String NAME = "quota";
  static final String ON = "keyrotor-quotas";
  static final String OFF = "keyrotor-no-quotas";

  private QuotaScenario() {}

  static void run(BenchRun run) throws InterruptedException {
    KeyrotorTarget cluster = run.keyrotor;
    DataPlaneScenario.Material material =
        DataPlaneScenario.material(cluster, run, run.quick ? 1000 : 4096);
    AuthorizationPolicy original = admin(cluster).getPolicy(GetPolicyRequest.getDefaultInstance());
    AuthorizationPolicy without = original.toBuilder().clearQuotas().build();
    AuthorizationPolicy with = without.toBuilder().addAllQuotas(generousQuotas()).build();
    run.notes.add(
        "quota: the same Decrypt and GenerateDataKey calls with "
            + with.getQuotasCount()
            + " generous per-principal quotas in the policy and with none, alternating blocks on"
            + " the cluster under test");
    List<Double> ratios = new ArrayList<>();
    int rounds = BenchRun.evenRounds(run.rounds);
    try {
      for (String call : List.of("decrypt", "gdk")) {
        Operation op =
            call.equals("decrypt")
                ? cluster.decrypt(material.decrypts())
                : cluster.generateDataKey(material.keys(), BenchRun.CONTEXT);
        // An unmeasured block first: the arm that goes first must not pay the JIT's warm-up.
        var unusedWarmUp =
            run.runner.closedLoop(NAME + "-" + call, "warm-up", DataPlaneScenario.LOAD, 0, op);
        for (int round = 0; round < rounds; round++) {
          double withQuotas = Double.NaN;
          double withoutQuotas = Double.NaN;
          for (String arm : BenchRun.order(List.of(ON, OFF), round)) {
            setPolicy(cluster, arm.equals(ON) ? with : without);
            Measurement m =
                run.runner.closedLoop(NAME + "-" + call, arm, DataPlaneScenario.LOAD, round, op);
            run.measurements.add(m);
            if (m.errorCount() > 0) {
              run.notes.add("quota: " + arm + " " + call + " had failed calls: " + m.errors());
            }
            if (arm.equals(ON)) {
              withQuotas = m.throughput();
            } else {
              withoutQuotas = m.throughput();
            }
          }
          double ratio = withQuotas / withoutQuotas;
          ratios.add(ratio);
          run.observe(
              NAME,
              ON,
              call + "_throughput_ratio",
              ratio,
              "x",
              round,
              "ops/s with quotas over ops/s without, same round");
        }
      }
    } finally {
      setPolicy(cluster, original);
    }
    run.observe(
        NAME,
        ON,
        "throughput_ratio_median",
        Stats.median(ratios),
        "x",
        0,
        "median over calls and rounds; target >= 0.95x");
  }

  /** Quotas every principal matches, far above what this machine can send. */
  static List<Quota> generousQuotas() {
    return List.of(
        Quota.newBuilder()
            .setName("bench-every-call")
            .setPrincipal("*")
            .setRequestsPerSecond(1_000_000)
            .setBurst(1_000_000)
            .build(),
        Quota.newBuilder()
            .setName("bench-data-plane")
            .setPrincipal("*")
            .addPermissions(Permission.PERMISSION_ENCRYPT)
            .addPermissions(Permission.PERMISSION_DECRYPT)
            .setRequestsPerSecond(1_000_000)
            .setBurst(1_000_000)
            .build());
  }

  /** Replaces the policy (compare-and-set on the current version), waiting for the answer. */
  private static void setPolicy(KeyrotorTarget cluster, AuthorizationPolicy policy) {
    BenchRun.retrying(
        () -> {
          long current =
              admin(cluster).getPolicy(GetPolicyRequest.getDefaultInstance()).getVersion();
          return admin(cluster)
              .setPolicy(
                  SetPolicyRequest.newBuilder()
                      .setPolicy(policy.toBuilder().clearVersion().clearSetBy())
                      .setExpectedVersion(current)
                      .setRequestId(UUID.randomUUID().toString())
                      .build());
        },
        5);
  }

  private static AdminServiceGrpc.AdminServiceBlockingStub admin(KeyrotorTarget cluster) {
    return AdminServiceGrpc.newBlockingStub(cluster.channel(cluster.leaderAddress()))
        .withDeadlineAfter(30, TimeUnit.SECONDS);
  }
}
