package io.keyrotor.chaos.workload;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.keyrotor.chaos.history.HistoryRecorder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Runs the workloads: worker threads, each pinned to one node (worker w to node w mod N), pick a
 * workload by weight and send one operation at a time to their node, recording invoke and
 * completion in the history (README "Workload conventions"). Keys are replaced by fresh ones after
 * {@code opsPerKey} operations, so every key's history stays small enough for the linearizability
 * checker; all workers share a workload's current key (at most {@code workers} processes per key).
 *
 * <p>Error classification ({@link OpError}): a write is {@code fail} only when the server
 * guarantees it was not applied ({@link OpError#definite()}), otherwise {@code info} and the worker
 * continues under a new process id; a failed read had no effect and is a {@code fail}.
 */
public final class Workloads {
  /**
   * What to run.
   *
   * @param runId names the keys ({@code w1-<runId>-<n>})
   * @param workers worker threads (about 2 per node)
   * @param opsPerSecond the total target rate
   * @param opsPerKey operations on a key before the workload moves to a fresh key
   * @param workloads the workloads to run
   * @param scheduledPeriodMillis W5 keys' rotation period
   * @param seed the generator seed
   */
  public record Config(
      String runId,
      int workers,
      double opsPerSecond,
      int opsPerKey,
      Set<Workload> workloads,
      long scheduledPeriodMillis,
      long seed) {}

  /** A ciphertext a W3/W6 encrypt returned. */
  private record Sealed(
      String key, String ciphertext, String plaintext, int version, String node) {}

  private final Config config;
  private final List<NodeApi> nodes;
  private final HistoryRecorder recorder;
  private final Map<Workload, KeySlot> slots = new EnumMap<>(Workload.class);
  private final Map<String, List<Sealed>> sealed = new ConcurrentHashMap<>();
  private final AtomicLong counter = new AtomicLong();
  private final AtomicBoolean stop = new AtomicBoolean();
  private final Set<Workload> active = EnumSet.noneOf(Workload.class);
  private final Map<Workload, String> skipped = new EnumMap<>(Workload.class);
  private volatile boolean scheduledRotationSeen;

  public Workloads(Config config, List<NodeApi> nodes, HistoryRecorder recorder) {
    this.config = config;
    this.nodes = List.copyOf(nodes);
    this.recorder = recorder;
  }

  /** One workload's current key and the keys it used before. */
  private final class KeySlot {
    final Workload workload;
    final List<String> all = new CopyOnWriteArrayList<>();
    final AtomicInteger ops = new AtomicInteger();
    final AtomicBoolean rolling = new AtomicBoolean();
    volatile String current;
    int generation;

    KeySlot(Workload workload) {
      this.workload = workload;
    }

    int limit() {
      return workload == Workload.W5 ? Math.max(20, config.opsPerKey() / 4) : config.opsPerKey();
    }

    String acquire(SplittableRandom random) {
      if (ops.incrementAndGet() >= limit() && rolling.compareAndSet(false, true)) {
        try {
          String next = keyName(workload, generation + 1);
          if (createKey(next, workload, random, Duration.ofSeconds(20))) {
            generation++;
            current = next;
            all.add(next);
            ops.set(0);
          }
        } finally {
          rolling.set(false);
        }
      }
      return current;
    }
  }

  private String keyName(Workload workload, int generation) {
    return workload.prefix() + "-" + config.runId() + "-" + generation;
  }

  /**
   * Creates the first key of each workload and probes the data plane (W3, W6) and the rotation
   * scheduler (W5). Not recorded: the checkers know keys start at version 1.
   */
  public void prepare() {
    SplittableRandom random = new SplittableRandom(config.seed() ^ 0x5EED);
    for (Workload w : config.workloads()) {
      if (w == Workload.W4) {
        continue; // reads W2's keys
      }
      KeySlot slot = new KeySlot(w);
      String first = keyName(w, 0);
      if (!createKey(first, w, random, Duration.ofSeconds(60))) {
        throw new IllegalStateException("could not create the first key of " + w);
      }
      slot.current = first;
      slot.all.add(first);
      slots.put(w, slot);
    }
    active.addAll(config.workloads());
    if (config.workloads().contains(Workload.W4) && !slots.containsKey(Workload.W2)) {
      active.remove(Workload.W4);
      skipped.put(Workload.W4, "W4 reads W2's keys; run it with W2");
    }
    if (slots.containsKey(Workload.W3) || slots.containsKey(Workload.W6)) {
      String probeKey = slots.containsKey(Workload.W3) ? slots.get(Workload.W3).current : null;
      if (probeKey == null) {
        probeKey = slots.get(Workload.W6).current;
      }
      String unavailable = probeDataPlane(probeKey);
      if (unavailable != null) {
        for (Workload w : List.of(Workload.W3, Workload.W6)) {
          if (active.remove(w)) {
            skipped.put(w, "skipped: data plane not available (" + unavailable + ")");
          }
        }
      }
    }
  }

  /** Null if Encrypt works, else why not (UNIMPLEMENTED until the data plane lands). */
  private String probeDataPlane(String key) {
    OpError last = null;
    for (int attempt = 0; attempt < 5; attempt++) {
      try {
        nodes.get(0).encrypt(key, "probe".getBytes(StandardCharsets.UTF_8));
        return null;
      } catch (OpError e) {
        if (e.unimplemented()) {
          return "Encrypt answered " + e.describe();
        }
        last = e;
      }
      sleep(1000);
    }
    return "Encrypt failed 5 times: " + last.describe();
  }

  private boolean createKey(
      String name, Workload workload, SplittableRandom random, Duration patience) {
    long deadline = System.nanoTime() + patience.toNanos();
    long period = workload == Workload.W5 ? config.scheduledPeriodMillis() : 0;
    int node = random.nextInt(nodes.size());
    while (System.nanoTime() < deadline && !stop.get()) {
      try {
        nodes.get(node).createKey(name, period, "create-" + name);
        return true;
      } catch (OpError e) {
        if ("ALREADY_EXISTS".equals(e.code())) {
          return true;
        }
        node = (node + 1) % nodes.size();
        sleep(300);
      }
    }
    return false;
  }

  /** The workloads that ran, and why the others did not. */
  public Set<Workload> active() {
    return EnumSet.copyOf(active.isEmpty() ? EnumSet.noneOf(Workload.class) : active);
  }

  public Map<Workload, String> skipped() {
    Map<Workload, String> out = new EnumMap<>(Workload.class);
    out.putAll(skipped);
    if (active.contains(Workload.W5) && !scheduledRotationSeen) {
      out.put(
          Workload.W5,
          "n/a: no scheduled rotation observed (this server has no rotation scheduler yet)");
    }
    return out;
  }

  /** Whether any read saw a version made by scheduled rotation. */
  public boolean scheduledRotationSeen() {
    return scheduledRotationSeen;
  }

  /** Every key each workload used. */
  public Map<Workload, List<String>> keys() {
    Map<Workload, List<String>> out = new EnumMap<>(Workload.class);
    slots.forEach((w, s) -> out.put(w, List.copyOf(s.all)));
    return out;
  }

  /** Runs the workers for {@code duration}, then returns (operations in flight are let finish). */
  public void run(Duration duration) throws InterruptedException {
    long deadline = System.nanoTime() + duration.toNanos();
    SplittableRandom seeds = new SplittableRandom(config.seed());
    List<Thread> threads = new ArrayList<>();
    for (int w = 0; w < config.workers(); w++) {
      Worker worker = new Worker(nodes.get(w % nodes.size()), seeds.split(), deadline);
      Thread thread = new Thread(worker, "chaos-worker-" + w);
      thread.setDaemon(true);
      threads.add(thread);
      thread.start();
    }
    for (Thread thread : threads) {
      thread.join();
    }
  }

  /** Stops the workers early. */
  public void stop() {
    stop.set(true);
  }

  private interface Call<T> {
    T call() throws OpError;
  }

  private final class Worker implements Runnable {
    final NodeApi node;
    final SplittableRandom random;
    final long deadline;
    final Map<String, Integer> latestSeen = new HashMap<>();
    int process = recorder.newProcess();

    Worker(NodeApi node, SplittableRandom random, long deadline) {
      this.node = node;
      this.random = random;
      this.deadline = deadline;
    }

    @Override
    public void run() {
      double meanDelayMillis = 1000.0 * config.workers() / config.opsPerSecond();
      while (!stop.get() && System.nanoTime() < deadline) {
        Workload workload = pick();
        if (workload == null) {
          return;
        }
        try {
          switch (workload) {
            case W1 -> w1();
            case W2 -> w2();
            case W3 -> w3();
            case W4 -> w4();
            case W5 -> w5();
            case W6 -> w6();
          }
        } catch (RuntimeException e) {
          System.err.println("chaos: worker error (harness bug?): " + e);
          e.printStackTrace();
        }
        long delay = (long) (-meanDelayMillis * Math.log(1 - random.nextDouble()));
        sleep(Math.min(delay, (long) (4 * meanDelayMillis)));
      }
    }

    private Workload pick() {
      int total = 0;
      for (Workload w : active) {
        total += w.weight();
      }
      if (total == 0) {
        return null;
      }
      int r = random.nextInt(total);
      for (Workload w : active) {
        r -= w.weight();
        if (r < 0) {
          return w;
        }
      }
      return null;
    }

    private String requestId(String f) {
      return "chaos-" + config.runId() + "-" + f + "-" + counter.incrementAndGet();
    }

    /** One operation: invoke, call, then ok / fail / info (retiring the process). */
    <T> T op(
        String f,
        String key,
        JsonElement input,
        boolean write,
        Call<T> call,
        Function<T, JsonElement> output,
        Function<T, Long> revision,
        Function<OpError, String> failError) {
      recorder.invoke(process, node.nodeId(), f, key, input);
      try {
        T result = call.call();
        recorder.ok(
            process, output.apply(result), revision == null ? null : revision.apply(result));
        return result;
      } catch (OpError e) {
        if (!write || e.definite()) {
          recorder.fail(process, failError == null ? e.describe() : failError.apply(e), null);
        } else {
          recorder.info(process, e.describe());
          process = recorder.newProcess();
        }
        return null;
      } catch (RuntimeException e) {
        if (write) {
          recorder.info(process, e.getClass().getSimpleName() + ": " + e.getMessage());
          process = recorder.newProcess();
        } else {
          recorder.fail(process, e.getClass().getSimpleName() + ": " + e.getMessage(), null);
        }
        return null;
      }
    }

    // W1: rotations as an append-only list.
    void w1() {
      String key = slots.get(Workload.W1).acquire(random);
      if (random.nextInt(100) < 30) {
        rotate(key);
      } else {
        listVersions(key);
      }
    }

    void rotate(String key) {
      op(
          "rotate",
          key,
          null,
          true,
          () -> node.rotate(key, 0, requestId("rotate")),
          r -> versionObject(r.version()),
          NodeApi.Rotated::revision,
          null);
    }

    void listVersions(String key) {
      op(
          "list-versions",
          key,
          null,
          false,
          () -> node.getKey(key),
          Workloads::versionsArray,
          NodeApi.KeyView::revision,
          null);
    }

    // W2: the primary version as a compare-and-set register (RotateKey with
    // expected_latest_version as the CAS; reads: GetKey primary_version and revision).
    void w2() {
      String key = slots.get(Workload.W2).acquire(random);
      if (random.nextInt(100) < 60 || !latestSeen.containsKey(key)) {
        NodeApi.KeyView view =
            op(
                "get-primary",
                key,
                null,
                false,
                () -> node.getKey(key),
                v -> versionObject(v.primaryVersion()),
                NodeApi.KeyView::revision,
                null);
        if (view != null) {
          latestSeen.put(key, view.latestVersion());
        }
        return;
      }
      int expected = latestSeen.get(key);
      JsonObject input = new JsonObject();
      input.addProperty("version", expected + 1);
      input.addProperty("expected", expected);
      NodeApi.Rotated rotated =
          op(
              "activate",
              key,
              input,
              true,
              () -> node.rotate(key, expected, requestId("activate")),
              r -> versionObject(r.version()),
              NodeApi.Rotated::revision,
              e ->
                  // Only VERSION_CONFLICT is the compare-and-set not matching; other rule
                  // rejections (ROTATION_PENDING, ...) were simply not applied.
                  "VERSION_CONFLICT".equals(e.reasonOrEmpty())
                      ? e.describe()
                      : "REJECTED " + e.reasonOrEmpty() + ": " + e.getMessage());
      if (rotated != null) {
        latestSeen.put(key, rotated.version());
      } else {
        latestSeen.remove(key);
      }
    }

    // W3: encrypt on one node, decrypt on another.
    void w3() {
      String key = slots.get(Workload.W3).acquire(random);
      int dice = random.nextInt(100);
      if (dice < 10) {
        rotate(key);
      } else if (dice < 55 || sealed.getOrDefault(key, List.of()).isEmpty()) {
        encrypt(key);
      } else {
        decrypt(key);
      }
    }

    void encrypt(String key) {
      String plaintext = "pt-" + key + "-" + counter.incrementAndGet();
      JsonObject input = new JsonObject();
      input.addProperty("plaintext", plaintext);
      NodeApi.Encrypted encrypted =
          op(
              "encrypt",
              key,
              input,
              false,
              () -> node.encrypt(key, plaintext.getBytes(StandardCharsets.UTF_8)),
              e -> {
                JsonObject out = new JsonObject();
                out.addProperty(
                    "ciphertext", Base64.getEncoder().encodeToString(e.ciphertext().toByteArray()));
                out.addProperty("version", e.version());
                return out;
              },
              null,
              null);
      if (encrypted != null) {
        sealed
            .computeIfAbsent(key, k -> new CopyOnWriteArrayList<>())
            .add(
                new Sealed(
                    key,
                    Base64.getEncoder().encodeToString(encrypted.ciphertext().toByteArray()),
                    plaintext,
                    encrypted.version(),
                    node.nodeId()));
      }
    }

    void decrypt(String key) {
      List<Sealed> candidates = sealed.getOrDefault(key, List.of());
      if (candidates.isEmpty()) {
        return;
      }
      // Prefer a ciphertext another node made.
      Sealed chosen = candidates.get(random.nextInt(candidates.size()));
      for (int i = 0; i < 3 && chosen.node().equals(node.nodeId()); i++) {
        chosen = candidates.get(random.nextInt(candidates.size()));
      }
      Sealed target = chosen;
      JsonObject input = new JsonObject();
      input.addProperty("ciphertext", target.ciphertext());
      op(
          "decrypt",
          key,
          input,
          false,
          () -> node.decrypt(Base64.getDecoder().decode(target.ciphertext())),
          d -> {
            JsonObject out = new JsonObject();
            out.addProperty("plaintext", d.plaintext().toStringUtf8());
            out.addProperty("version", d.version());
            out.addProperty("key", d.keyName());
            return out;
          },
          null,
          null);
    }

    // W4: activation timestamps, read from every node (on W2's current key).
    void w4() {
      // Counts towards the W2 key's operation limit: it is the same key's history.
      String key = slots.get(Workload.W2).acquire(random);
      op(
          "get-version",
          key,
          null,
          false,
          () -> node.getKey(key),
          Workloads::versionsArray,
          NodeApi.KeyView::revision,
          null);
    }

    // W5: keys with a short rotation period; reads list the scheduled rotations by slot.
    void w5() {
      String key = slots.get(Workload.W5).acquire(random);
      op(
          "list-scheduled",
          key,
          null,
          false,
          () -> node.getKey(key),
          v -> scheduled(v),
          NodeApi.KeyView::revision,
          null);
    }

    // W6: disable-then-use.
    void w6() {
      String key = slots.get(Workload.W6).acquire(random);
      int dice = random.nextInt(100);
      int latest = Math.max(1, latestSeen.getOrDefault(key, 1));
      if (dice < 10) {
        NodeApi.Rotated r =
            op(
                "rotate",
                key,
                null,
                true,
                () -> node.rotate(key, 0, requestId("rotate")),
                x -> versionObject(x.version()),
                NodeApi.Rotated::revision,
                null);
        if (r != null) {
          latestSeen.put(key, r.version());
        }
      } else if (dice < 22) {
        setEnabled(key, 1 + random.nextInt(latest), false);
      } else if (dice < 32) {
        setEnabled(key, 1 + random.nextInt(latest), true);
      } else if (dice < 66 || sealed.getOrDefault(key, List.of()).isEmpty()) {
        encrypt(key);
      } else {
        decrypt(key);
      }
    }

    void setEnabled(String key, int version, boolean enabled) {
      JsonObject input = new JsonObject();
      input.addProperty("version", version);
      NodeApi.KeyView view =
          op(
              enabled ? "enable" : "disable",
              key,
              input,
              true,
              () -> node.setVersionEnabled(key, version, enabled, requestId("status")),
              v -> null,
              NodeApi.KeyView::revision,
              null);
      if (view != null) {
        latestSeen.put(key, view.latestVersion());
      }
    }
  }

  // --- final phase -----------------------------------------------------------------------------

  /**
   * After the heal: reads every key on every node (list-versions for rotated keys, get-primary and
   * final-get-version for W2's, final-list-scheduled for W5's), and re-decrypts every acknowledged
   * W3 ciphertext on every node. One process per node.
   */
  public void finalReads() {
    List<Thread> threads = new ArrayList<>();
    for (NodeApi node : nodes) {
      Thread thread = new Thread(() -> finalReads(node), "chaos-final-" + node.nodeId());
      threads.add(thread);
      thread.start();
    }
    for (Thread thread : threads) {
      try {
        thread.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void finalReads(NodeApi node) {
    Worker reader = new Worker(node, new SplittableRandom(config.seed()), Long.MAX_VALUE);
    for (Map.Entry<Workload, KeySlot> entry : slots.entrySet()) {
      Workload workload = entry.getKey();
      for (String key : entry.getValue().all) {
        switch (workload) {
          case W2 -> {
            reader.op(
                "get-primary",
                key,
                null,
                false,
                () -> node.getKey(key),
                v -> versionObject(v.primaryVersion()),
                NodeApi.KeyView::revision,
                null);
            reader.op(
                "final-get-version",
                key,
                null,
                false,
                () -> node.getKey(key),
                Workloads::versionsArray,
                NodeApi.KeyView::revision,
                null);
          }
          case W5 ->
              reader.op(
                  "final-list-scheduled",
                  key,
                  null,
                  false,
                  () -> node.getKey(key),
                  v -> scheduled(v),
                  NodeApi.KeyView::revision,
                  null);
          default -> reader.listVersions(key);
        }
      }
    }
    if (active.contains(Workload.W3) && slots.containsKey(Workload.W3)) {
      for (String key : slots.get(Workload.W3).all) {
        for (Sealed s : sealed.getOrDefault(key, List.of())) {
          JsonObject input = new JsonObject();
          input.addProperty("ciphertext", s.ciphertext());
          reader.op(
              "final-decrypt",
              key,
              input,
              false,
              () -> node.decrypt(Base64.getDecoder().decode(s.ciphertext())),
              d -> {
                JsonObject out = new JsonObject();
                out.addProperty("plaintext", d.plaintext().toStringUtf8());
                return out;
              },
              null,
              null);
        }
      }
    }
  }

  /**
   * Before the final phase: the scheduler must stop writing, or the nodes never hold still for the
   * convergence check. Removes the rotation period of every W5 key (recorded as {@code
   * stop-schedule}; retried on another node until it is applied).
   */
  public void stopScheduledRotations() {
    KeySlot slot = slots.get(Workload.W5);
    if (slot == null) {
      return;
    }
    for (String key : slot.all) {
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      for (int attempt = 0; System.nanoTime() < deadline; attempt++) {
        NodeApi node = nodes.get(attempt % nodes.size());
        Worker writer = new Worker(node, new SplittableRandom(attempt), Long.MAX_VALUE);
        String requestId = "chaos-" + config.runId() + "-stop-schedule-" + key;
        NodeApi.KeyView view =
            writer.op(
                "stop-schedule",
                key,
                null,
                true,
                () -> node.clearRotationPeriod(key, requestId),
                v -> null,
                NodeApi.KeyView::revision,
                null);
        if (view != null) {
          break;
        }
        sleep(500);
      }
    }
  }

  /**
   * Records one {@code final-status} per node (applied index and state digest), in rounds until
   * every node reports the same applied index or {@code patience} runs out: background commands
   * (usage reports, a node registering after its restart) may still be applying. The last round
   * counts.
   */
  public void finalStatus(Duration patience) {
    long deadline = System.nanoTime() + patience.toNanos();
    while (true) {
      java.util.Set<Long> indexes = new java.util.HashSet<>();
      boolean all = true;
      for (NodeApi node : nodes) {
        int process = recorder.newProcess();
        recorder.invoke(process, node.nodeId(), "final-status", null, null);
        try {
          NodeApi.NodeState state = node.status();
          JsonObject out = new JsonObject();
          out.addProperty("appliedIndex", state.appliedIndex());
          out.addProperty("digest", state.digest());
          // Role and known leader: what a node that did not converge was doing.
          out.addProperty("role", state.role());
          out.addProperty("leader", state.leaderIdOrEmpty());
          recorder.ok(process, out, null);
          indexes.add(state.appliedIndex());
        } catch (OpError e) {
          recorder.fail(process, e.describe(), null);
          all = false;
        }
      }
      if ((all && indexes.size() == 1) || System.nanoTime() > deadline) {
        return;
      }
      sleep(500);
    }
  }

  /**
   * W5's reading of a key: its scheduled versions, each with the schedule slot it filled. The
   * scheduler rotates when {@code activation(previous) + period} is due, so consecutive scheduled
   * versions are about one period apart: the first one's slot is its distance from the key's
   * creation in periods, and each next one's slot advances by its distance from the previous one in
   * periods, rounded. Two rotations for one due time (milliseconds apart) land in the same slot (a
   * duplicate); a rotation a little early or late (clock steps between the leader's due check and
   * its stamp, scheduler ticks) does not; a gap of two periods or more counts as missed.
   */
  private JsonElement scheduled(NodeApi.KeyView view) {
    JsonArray out = scheduledSlots(view, config.scheduledPeriodMillis());
    if (out.size() > 0) {
      scheduledRotationSeen = true;
    }
    return out;
  }

  static JsonArray scheduledSlots(NodeApi.KeyView view, long period) {
    JsonArray out = new JsonArray();
    if (view.versions().isEmpty()) {
      return out;
    }
    long created = view.versions().get(0).createMillis();
    Long previousActivation = null;
    long slot = 0;
    for (NodeApi.VersionView v : view.versions()) {
      if ("SCHEDULED".equals(v.reason())) {
        slot =
            previousActivation == null
                ? Math.round((double) (v.activationMillis() - created) / period)
                : slot + Math.round((double) (v.activationMillis() - previousActivation) / period);
        previousActivation = v.activationMillis();
        JsonObject o = new JsonObject();
        o.addProperty("version", v.version());
        o.addProperty("slot", slot);
        // Evidence for the reader: when it was stamped and activated (leader time).
        o.addProperty("createdAt", v.createMillis());
        o.addProperty("activatedAt", v.activationMillis());
        out.add(o);
      }
    }
    return out;
  }

  static JsonObject versionObject(int version) {
    JsonObject out = new JsonObject();
    out.addProperty("version", version);
    return out;
  }

  static JsonArray versionsArray(NodeApi.KeyView view) {
    JsonArray out = new JsonArray();
    for (NodeApi.VersionView v : view.versions()) {
      JsonObject o = new JsonObject();
      o.addProperty("version", v.version());
      o.addProperty("activatedAt", v.activationMillis());
      out.add(o);
    }
    return out;
  }

  static void sleep(long millis) {
    if (millis <= 0) {
      return;
    }
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
