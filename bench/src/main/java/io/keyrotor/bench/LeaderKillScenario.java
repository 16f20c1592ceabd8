package io.keyrotor.bench;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import com.google.common.util.concurrent.SettableFuture;
import java.util.ArrayList;
import java.util.List;
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

  static void run(BenchRun run) throws Exception {
    List<KillableCluster> targets = new ArrayList<>();
    if (run.clusterDir != null) {
      targets.add(new KillableCluster.Keyrotor(run));
    }
    if (run.etcd != null && run.etcdDir != null) {
      targets.add(new KillableCluster.Etcd(run));
    }
    int rounds = run.rounds;
    for (int round = 0; round < rounds; round++) {
      for (KillableCluster members : BenchRun.order(targets, round)) {
        once(run, members, round);
      }
    }
  }

  private static void once(BenchRun run, KillableCluster members, int round) throws Exception {
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
}
