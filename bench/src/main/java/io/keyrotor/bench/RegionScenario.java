package io.keyrotor.bench;

import com.google.protobuf.ByteString;
import io.keyrotor.api.chaos.v1.ChaosServiceGrpc;
import io.keyrotor.api.chaos.v1.ChaosState;
import io.keyrotor.api.chaos.v1.SetRpcDelayRequest;
import io.keyrotor.api.v1.CreateKeyRequest;
import io.keyrotor.api.v1.DecryptRequest;
import io.keyrotor.api.v1.GetKeyRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Multi-region simulation: every node of the cluster under test (leader lease on) and of the
 * lease-off cluster (ReadIndex) delays each Raft request it sends by {@link #DELAYS_MILLIS} (20 ms,
 * then 80 ms: the one-way delay between regions), through the chaos hook's {@code SetRpcDelay}
 * (Ratis's send-side code injection; the clusters run with {@code chaos.enabled=true}, which {@code
 * scripts/bench} sets only when this scenario is named). At each delay, one call in flight
 * (latency, not throughput): GetKey and Decrypt on the leader with the lease and with ReadIndex,
 * CreateKey on the leader (a write waits for a follower's acknowledgement), and Decrypt on a
 * follower (the data plane there asks the leader for a read index). Rows are named {@code
 * region-<call>-<delay>ms}; the delay is removed afterwards, also on failure.
 *
 * <p>Each delay is checked on every node before it is measured: a node that does not report it
 * (chaos mode off) fails the scenario instead of measuring an undelayed cluster.
 */
final class RegionScenario {
  static final String NAME = "region";
  static final List<Integer> DELAYS_MILLIS = List.of(20, 80);
  static final String LEASE = "keyrotor-lease";
  static final String READ_INDEX = "keyrotor-readindex";
  static final String FOLLOWER = "keyrotor-follower";

  private RegionScenario() {}

  /** The row scenario of {@code call} (getkey, decrypt, createkey) at {@code delayMillis}. */
  static String scenario(String call, int delayMillis) {
    return NAME + "-" + call + "-" + delayMillis + "ms";
  }

  static void run(BenchRun run) throws InterruptedException {
    List<KeyrotorTarget> clusters = new ArrayList<>();
    clusters.add(run.keyrotor);
    if (run.keyrotorNoLease != null) {
      clusters.add(run.keyrotorNoLease);
    }
    Setup lease = setUp(run, run.keyrotor);
    Setup readIndex = run.keyrotorNoLease == null ? null : setUp(run, run.keyrotorNoLease);
    Duration warmup = Duration.ofSeconds(1);
    Duration measure = run.seconds(3, 8);
    try {
      for (int delay : DELAYS_MILLIS) {
        for (KeyrotorTarget cluster : clusters) {
          setDelay(cluster, delay);
        }
        // Let the leases and the appenders settle at the new delay; elections under the delay
        // move leaders, so ask again before every round.
        Thread.sleep(2_000);
        run.refreshLeaders();
        for (int round = 0; round < run.rounds; round++) {
          run.progress.status(String.format("region %d ms, round %d", delay, round + 1));
          List<Arm> arms = new ArrayList<>();
          String leader = run.keyrotor.leaderAddress();
          arms.add(new Arm(scenario("getkey", delay), LEASE, lease.getKey(leader)));
          arms.add(new Arm(scenario("decrypt", delay), LEASE, lease.decrypt(leader)));
          if (readIndex != null) {
            String other = run.keyrotorNoLease.leaderAddress();
            arms.add(new Arm(scenario("getkey", delay), READ_INDEX, readIndex.getKey(other)));
            arms.add(new Arm(scenario("decrypt", delay), READ_INDEX, readIndex.decrypt(other)));
          }
          arms.add(new Arm(scenario("createkey", delay), LEASE, lease.createKey(leader)));
          arms.add(
              new Arm(scenario("decrypt", delay), FOLLOWER, lease.decrypt(follower(run.keyrotor))));
          for (Arm arm : BenchRun.order(arms, round)) {
            run.measurements.add(
                run.runner.closedLoop(
                    arm.scenario(), arm.target(), 1, round, arm.op(), warmup, measure));
          }
        }
      }
    } finally {
      for (KeyrotorTarget cluster : clusters) {
        try {
          setDelay(cluster, 0);
        } catch (RuntimeException e) {
          run.notes.add("region: could not remove the RPC delay of " + cluster.name + ": " + e);
        }
      }
    }
    run.notes.add(
        "region: every node delays each Raft request it sends by the delay (chaos SetRpcDelay);"
            + " 1 call in flight; GetKey/Decrypt on the leader, Decrypt also on a follower");
  }

  /** Sets the send delay of every node of {@code cluster} and checks each one reports it. */
  static void setDelay(KeyrotorTarget cluster, int delayMillis) {
    for (String address : cluster.addressesById().values()) {
      ChaosState state =
          BenchRun.retrying(
              () ->
                  ChaosServiceGrpc.newBlockingStub(cluster.channel(address))
                      .withDeadlineAfter(10, TimeUnit.SECONDS)
                      .setRpcDelay(
                          SetRpcDelayRequest.newBuilder().setDelayMillis(delayMillis).build()),
              5);
      if (state.getRpcDelayMillis() != delayMillis) {
        throw new IllegalStateException(
            cluster.name
                + " node at "
                + address
                + " reports an RPC delay of "
                + state.getRpcDelayMillis()
                + " ms, not "
                + delayMillis);
      }
    }
  }

  private static String follower(KeyrotorTarget cluster) {
    String leader = cluster.leaderAddress();
    return cluster.addressesById().values().stream()
        .filter(a -> !a.equals(leader))
        .sorted()
        .findFirst()
        .orElseThrow(() -> new IllegalStateException(cluster.name + " has no follower"));
  }

  /** Keys and data keys made on {@code cluster} before any delay. */
  private static Setup setUp(BenchRun run, KeyrotorTarget cluster) throws InterruptedException {
    List<String> keys = cluster.createKeys("region", "default", 4, run.progress);
    List<ByteString> wrapped = cluster.wrappedDataKeys(keys, BenchRun.CONTEXT, 64, run.progress);
    return new Setup(cluster, keys, KeyrotorTarget.decryptRequests(wrapped, BenchRun.CONTEXT));
  }

  /** One cluster's operations, each bound to one node's address. */
  private record Setup(KeyrotorTarget cluster, List<String> keys, List<DecryptRequest> decrypts) {
    Operation getKey(String address) {
      List<GetKeyRequest> requests =
          keys.stream().map(k -> GetKeyRequest.newBuilder().setName(k).build()).toList();
      return s -> cluster.keys(address).getKey(requests.get((int) (s % requests.size())));
    }

    Operation decrypt(String address) {
      return s -> cluster.keys(address).decrypt(decrypts.get((int) (s % decrypts.size())));
    }

    Operation createKey(String address) {
      AtomicLong unique = new AtomicLong();
      String prefix =
          "bench-" + cluster.runId + "-region-" + UUID.randomUUID().toString().substring(0, 6);
      return s ->
          cluster
              .keys(address)
              .createKey(
                  CreateKeyRequest.newBuilder()
                      .setName(prefix + "-" + unique.getAndIncrement())
                      .setRequestId(UUID.randomUUID().toString())
                      .build());
    }
  }
}
