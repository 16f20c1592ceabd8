package io.keyrotor.bench;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import com.google.common.util.concurrent.SettableFuture;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Leader kill under load: a client keeps 16 reads and writes in flight over every member; the
 * leader's process gets SIGKILL (as a crash would); probes then start a write and a linearizable
 * read every 10 ms on the surviving members. Recorded: the time from the kill to the first write
 * and the first read, started after the kill, that succeeded. The same for keyrotor (CreateKey,
 * GetKey) and etcd (put, linearizable range), alternating, then the killed member is restarted.
 */
final class LeaderKillScenario {
  static final String NAME = "leader-kill";
  static final long PROBE_INTERVAL_MILLIS = 10;
  static final long GIVE_UP_MILLIS = 30_000;

  private static final ScheduledExecutorService TIMER =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "bench-kill-timer");
            t.setDaemon(true);
            return t;
          });

  private LeaderKillScenario() {}

  /** A cluster whose members can be killed and restarted. */
  interface Members {
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
  }

  static void run(BenchRun run) throws Exception {
    List<Members> targets = new ArrayList<>();
    if (run.clusterDir != null) {
      targets.add(new KeyrotorMembers(run));
    }
    if (run.etcd != null && run.etcdDir != null) {
      targets.add(new EtcdMembers(run));
    }
    int rounds = run.quick ? 1 : 3;
    for (int round = 0; round < rounds; round++) {
      for (Members members : BenchRun.order(targets, round)) {
        once(run, members, round);
      }
    }
  }

  private static void once(BenchRun run, Members members, int round) throws Exception {
    run.progress.status(members.name() + ": leader kill, round " + (round + 1));
    List<String> all = new ArrayList<>(members.addresses().values());
    Operation load =
        withFailureDelay(
            sequence -> {
              String address = all.get((int) (sequence % all.size()));
              return sequence % 2 == 0
                  ? members.read(address, sequence)
                  : members.write(address, sequence);
            },
            50);
    String killed;
    long firstWrite;
    long firstRead;
    long leaderKnown;
    LoadRunner.Background background = LoadRunner.background(load, 16);
    try {
      Thread.sleep(run.quick ? 1_000 : 2_000);
      killed = members.leader();
      List<String> survivors = new ArrayList<>();
      members
          .addresses()
          .forEach(
              (id, address) -> {
                if (!id.equals(killed)) {
                  survivors.add(address);
                }
              });
      long killedAt = System.nanoTime();
      members.kill(killed);
      String gone = killed;
      Probe leader =
          new Probe(
              killedAt,
              s -> members.newLeaderKnown(survivors.get((int) (s % survivors.size())), gone));
      Probe writes =
          new Probe(killedAt, s -> members.write(survivors.get((int) (s % survivors.size())), s));
      Probe reads =
          new Probe(killedAt, s -> members.read(survivors.get((int) (s % survivors.size())), s));
      firstWrite = writes.awaitMillis();
      firstRead = reads.awaitMillis();
      leaderKnown = leader.awaitMillis();
    } finally {
      background.stop();
    }
    Measurement m = background.measurement(NAME + "-load", members.name(), 16, round);
    String detail =
        String.format(
            "killed %s (SIGKILL) under 16 reads+writes in flight; background: %,d ok, errors %s",
            killed, m.successes(), m.errors());
    run.observe(NAME, members.name(), "first_write_ms", (double) firstWrite, "ms", round, detail);
    run.observe(NAME, members.name(), "first_read_ms", (double) firstRead, "ms", round, detail);
    run.observe(
        NAME,
        members.name(),
        "new_leader_known_ms",
        (double) leaderKnown,
        "ms",
        round,
        "a survivor reports a new leader (keyrotor: GetNodeStatus role LEADER; etcd: Status)");
    run.progress.status(members.name() + ": restarting " + killed);
    members.restart(killed);
  }

  /** On failure, completes only after {@code millis} (a client's retry pause), not at once. */
  static Operation withFailureDelay(Operation op, long millis) {
    return sequence -> {
      SettableFuture<Object> out = SettableFuture.create();
      ListenableFuture<?> call;
      try {
        call = op.start(sequence);
      } catch (RuntimeException e) {
        call = Futures.immediateFailedFuture(e);
      }
      Futures.addCallback(
          call,
          new FutureCallback<Object>() {
            @Override
            public void onSuccess(Object result) {
              out.set(result);
            }

            @Override
            public void onFailure(Throwable t) {
              // Nothing to wait for: the task only completes out, which cannot fail.
              ScheduledFuture<?> unused =
                  TIMER.schedule(() -> out.setException(t), millis, TimeUnit.MILLISECONDS);
            }
          },
          MoreExecutors.directExecutor());
      return out;
    };
  }

  /**
   * Starts an attempt every {@link #PROBE_INTERVAL_MILLIS}; the first one that succeeds gives the
   * time from {@code since} to its completion.
   */
  private static final class Probe {
    private final long since;
    private final AtomicLong firstSuccess = new AtomicLong(-1);
    private final SettableFuture<Long> done = SettableFuture.create();
    private final ScheduledFuture<?> ticker;

    Probe(long since, Operation attempt) {
      this.since = since;
      AtomicLong sequence = new AtomicLong();
      this.ticker =
          TIMER.scheduleAtFixedRate(
              () -> {
                if (done.isDone()) {
                  return;
                }
                ListenableFuture<?> call;
                try {
                  call = attempt.start(sequence.getAndIncrement());
                } catch (RuntimeException e) {
                  return;
                }
                call.addListener(
                    () -> {
                      try {
                        call.get();
                        long now = System.nanoTime();
                        if (firstSuccess.compareAndSet(-1, now)) {
                          done.set((now - this.since) / 1_000_000);
                        }
                      } catch (Exception e) {
                        // not yet
                      }
                    },
                    MoreExecutors.directExecutor());
              },
              0,
              PROBE_INTERVAL_MILLIS,
              TimeUnit.MILLISECONDS);
    }

    long awaitMillis() throws InterruptedException {
      try {
        return done.get(GIVE_UP_MILLIS, TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
        return GIVE_UP_MILLIS; // no success at all: reported as the give-up time
      } finally {
        ticker.cancel(false);
      }
    }
  }

  /** Kills by pid after checking the process's command line names the member. */
  static void killPid(Path pidFile, String mustContain) throws IOException {
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

  static void runQuietly(List<String> command) throws IOException, InterruptedException {
    Process process =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    if (!process.waitFor(120, TimeUnit.SECONDS) || process.exitValue() != 0) {
      throw new IOException("failed: " + String.join(" ", command));
    }
  }

  private static final class KeyrotorMembers implements Members {
    private final BenchRun run;
    private final Targets.Keyrotor cluster;
    private final String readKey;
    private final String prefix = "kill-" + UUID.randomUUID().toString().substring(0, 8) + "-";

    KeyrotorMembers(BenchRun run) throws InterruptedException {
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
      long deadline = System.currentTimeMillis() + 60_000;
      while (true) {
        try {
          AdminServiceGrpc.newBlockingStub(cluster.channel(address))
              .withDeadlineAfter(2, TimeUnit.SECONDS)
              .getNodeStatus(GetNodeStatusRequest.getDefaultInstance());
          break;
        } catch (RuntimeException e) {
          if (System.currentTimeMillis() > deadline) {
            throw new IOException("restarted node " + member + " does not answer", e);
          }
          Thread.sleep(200);
        }
      }
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

  private static final class EtcdMembers implements Members {
    private final BenchRun run;
    private final Targets.Etcd etcd;
    private final ByteString readKey;
    private final String prefix = "kill-" + UUID.randomUUID().toString().substring(0, 8) + "-";

    EtcdMembers(BenchRun run) {
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
      long deadline = System.currentTimeMillis() + 60_000;
      while (true) {
        try {
          MaintenanceGrpc.newBlockingStub(etcd.channel(address))
              .withDeadlineAfter(2, TimeUnit.SECONDS)
              .status(StatusRequest.getDefaultInstance());
          break;
        } catch (RuntimeException e) {
          if (System.currentTimeMillis() > deadline) {
            throw new IOException("restarted etcd member " + member + " does not answer", e);
          }
          Thread.sleep(200);
        }
      }
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
                  .setValue(Targets.Etcd.value(150))
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
}
