package io.keyrotor.bench;

import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import com.google.protobuf.ByteString;
import io.keyrotor.api.v1.AdminServiceGrpc;
import io.keyrotor.api.v1.CreateKeyRequest;
import io.keyrotor.api.v1.GetKeyRequest;
import io.keyrotor.api.v1.GetNodeStatusRequest;
import io.keyrotor.bench.etcd.MaintenanceGrpc;
import io.keyrotor.bench.etcd.PutRequest;
import io.keyrotor.bench.etcd.RangeRequest;
import io.keyrotor.bench.etcd.StatusRequest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A cluster whose members {@link LeaderKillScenario} kills and restarts: keyrotor's nodes ({@link
 * Keyrotor}) or etcd's members ({@link Etcd}). A member is killed by the pid its start wrote, with
 * SIGKILL as a crash would, once its command line shows it is that member.
 */
interface KillableCluster {
  String name();

  /** The id of the member that leads now. */
  String leader();

  /** Member id -> client address. */
  Map<String, String> addresses();

  void kill(String member) throws IOException;

  void restart(String member) throws IOException, InterruptedException;

  /** A write on {@code address} with a short deadline. */
  ListenableFuture<?> write(String address, long sequence);

  /** A linearizable read on {@code address} with a short deadline. */
  ListenableFuture<?> read(String address, long sequence);

  /**
   * Fails unless the member at {@code address} knows of a leader other than {@code killed} (an
   * election has completed, as far as that member can tell).
   */
  ListenableFuture<?> newLeaderKnown(String address, String killed);

  /** keyrotor's nodes, restarted with {@code scripts/cluster start}. */
  final class Keyrotor implements KillableCluster {
    private final BenchRun run;
    private final KeyrotorTarget cluster;
    private final String readKey;
    private final String prefix = "kill-" + UUID.randomUUID().toString().substring(0, 8) + "-";

    Keyrotor(BenchRun run) throws InterruptedException {
      this.run = run;
      this.cluster = run.keyrotor;
      this.readKey = cluster.createKeys("kill-read", "default", 1, run.progress).get(0);
    }

    @Override
    public String name() {
      return "keyrotor";
    }

    @Override
    public String leader() {
      cluster.refreshLeader(30_000);
      return cluster.leaderId();
    }

    @Override
    public Map<String, String> addresses() {
      return cluster.addressesById();
    }

    @Override
    public void kill(String member) throws IOException {
      Path node = run.clusterDir.resolve(member);
      killPid(node.resolve("pid"), node.resolve("node.properties").toString());
    }

    @Override
    public void restart(String member) throws IOException, InterruptedException {
      runQuietly(
          List.of(
              run.clusterScript.toString(), "start", member, "--dir", run.clusterDir.toString()));
      String address = cluster.addressesById().get(member);
      cluster.resetChannel(address);
      awaitAnswer(
          "restarted node " + member,
          () ->
              AdminServiceGrpc.newBlockingStub(cluster.channel(address))
                  .withDeadlineAfter(2, TimeUnit.SECONDS)
                  .getNodeStatus(GetNodeStatusRequest.getDefaultInstance()));
      cluster.refreshLeader(30_000);
      Thread.sleep(1_000); // let it catch up before the next measurement
    }

    @Override
    public ListenableFuture<?> write(String address, long sequence) {
      return cluster
          .keys(address)
          .withDeadlineAfter(2, TimeUnit.SECONDS)
          .createKey(
              CreateKeyRequest.newBuilder()
                  .setName("bench-" + cluster.runId + "-" + prefix + UUID.randomUUID())
                  .setRequestId(UUID.randomUUID().toString())
                  .build());
    }

    @Override
    public ListenableFuture<?> newLeaderKnown(String address, String killed) {
      ListenableFuture<io.keyrotor.api.v1.NodeStatus> status =
          AdminServiceGrpc.newFutureStub(cluster.channel(address))
              .withDeadlineAfter(1, TimeUnit.SECONDS)
              .getNodeStatus(GetNodeStatusRequest.getDefaultInstance());
      return Futures.transform(
          status,
          s -> {
            if (s.getRole() != io.keyrotor.api.v1.NodeRole.NODE_ROLE_LEADER) {
              throw new IllegalStateException("not the leader");
            }
            return s;
          },
          MoreExecutors.directExecutor());
    }

    @Override
    public ListenableFuture<?> read(String address, long sequence) {
      return cluster
          .keys(address)
          .withDeadlineAfter(2, TimeUnit.SECONDS)
          .getKey(GetKeyRequest.newBuilder().setName(readKey).build());
    }
  }

  /** etcd's members m1..m3, restarted with their start files. */
  final class Etcd implements KillableCluster {
    private final BenchRun run;
    private final EtcdTarget etcd;
    private final ByteString readKey;
    private final String prefix = "kill-" + UUID.randomUUID().toString().substring(0, 8) + "-";

    Etcd(BenchRun run) {
      this.run = run;
      this.etcd = run.etcd;
      this.readKey = etcd.putReadKeys(1, 64).get(0);
    }

    @Override
    public String name() {
      return "etcd";
    }

    @Override
    public String leader() {
      etcd.refreshLeader(30_000);
      String leader = etcd.leaderAddress();
      return "m" + (etcd.endpoints.indexOf(leader) + 1);
    }

    @Override
    public Map<String, String> addresses() {
      Map<String, String> out = new java.util.LinkedHashMap<>();
      for (int i = 0; i < etcd.endpoints.size(); i++) {
        out.put("m" + (i + 1), etcd.endpoints.get(i));
      }
      return out;
    }

    @Override
    public void kill(String member) throws IOException {
      killedId =
          MaintenanceGrpc.newBlockingStub(etcd.channel(addresses().get(member)))
              .withDeadlineAfter(2, TimeUnit.SECONDS)
              .status(StatusRequest.getDefaultInstance())
              .getHeader()
              .getMemberId();
      killPid(run.etcdDir.resolve(member + ".pid"), "--name " + member + " ");
    }

    @Override
    public void restart(String member) throws IOException, InterruptedException {
      runQuietly(List.of("bash", run.etcdDir.resolve(member + ".start").toString()));
      String address = addresses().get(member);
      etcd.resetChannel(address);
      awaitAnswer(
          "restarted etcd member " + member,
          () ->
              MaintenanceGrpc.newBlockingStub(etcd.channel(address))
                  .withDeadlineAfter(2, TimeUnit.SECONDS)
                  .status(StatusRequest.getDefaultInstance()));
      etcd.refreshLeader(30_000);
      Thread.sleep(1_000);
    }

    @Override
    public ListenableFuture<?> write(String address, long sequence) {
      return etcd.kv(address)
          .withDeadlineAfter(2, TimeUnit.SECONDS)
          .put(
              PutRequest.newBuilder()
                  .setKey(ByteString.copyFromUtf8("bench-" + prefix + UUID.randomUUID()))
                  .setValue(EtcdTarget.value(150))
                  .build());
    }

    @Override
    public ListenableFuture<?> newLeaderKnown(String address, String killed) {
      String killedAddress = addresses().get(killed);
      ListenableFuture<io.keyrotor.bench.etcd.StatusResponse> status =
          MaintenanceGrpc.newFutureStub(etcd.channel(address))
              .withDeadlineAfter(1, TimeUnit.SECONDS)
              .status(StatusRequest.getDefaultInstance());
      return Futures.transform(
          status,
          s -> {
            // A member reports the leader's id; the killed member's id was learnt before the kill.
            if (s.getLeader() == 0 || s.getLeader() == killedId) {
              throw new IllegalStateException("no new leader yet (" + killedAddress + " was it)");
            }
            return s;
          },
          MoreExecutors.directExecutor());
    }

    private volatile long killedId;

    @Override
    public ListenableFuture<?> read(String address, long sequence) {
      return etcd.kv(address)
          .withDeadlineAfter(2, TimeUnit.SECONDS)
          .range(RangeRequest.newBuilder().setKey(readKey).build());
    }
  }

  /** Kills by pid after checking the process's command line names the member. */
  private static void killPid(Path pidFile, String mustContain) throws IOException {
    long pid = Long.parseLong(Files.readString(pidFile, StandardCharsets.UTF_8).trim());
    ProcessHandle process =
        ProcessHandle.of(pid)
            .orElseThrow(() -> new IOException("process " + pid + " from " + pidFile + " is gone"));
    String cmdline =
        new String(
                Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")),
                StandardCharsets.UTF_8)
            .replace('\0', ' ');
    if (!cmdline.contains(mustContain)) {
      throw new IOException("process " + pid + " is not " + mustContain + ": " + cmdline);
    }
    process.destroyForcibly(); // SIGKILL
    try {
      process.onExit().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IOException("process " + pid + " did not exit after SIGKILL", e);
    }
  }

  private static void runQuietly(List<String> command) throws IOException, InterruptedException {
    Process process =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    if (!process.waitFor(120, TimeUnit.SECONDS) || process.exitValue() != 0) {
      throw new IOException("failed: " + String.join(" ", command));
    }
  }

  /**
   * Calls {@code ping} every 200 ms until it succeeds; after a minute {@code what} "does not
   * answer".
   */
  private static void awaitAnswer(String what, Runnable ping)
      throws IOException, InterruptedException {
    long deadline = System.currentTimeMillis() + 60_000;
    while (true) {
      try {
        ping.run();
        return;
      } catch (RuntimeException e) {
        if (System.currentTimeMillis() > deadline) {
          throw new IOException(what + " does not answer", e);
        }
        Thread.sleep(200);
      }
    }
  }
}
