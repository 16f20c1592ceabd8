package io.keyrotor.bench.micro;

import io.grpc.Context;
import io.keyrotor.api.v1.Permission;
import io.keyrotor.api.v1.Quota;
import io.keyrotor.server.KeyrotorNode;
import io.keyrotor.server.access.Caller;
import io.keyrotor.server.access.Decision;
import io.keyrotor.server.access.DenialRecorder;
import io.keyrotor.server.access.Operation;
import io.keyrotor.server.access.PolicyAuthorizer;
import io.keyrotor.server.access.Principal;
import io.keyrotor.server.access.QuotaLimiter;
import io.keyrotor.server.access.Target;
import io.keyrotor.storage.access.AccessPolicy;
import io.keyrotor.storage.access.PolicyRules;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The authorisation check of one data-plane call (target: under 1 us): {@code PolicyAuthorizer} on
 * the leader of three real nodes in this JVM, with the development cluster's bootstrap policy,
 * deciding a Decrypt by {@code service} of a key with an encryption context: the principal from the
 * gRPC context, the key's zone and labels from the applied state, the compiled policy (patterns
 * compiled once per policy version, the principal's bindings cached).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class AuthorizationBenchmark {
  static final Map<String, String> CONTEXT = Map.of("tenant", "bench");

  /** Three nodes, a key, and an authoriser over the leader's applied state. */
  @State(Scope.Benchmark)
  public static class Cluster {
    InProcessCluster cluster;
    PolicyAuthorizer authorizer;
    Target key;

    @Setup(Level.Trial)
    public void start() throws Exception {
      cluster = new InProcessCluster();
      KeyrotorNode leader = cluster.leader();
      cluster.encryptedUnderNewKey("127.0.0.1:" + leader.apiPort(), "measured", CONTEXT);
      authorizer =
          new PolicyAuthorizer(
              leader.raft()::state,
              new DenialRecorder("bench", c -> CompletableFuture.completedFuture(null)));
      key = Target.key("measured");
    }

    @TearDown(Level.Trial)
    public void stop() throws Exception {
      cluster.close();
    }
  }

  /** The benchmark thread's gRPC context: the call's caller is {@code service}. */
  @State(Scope.Thread)
  public static class Call {
    Context previous;
    Context context;

    @Setup(Level.Trial)
    public void attach() {
      context = Context.current().withValue(Caller.PRINCIPAL, new Principal("service"));
      previous = context.attach();
    }

    @TearDown(Level.Trial)
    public void detach() {
      context.detach(previous);
    }
  }

  /**
   * A policy with one quota that covers {@code service}'s DECRYPT, and a limiter on a clock that
   * moves 1 ms per call, so every call is admitted: the cost a quota adds to an allowed call.
   */
  @State(Scope.Benchmark)
  public static class Quotas {
    AccessPolicy policy;
    QuotaLimiter limiter;
    long nanos;

    @Setup(Level.Trial)
    public void compile() {
      policy =
          AccessPolicy.compile(
              PolicyRules.bootstrap(java.util.List.of("admin")).toBuilder()
                  .setVersion(1)
                  .addQuotas(
                      Quota.newBuilder()
                          .setName("services")
                          .setPrincipal("serv*")
                          .addPermissions(Permission.PERMISSION_DECRYPT)
                          .setRequestsPerSecond(1_000)
                          .setBurst(1_000))
                  .build());
      limiter = new QuotaLimiter(() -> nanos += 1_000_000, () -> 0L);
    }
  }

  @Benchmark
  public QuotaLimiter.Refusal quotaAdmit(Quotas quotas) {
    QuotaLimiter.Refusal refusal =
        quotas.limiter.admit(quotas.policy, "service", Permission.PERMISSION_DECRYPT);
    if (refusal != null) {
      throw new IllegalStateException("refused: " + refusal);
    }
    return refusal;
  }

  @Benchmark
  public Decision decryptCheck(Cluster cluster, Call call) {
    Decision decision = cluster.authorizer.authorize(Operation.DECRYPT, cluster.key, CONTEXT);
    if (!decision.allowed()) {
      throw new IllegalStateException(decision.denialReason());
    }
    return decision;
  }
}
