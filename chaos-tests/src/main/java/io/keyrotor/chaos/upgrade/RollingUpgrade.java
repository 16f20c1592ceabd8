package io.keyrotor.chaos.upgrade;

import io.grpc.ChannelCredentials;
import io.grpc.StatusRuntimeException;
import io.keyrotor.api.v1.AdminServiceGrpc;
import io.keyrotor.api.v1.GetNodeStatusRequest;
import io.keyrotor.api.v1.NodeStatus;
import io.keyrotor.chaos.workload.GrpcNodeApi;
import io.keyrotor.chaos.workload.NodeApi;
import io.keyrotor.chaos.workload.OpError;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * One rolling upgrade: every node starts on the old jar; under write load each node in turn is
 * stopped and started again from the new jar with the configuration the old release wrote. After
 * each step the run checks that the cluster version has not risen while an old node votes, that
 * every node is still running, and (with the load held) that every node reports the same state
 * digest at the same applied index. After the last step the version must rise to the new jar's, and
 * every acknowledged key must decrypt its ciphertext, with the same plaintext, on every node.
 */
final class RollingUpgrade {
  /** Three times the nodes' default cluster version check interval (upgrade.check-interval). */
  static final Duration HOLD_AFTER_STEP = Duration.ofSeconds(15);

  private static final Duration WAIT = Duration.ofMinutes(5);

  /** How long the first write may take: laying out and starting JVMs on a loaded machine. */
  private static final Duration FIRST_WRITE = Duration.ofMinutes(10);

  private final UpgradeNodes nodes;
  private final ChannelCredentials credentials;
  private final Map<String, GrpcNodeApi> apis = new ConcurrentHashMap<>();
  private final List<String> checks = new ArrayList<>();
  private boolean passed = true;

  RollingUpgrade(UpgradeNodes nodes, ChannelCredentials credentials) {
    this.nodes = nodes;
    this.credentials = credentials;
  }

  /** The check lines, {@code PASS ...} or {@code FAIL ...}, in the order they ran. */
  List<String> checks() {
    return List.copyOf(checks);
  }

  boolean passed() {
    return passed;
  }

  /** Runs the upgrade from {@code oldJar} to {@code newJar}; the checks say how it went. */
  void run(Path oldJar, Path newJar) throws Exception {
    for (String id : nodes.ids()) {
      nodes.start(id, oldJar);
      connect(id);
    }
    check(
        awaitTrue(() -> firstWrite("upgrade-probe"), FIRST_WRITE), "the old cluster serves writes");
    for (String id : nodes.ids()) {
      check(
          awaitTrue(
              () ->
                  status(id)
                      .map(s -> s.getSupportedClusterVersion() == 0 && s.getAppliedIndex() > 0)
                      .orElse(false),
              WAIT),
          id + " runs a binary from before cluster versions (reports no supported version)");
    }
    UpgradeLoad load = new UpgradeLoad(nodes.ids(), id -> nodes.alive(id) ? apis.get(id) : null);
    Thread writer = new Thread(load, "upgrade-load");
    writer.setDaemon(true);
    writer.start();
    try {
      check(awaitTrue(() -> load.acknowledgedCount() >= 10, WAIT), "writes acknowledged before");
      List<String> ids = nodes.ids();
      for (int i = 0; i < ids.size(); i++) {
        upgradeOne(ids.get(i), newJar, load, ids.subList(i + 1, ids.size()));
      }
      check(
          awaitTrue(() -> ids.stream().allMatch(id -> activeVersion(id) >= 2), WAIT),
          "the cluster version rose to 2 or later on every node once every voter ran the new jar");
      int before = load.acknowledgedCount();
      check(
          awaitTrue(() -> load.acknowledgedCount() >= before + 10, WAIT),
          "writes acknowledged at the raised version");
    } finally {
      load.stop();
      writer.join(TimeUnit.SECONDS.toMillis(60));
    }
    digestsEqual("after the upgrade", load);
    decryptEverywhere(load.acknowledged());
    checks.add(
        "INFO acknowledged writes "
            + load.acknowledgedCount()
            + ", failed or indeterminate calls retried "
            + load.failedCalls());
  }

  private void upgradeOne(String id, Path newJar, UpgradeLoad load, List<String> old)
      throws Exception {
    int acknowledged = load.acknowledgedCount();
    int exit = nodes.stop(id);
    checks.add(
        "INFO " + Instant.now() + " " + id + " stopped (exit " + exit + "), starting new jar");
    nodes.start(id, newJar);
    check(
        awaitTrue(
            () -> status(id).map(s -> s.getSupportedClusterVersion() >= 2).orElse(false), WAIT),
        id + " answers on the new jar (supports version 2 or later)");
    check(
        awaitTrue(() -> load.acknowledgedCount() >= acknowledged + 5, WAIT),
        "writes acknowledged after " + id + " restarted");
    sleep(HOLD_AFTER_STEP);
    for (String other : nodes.ids()) {
      check(nodes.alive(other), other + " is running after " + id + " moved to the new jar");
    }
    if (!old.isEmpty()) {
      List<String> upgraded = nodes.ids().stream().filter(n -> !old.contains(n)).toList();
      check(
          upgraded.stream().allMatch(n -> activeVersion(n) == 1),
          "cluster version still 1 on " + upgraded + " while " + old + " run the old jar");
    }
    digestsEqual("after " + id + " moved to the new jar", load);
    load.resume();
  }

  /** Holds the load and waits for every node to report one applied index; compares digests. */
  private void digestsEqual(String when, UpgradeLoad load) {
    load.hold();
    Map<String, NodeStatus> seen = new LinkedHashMap<>();
    boolean equal =
        awaitTrue(
            () -> {
              seen.clear();
              for (String id : nodes.ids()) {
                status(id).ifPresent(s -> seen.put(id, s));
              }
              return seen.size() == nodes.ids().size()
                  && seen.values().stream().map(NodeStatus::getAppliedIndex).distinct().count() == 1
                  && seen.values().stream().map(NodeStatus::getStateDigest).distinct().count() == 1;
            },
            Duration.ofSeconds(90));
    StringBuilder detail = new StringBuilder();
    seen.forEach(
        (id, s) ->
            detail
                .append(' ')
                .append(id)
                .append('@')
                .append(s.getAppliedIndex())
                .append('=')
                .append(s.getStateDigest(), 0, Math.min(12, s.getStateDigest().length())));
    check(equal, "digests equal on every node " + when + ":" + detail);
  }

  private void decryptEverywhere(Map<String, byte[]> acknowledged) {
    for (String id : nodes.ids()) {
      List<String> wrong = new ArrayList<>();
      for (Map.Entry<String, byte[]> entry : acknowledged.entrySet()) {
        try {
          NodeApi.Decrypted decrypted = apis.get(id).decrypt(entry.getValue());
          if (!decrypted.keyName().equals(entry.getKey())
              || !Arrays.equals(
                  decrypted.plaintext().toByteArray(), UpgradeLoad.payload(entry.getKey()))) {
            wrong.add(entry.getKey() + " (other plaintext)");
          }
        } catch (OpError e) {
          wrong.add(entry.getKey() + " (" + e.code() + ")");
        }
      }
      check(
          wrong.isEmpty(),
          "every acknowledged key ("
              + acknowledged.size()
              + ") decrypts its ciphertext on "
              + id
              + (wrong.isEmpty() ? "" : ": " + wrong.subList(0, Math.min(5, wrong.size()))));
    }
  }

  private boolean firstWrite(String name) {
    for (String id : nodes.ids()) {
      try {
        apis.get(id).createKey(name, 0, name);
        return true;
      } catch (OpError e) {
        if (e.code().equals("ALREADY_EXISTS")) {
          return true;
        }
      }
    }
    return false;
  }

  private void connect(String id) {
    apis.computeIfAbsent(
        id,
        n ->
            new GrpcNodeApi(
                n,
                nodes.apiAddress(n),
                credentials,
                Duration.ofSeconds(10),
                Duration.ofSeconds(5)));
  }

  private Optional<NodeStatus> status(String id) {
    try {
      return Optional.of(
          AdminServiceGrpc.newBlockingStub(apis.get(id).channel())
              .withDeadlineAfter(10, TimeUnit.SECONDS)
              .getNodeStatus(GetNodeStatusRequest.getDefaultInstance()));
    } catch (StatusRuntimeException e) {
      return Optional.empty();
    }
  }

  private int activeVersion(String id) {
    return status(id).map(NodeStatus::getActiveClusterVersion).orElse(-1);
  }

  private void check(boolean ok, String what) {
    checks.add((ok ? "PASS " : "FAIL ") + what);
    passed &= ok;
    System.out.println((ok ? "PASS " : "FAIL ") + what);
  }

  private static boolean awaitTrue(BooleanSupplier condition, Duration limit) {
    long deadline = System.nanoTime() + limit.toNanos();
    while (System.nanoTime() < deadline) {
      if (condition.getAsBoolean()) {
        return true;
      }
      sleep(Duration.ofMillis(250));
    }
    return condition.getAsBoolean();
  }

  private static void sleep(Duration duration) {
    try {
      Thread.sleep(duration.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /** Closes every node's channel. */
  void closeChannels() {
    for (GrpcNodeApi api : apis.values()) {
      api.channel().shutdownNow();
    }
  }
}
