package io.keyrotor.chaos.nemesis;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.keyrotor.chaos.history.EventType;
import io.keyrotor.chaos.history.HistoryRecorder;
import io.keyrotor.chaos.launcher.NetworkFaults;
import io.keyrotor.chaos.launcher.NodeLauncher;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The nemesis thread: healthy for a while, then one fault held for a while, then healed, again and
 * again, every choice drawn from {@code SplittableRandom(seed)}. Each action is journaled into the
 * history ({@code process: "nemesis"}: an {@code invoke} when it starts, an {@code info} once it is
 * in place, with what it did) and as a line of {@code nemesis.log}.
 *
 * <p>Over 500 lines because each fault's injection and its heal stand side by side, one short
 * method a kind, so what a heal undoes is read next to what did it.
 */
public final class Nemesis implements Runnable {
  /**
   * How long the cluster stays healthy between faults and how long a fault is held.
   *
   * @param healthyMin shortest healthy interval
   * @param healthyMax longest healthy interval
   * @param faultMin shortest hold of a network or clock fault
   * @param faultMax longest hold
   */
  public record Timing(
      Duration healthyMin, Duration healthyMax, Duration faultMin, Duration faultMax) {
    /** 8-12 s healthy, faults held 10-15 s (chaos-tests/README.md, "Nemeses"). */
    public static Timing standard() {
      return new Timing(
          Duration.ofSeconds(8),
          Duration.ofSeconds(12),
          Duration.ofSeconds(10),
          Duration.ofSeconds(15));
    }
  }

  private final NodeLauncher launcher;
  private final ClusterControl control;
  private final HistoryRecorder recorder;
  private final List<NemesisKind> kinds;
  private final SplittableRandom random;
  private final Timing timing;
  private final PrintWriter log;
  private final boolean tbf;
  private final List<String> nodes;
  private final MembershipChanges membership;
  private final AtomicBoolean stopped = new AtomicBoolean();
  private final Map<String, Integer> counts = new TreeMap<>();
  private final Set<String> paused = Collections.synchronizedSet(new TreeSet<>());
  private final Set<String> killed = Collections.synchronizedSet(new TreeSet<>());
  private volatile Thread thread;

  public Nemesis(
      NodeLauncher launcher,
      ClusterControl control,
      HistoryRecorder recorder,
      Set<NemesisKind> kinds,
      long seed,
      Timing timing,
      PrintWriter log,
      boolean tbfAvailable) {
    this.launcher = launcher;
    this.control = control;
    this.recorder = recorder;
    this.nodes = launcher.nodeIds();
    this.membership = new MembershipChanges(launcher, control);
    this.kinds =
        kinds.stream()
            .filter(k -> k.appliesTo(nodes.size()))
            .filter(k -> !k.membership() || membership.available())
            .sorted()
            .toList();
    this.random = new SplittableRandom(seed);
    this.timing = timing;
    this.log = log;
    this.tbf = tbfAvailable;
  }

  /**
   * How long the first group's nodes took to start and answer; the membership nemesis waits for a
   * joining node in proportion (see {@code MembershipChanges.joinWaitSeconds}).
   */
  public void nodesStartedWithin(Duration firstGroupStart) {
    membership.nodesStartedWithin(firstGroupStart);
  }

  /** The faults that will be drawn from (those that apply to this cluster size). */
  public List<NemesisKind> kinds() {
    return kinds;
  }

  /** How many times each fault was injected. */
  public synchronized Map<String, Integer> counts() {
    return new TreeMap<>(counts);
  }

  @Override
  public void run() {
    thread = Thread.currentThread();
    while (!stopped.get()) {
      if (!pause(between(timing.healthyMin(), timing.healthyMax()))) {
        break;
      }
      if (kinds.isEmpty()) {
        continue;
      }
      NemesisKind kind = kinds.get(random.nextInt(kinds.size()));
      synchronized (this) {
        counts.merge(kind.id(), 1, Integer::sum);
      }
      try {
        inject(kind);
      } catch (RuntimeException e) {
        journal(EventType.INFO, kind.id(), null, error(e));
        heal("error-heal");
      }
    }
  }

  /** Stops drawing faults and interrupts the one being held (the caller then calls heal). */
  public void stop() {
    stopped.set(true);
    Thread t = thread;
    if (t != null) {
      t.interrupt();
    }
  }

  private void inject(NemesisKind kind) {
    switch (kind) {
      case ISOLATE_NODE -> isolate(kind, pickNode());
      case ISOLATE_LEADER -> isolate(kind, leaderOrRandom());
      case MAJORITY_MINORITY -> majorityMinority(kind);
      case BRIDGE -> bridge(kind);
      case MAJORITIES_RING -> ring(kind);
      case LOSS -> loss(kind, leaderOrRandom());
      case SLOW -> slow(kind, leaderOrRandom());
      case KILL_NODE -> kill(kind, pickNode());
      case KILL_LEADER -> kill(kind, leaderOrRandom());
      case PAUSE_NODE -> pauseNode(kind, pickNode());
      case PAUSE_LEADER -> pauseNode(kind, leaderOrRandom());
      case CLOCK_BUMP -> clockBump(kind, pickNode());
      case CLOCK_STROBE -> clockStrobe(kind, leaderOrRandom());
      case TRANSFER_LEADERSHIP -> transfer(kind);
      case MEMBER_ADD, MEMBER_REMOVE, MEMBER_REPLACE -> changeMembers(kind);
    }
  }

  // --- membership ------------------------------------------------------------------------------

  /**
   * One membership change, half the time while another first-group voter is isolated or killed
   * (neither the node asked nor a node the change moves). A move that cannot be made now (nothing
   * to add, or a removal would leave fewer voters than the first group) is journaled as skipped.
   */
  private void changeMembers(NemesisKind kind) {
    List<String> outside = membership.outside();
    List<String> voters = membership.voters();
    // Draw everything first, so the sequence does not depend on which move turns out possible.
    int companion = random.nextInt(4);
    int outsidePick = random.nextInt(Math.max(1, outside.size()));
    int voterPick = random.nextInt(Math.max(1, voters.size()));
    JsonObject value = kindValue(kind);
    String target;
    String old = null;
    switch (kind) {
      case MEMBER_ADD -> target = outside.isEmpty() ? null : outside.get(outsidePick);
      case MEMBER_REMOVE -> target = membership.mayRemove() ? voters.get(voterPick) : null;
      default -> {
        target = outside.isEmpty() ? null : outside.get(outsidePick);
        old = voters.get(voterPick);
      }
    }
    if (target != null && !awaitMembershipVersion()) {
      value.addProperty(
          "skipped",
          "not yet: the cluster is below version "
              + MembershipChanges.MEMBERSHIP_VERSION
              + ", where nodes refuse membership changes (FEATURE_NOT_ACTIVE)");
      journal(EventType.INVOKE, kind.id(), null, value);
      journal(EventType.INFO, kind.id(), null, value);
      return;
    }
    if (target == null) {
      value.addProperty(
          "skipped",
          (kind == NemesisKind.MEMBER_REMOVE
                  ? "a removal would leave fewer voters than the first group"
                  : "no node outside the group")
              + "; voters "
              + voters);
      journal(EventType.INVOKE, kind.id(), null, value);
      journal(EventType.INFO, kind.id(), null, value);
      return;
    }
    List<String> bystanders = new ArrayList<>();
    for (String node : voters) {
      if (membership.isFirstGroupVoter(node) && !node.equals(target) && !node.equals(old)) {
        bystanders.add(node);
      }
    }
    if (bystanders.isEmpty()) {
      value.addProperty("skipped", "no first-group voter left to ask");
      journal(EventType.INVOKE, kind.id(), null, value);
      journal(EventType.INFO, kind.id(), null, value);
      return;
    }
    String via = bystanders.get(random.nextInt(bystanders.size()));
    bystanders.remove(via);
    String faulted = null;
    if (companion < 2 && !bystanders.isEmpty()) {
      faulted = bystanders.get(random.nextInt(bystanders.size()));
      if (companion == 0) {
        isolateDuring(faulted);
      } else {
        killDuring(faulted);
      }
    }
    journal(EventType.INVOKE, kind.id(), target, value);
    JsonObject done =
        switch (kind) {
          case MEMBER_ADD -> membership.add(via, target);
          case MEMBER_REMOVE -> membership.remove(via, target);
          default -> membership.replace(via, old, target);
        };
    done.addProperty("kind", kind.id());
    journal(EventType.INFO, kind.id(), target, done);
    if (faulted != null) {
      if (companion == 0) {
        heal("heal");
      } else {
        restart(faulted);
      }
    }
  }

  /**
   * Waits, at most {@link #MEMBERSHIP_VERSION_WAIT} and while the nemesis runs, for the cluster
   * version membership changes need; only the first move of a run can wait.
   */
  private boolean awaitMembershipVersion() {
    long deadline = System.nanoTime() + MEMBERSHIP_VERSION_WAIT.toNanos();
    return membership.awaitMembershipVersion(
        () -> !stopped.get() && System.nanoTime() < deadline, 1_000);
  }

  /** The longest one membership move waits for the cluster version (then it is "not yet"). */
  static final Duration MEMBERSHIP_VERSION_WAIT = Duration.ofSeconds(60);

  private void isolateDuring(String node) {
    NetworkFaults network = launcher.network().orElse(null);
    if (network == null) {
      return;
    }
    Set<String> others = new TreeSet<>(nodes);
    others.addAll(membership.voters());
    others.remove(node);
    JsonObject value = new JsonObject();
    value.addProperty("kind", "isolate-node");
    JsonObject g = new JsonObject();
    JsonArray array = new JsonArray();
    others.forEach(array::add);
    g.add(node, array);
    value.add("grudge", g);
    journal(EventType.INVOKE, "isolate-node", null, value);
    network.partition(Map.of(node, others));
    journal(EventType.INFO, "isolate-node", null, value);
  }

  private void killDuring(String node) {
    JsonObject value = new JsonObject();
    value.addProperty("kind", "kill-random");
    journal(EventType.INVOKE, "kill-random", node, value);
    killed.add(node);
    launcher.kill(node);
    journal(EventType.INFO, "kill-random", node, value);
  }

  // --- partitions ------------------------------------------------------------------------------

  private void isolate(NemesisKind kind, String target) {
    Map<String, Set<String>> grudge = new LinkedHashMap<>();
    Set<String> others = new TreeSet<>(nodes);
    others.remove(target);
    grudge.put(target, others);
    partition(kind, grudge);
  }

  private void majorityMinority(NemesisKind kind) {
    List<String> shuffled = shuffled();
    Optional<String> leader = control.leader();
    if (leader.isPresent() && random.nextBoolean()) {
      // half the time the leader is in the minority
      shuffled.remove(leader.get());
      shuffled.add(0, leader.get());
    }
    int minority = nodes.size() / 2;
    Map<String, Set<String>> grudge = new LinkedHashMap<>();
    for (String a : shuffled.subList(0, minority)) {
      grudge.put(a, new TreeSet<>(shuffled.subList(minority, shuffled.size())));
    }
    partition(kind, grudge);
  }

  private void bridge(NemesisKind kind) {
    List<String> s = shuffled();
    Map<String, Set<String>> grudge = new LinkedHashMap<>();
    // s[2] is the bridge: it sees everyone; {s0, s1} and {s3, s4} do not see each other.
    grudge.put(s.get(0), new TreeSet<>(List.of(s.get(3), s.get(4))));
    grudge.put(s.get(1), new TreeSet<>(List.of(s.get(3), s.get(4))));
    partition(kind, grudge);
  }

  private void ring(NemesisKind kind) {
    List<String> s = shuffled();
    Map<String, Set<String>> grudge = new LinkedHashMap<>();
    // Each node sees its two ring neighbours: a majority each, but no two the same majority.
    for (int i = 0; i < s.size(); i++) {
      grudge.computeIfAbsent(s.get(i), k -> new TreeSet<>()).add(s.get((i + 2) % s.size()));
    }
    partition(kind, grudge);
  }

  private void partition(NemesisKind kind, Map<String, Set<String>> grudge) {
    NetworkFaults network = launcher.network().orElseThrow();
    JsonObject value = kindValue(kind);
    JsonObject g = new JsonObject();
    grudge.forEach(
        (a, bs) -> {
          JsonArray array = new JsonArray();
          bs.forEach(array::add);
          g.add(a, array);
        });
    value.add("grudge", g);
    journal(EventType.INVOKE, kind.id(), null, value);
    network.partition(grudge);
    journal(EventType.INFO, kind.id(), null, value);
    pause(between(timing.faultMin(), timing.faultMax()));
    heal("heal");
  }

  private void loss(NemesisKind kind, String target) {
    JsonObject value = kindValue(kind);
    value.addProperty("percent", 30);
    journal(EventType.INVOKE, kind.id(), target, value);
    launcher.network().orElseThrow().loss(target, 30);
    journal(EventType.INFO, kind.id(), target, value);
    pause(between(timing.faultMin(), timing.faultMax()));
    heal("heal");
  }

  private void slow(NemesisKind kind, String target) {
    JsonObject value = kindValue(kind);
    int delay = 200 + random.nextInt(301);
    value.addProperty("rpcDelayMillis", delay);
    journal(EventType.INVOKE, kind.id(), target, value);
    boolean throttled = tbf && launcher.network().map(n -> n.slow(target)).orElse(false);
    value.addProperty("tbf", throttled);
    try {
      control.setRpcDelay(target, delay, delay / 4);
    } catch (RuntimeException e) {
      value.addProperty("rpcDelayError", e.getMessage());
    }
    journal(EventType.INFO, kind.id(), target, value);
    pause(between(timing.faultMin(), timing.faultMax()));
    control.reset(target);
    heal("heal");
  }

  // --- processes -------------------------------------------------------------------------------

  private void kill(NemesisKind kind, String target) {
    JsonObject value = kindValue(kind);
    journal(EventType.INVOKE, kind.id(), target, value);
    killed.add(target);
    launcher.kill(target);
    journal(EventType.INFO, kind.id(), target, value);
    pause(Duration.ofMillis(3000 + random.nextInt(2001)));
    restart(target);
  }

  private void restart(String target) {
    journal(EventType.INVOKE, "restart", target, null);
    JsonObject value = new JsonObject();
    try {
      launcher.start(target);
      killed.remove(target);
      launcher
          .pids()
          .computeIfPresent(
              target,
              (k, pid) -> {
                value.addProperty("pid", pid);
                return pid;
              });
    } catch (Exception e) {
      value.addProperty("error", String.valueOf(e.getMessage()));
    }
    journal(EventType.INFO, "restart", target, value);
  }

  private void pauseNode(NemesisKind kind, String target) {
    JsonObject value = kindValue(kind);
    long millis = 3000L + random.nextInt(3001);
    value.addProperty("millis", millis);
    journal(EventType.INVOKE, kind.id(), target, value);
    paused.add(target);
    launcher.pause(target);
    journal(EventType.INFO, kind.id(), target, value);
    pause(Duration.ofMillis(millis));
    journal(EventType.INVOKE, "resume", target, null);
    launcher.resume(target);
    paused.remove(target);
    journal(EventType.INFO, "resume", target, null);
  }

  // --- clocks ----------------------------------------------------------------------------------

  private void clockBump(NemesisKind kind, String target) {
    JsonObject value = kindValue(kind);
    long offset = (1_000 + random.nextLong(59_001)) * (random.nextBoolean() ? 1 : -1);
    value.addProperty("offsetMillis", offset);
    journal(EventType.INVOKE, kind.id(), target, value);
    control.setClockOffset(target, offset);
    journal(EventType.INFO, kind.id(), target, value);
    pause(between(timing.faultMin(), timing.faultMax()));
    clockReset(target);
  }

  private void clockStrobe(NemesisKind kind, String target) {
    JsonObject value = kindValue(kind);
    long delta = 1_000 + random.nextLong(9_001);
    value.addProperty("deltaMillis", delta);
    value.addProperty("periodMillis", 200);
    value.addProperty("durationMillis", 5_000);
    journal(EventType.INVOKE, kind.id(), target, value);
    long end = System.nanoTime() + 5_000_000_000L;
    boolean ahead = true;
    while (System.nanoTime() < end && !stopped.get()) {
      try {
        control.setClockOffset(target, ahead ? delta : -delta);
      } catch (RuntimeException e) {
        // the node may be unreachable for a moment: keep strobing
      }
      ahead = !ahead;
      if (!pause(Duration.ofMillis(200))) {
        break;
      }
    }
    journal(EventType.INFO, kind.id(), target, value);
    clockReset(target);
  }

  private void clockReset(String target) {
    journal(EventType.INVOKE, "clock-reset", target, null);
    JsonObject value = new JsonObject();
    value.addProperty("reset", control.reset(target));
    journal(EventType.INFO, "clock-reset", target, value);
  }

  // --- leadership ------------------------------------------------------------------------------

  private void transfer(NemesisKind kind) {
    Optional<String> leader = control.leader();
    List<String> candidates = new ArrayList<>(nodes);
    leader.ifPresent(candidates::remove);
    String target = candidates.get(random.nextInt(candidates.size()));
    JsonObject value = kindValue(kind);
    value.addProperty("from", leader.orElse(""));
    value.addProperty("to", target);
    journal(EventType.INVOKE, kind.id(), target, value);
    try {
      String now = control.transferLeadership(leader.orElse(target), target);
      value.addProperty("leader", now);
    } catch (RuntimeException e) {
      value.addProperty("error", String.valueOf(e.getMessage()));
    }
    journal(EventType.INFO, kind.id(), target, value);
  }

  // --- heal ------------------------------------------------------------------------------------

  private void heal(String f) {
    journal(EventType.INVOKE, f, null, null);
    launcher.network().ifPresent(NetworkFaults::heal);
    journal(EventType.INFO, f, null, null);
  }

  /**
   * The final heal: network healed, every paused node continued, every dead node restarted, every
   * clock and RPC delay reset. Journaled.
   */
  public void healEverything() {
    journal(EventType.INVOKE, "final-heal", null, null);
    launcher.network().ifPresent(NetworkFaults::heal);
    for (String node : nodes) {
      launcher.resume(node);
    }
    paused.clear();
    JsonObject value = new JsonObject();
    JsonArray restarted = new JsonArray();
    for (String node : nodes) {
      if (!launcher.isAlive(node)) {
        try {
          launcher.start(node);
          restarted.add(node);
        } catch (Exception e) {
          value.addProperty("restartError-" + node, String.valueOf(e.getMessage()));
        }
      }
    }
    killed.clear();
    value.add("restarted", restarted);
    JsonArray resetFailed = new JsonArray();
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    for (String node : nodes) {
      while (!control.reset(node)) {
        if (System.nanoTime() > deadline) {
          resetFailed.add(node);
          break;
        }
        sleepQuietly(500);
      }
    }
    value.add("clockResetFailed", resetFailed);
    journal(EventType.INFO, "final-heal", null, value);
    if (kinds.stream().anyMatch(NemesisKind::membership)) {
      journal(EventType.INVOKE, "restore-members", null, null);
      String via = control.leader().filter(nodes::contains).orElse(nodes.get(0));
      journal(EventType.INFO, "restore-members", null, membership.restore(via));
    }
  }

  // --- helpers ---------------------------------------------------------------------------------

  /** A first-group node; with membership changes, one that is in the group now. */
  private String pickNode() {
    String drawn = nodes.get(random.nextInt(nodes.size()));
    if (membership.isFirstGroupVoter(drawn) || !membership.available()) {
      return drawn;
    }
    return nodes.stream().filter(membership::isFirstGroupVoter).findFirst().orElse(drawn);
  }

  private String leaderOrRandom() {
    // Draw the fallback first, so the random sequence does not depend on the cluster's answers.
    String fallback = pickNode();
    return control.leader().orElse(fallback);
  }

  private List<String> shuffled() {
    List<String> out = new ArrayList<>(nodes);
    for (int i = out.size() - 1; i > 0; i--) {
      Collections.swap(out, i, random.nextInt(i + 1));
    }
    return out;
  }

  private Duration between(Duration min, Duration max) {
    long span = max.toMillis() - min.toMillis();
    return min.plusMillis(span <= 0 ? 0 : random.nextLong(span + 1));
  }

  /** Sleeps; false if the nemesis was stopped meanwhile. */
  private boolean pause(Duration duration) {
    long end = System.nanoTime() + duration.toNanos();
    while (!stopped.get()) {
      long left = end - System.nanoTime();
      if (left <= 0) {
        return true;
      }
      try {
        Thread.sleep(Math.min(left / 1_000_000 + 1, 500));
      } catch (InterruptedException e) {
        // stop() interrupts: the loop re-checks the flag
      }
    }
    return false;
  }

  private static void sleepQuietly(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static JsonObject kindValue(NemesisKind kind) {
    JsonObject value = new JsonObject();
    value.addProperty("kind", kind.id());
    return value;
  }

  private static JsonObject error(Exception e) {
    JsonObject value = new JsonObject();
    value.addProperty("error", e.getClass().getSimpleName() + ": " + e.getMessage());
    return value;
  }

  private synchronized void journal(EventType type, String f, String node, JsonObject value) {
    recorder.nemesis(type, f, node, value);
    log.println(
        Instant.now()
            + " "
            + type.jsonName()
            + " "
            + f
            + (node == null ? "" : " " + node)
            + (value == null ? "" : " " + value));
    log.flush();
  }
}
