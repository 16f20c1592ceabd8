package io.keyrotor.chaos.nemesis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.chaos.history.Event;
import io.keyrotor.chaos.history.EventType;
import io.keyrotor.chaos.history.HistoryRecorder;
import io.keyrotor.chaos.launcher.NetworkFaults;
import io.keyrotor.chaos.launcher.NodeLauncher;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The nemesis against a fake launcher: the partition shapes cut what chaos-tests/README.md says,
 * every fault is healed, and every action is journaled into the history.
 */
class NemesisTest {
  /** Records what the nemesis asked for; the cluster has no leader (no node answers). */
  static final class FakeLauncher implements NodeLauncher, NetworkFaults {
    final List<String> nodes;
    final List<Map<String, Set<String>>> partitions = new ArrayList<>();
    final List<String> actions = new ArrayList<>();
    final Set<String> dead = new TreeSet<>();
    int heals;

    FakeLauncher(int size) {
      nodes = new ArrayList<>();
      for (int i = 1; i <= size; i++) {
        nodes.add("n" + i);
      }
    }

    @Override
    public List<String> nodeIds() {
      return nodes;
    }

    @Override
    public String apiAddress(String nodeId) {
      return "127.0.0.1:1";
    }

    @Override
    public void startAll() {}

    @Override
    public synchronized void start(String nodeId) {
      actions.add("start " + nodeId);
      dead.remove(nodeId);
    }

    @Override
    public synchronized void kill(String nodeId) {
      actions.add("kill " + nodeId);
      dead.add(nodeId);
    }

    @Override
    public synchronized void pause(String nodeId) {
      actions.add("pause " + nodeId);
    }

    @Override
    public synchronized void resume(String nodeId) {
      actions.add("resume " + nodeId);
    }

    @Override
    public synchronized boolean isAlive(String nodeId) {
      return !dead.contains(nodeId);
    }

    @Override
    public Map<String, Long> pids() {
      return Map.of();
    }

    @Override
    public Optional<NetworkFaults> network() {
      return Optional.of(this);
    }

    @Override
    public void close() {}

    @Override
    public synchronized void partition(Map<String, Set<String>> grudge) {
      partitions.add(grudge);
    }

    @Override
    public synchronized void loss(String nodeId, int percent) {
      actions.add("loss " + nodeId + " " + percent);
    }

    @Override
    public boolean slow(String nodeId) {
      return true;
    }

    @Override
    public synchronized void heal() {
      heals++;
    }
  }

  private static final Nemesis.Timing FAST =
      new Nemesis.Timing(
          Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(1), Duration.ofMillis(2));

  @Test
  void membership_isDrawnOnlyWhenTheLauncherHasSpares() {
    Nemesis withoutSpares =
        new Nemesis(
            new FakeLauncher(3),
            new ClusterControl(Map.of()),
            new HistoryRecorder(new StringWriter(), System::nanoTime),
            NemesisKind.parse("membership,kill"),
            1,
            FAST,
            new PrintWriter(new StringWriter()),
            true);
    assertEquals(List.of(NemesisKind.KILL_NODE, NemesisKind.KILL_LEADER), withoutSpares.kinds());
  }

  private static List<Event> runFor(
      FakeLauncher launcher, Set<NemesisKind> kinds, long seed, long millis) throws Exception {
    HistoryRecorder recorder = new HistoryRecorder(new StringWriter(), System::nanoTime);
    Nemesis nemesis =
        new Nemesis(
            launcher,
            new ClusterControl(Map.of()),
            recorder,
            kinds,
            seed,
            FAST,
            new PrintWriter(new StringWriter()),
            true);
    Thread thread = new Thread(nemesis);
    thread.start();
    Thread.sleep(millis);
    nemesis.stop();
    thread.join(10_000);
    nemesis.healEverything();
    return recorder.events();
  }

  /**
   * Runs {@code kind} alone on {@code nodes} fake nodes for 200 ms; returns, for each partition it
   * made, who could reach whom.
   */
  private static List<Map<String, Set<String>>> partitionViews(
      int nodes, NemesisKind kind, long seed) throws Exception {
    FakeLauncher launcher = new FakeLauncher(nodes);
    runFor(launcher, Set.of(kind), seed, 200);
    List<Map<String, Set<String>>> views = new ArrayList<>();
    for (Map<String, Set<String>> grudge : launcher.partitions) {
      views.add(reachable(launcher.nodes, grudge));
    }
    return views;
  }

  /** Who can reach whom under a grudge (symmetric cuts). */
  private static Map<String, Set<String>> reachable(
      List<String> nodes, Map<String, Set<String>> g) {
    Map<String, Set<String>> out = new TreeMap<>();
    for (String a : nodes) {
      out.put(a, new TreeSet<>(nodes));
    }
    g.forEach(
        (a, bs) ->
            bs.forEach(
                b -> {
                  out.get(a).remove(b);
                  out.get(b).remove(a);
                }));
    return out;
  }

  @Test
  void majoritiesRing_everyNodeSeesAMajority_noTwoTheSame() throws Exception {
    List<Map<String, Set<String>>> views = partitionViews(5, NemesisKind.MAJORITIES_RING, 11);
    assertFalse(views.isEmpty());
    for (Map<String, Set<String>> sees : views) {
      Set<Set<String>> distinct = new java.util.HashSet<>();
      for (Set<String> view : sees.values()) {
        assertEquals(3, view.size(), () -> "each node sees itself and two neighbours: " + sees);
        distinct.add(view);
      }
      assertEquals(5, distinct.size(), () -> "no two nodes share a majority: " + sees);
    }
  }

  @Test
  void bridge_oneNodeSeesEveryone_theTwoSidesNotEachOther() throws Exception {
    List<Map<String, Set<String>>> views = partitionViews(5, NemesisKind.BRIDGE, 12);
    assertFalse(views.isEmpty());
    for (Map<String, Set<String>> sees : views) {
      long bridges = sees.values().stream().filter(v -> v.size() == 5).count();
      long sides = sees.values().stream().filter(v -> v.size() == 3).count();
      assertEquals(1, bridges, sees::toString);
      assertEquals(4, sides, sees::toString);
    }
  }

  @Test
  void majorityMinority_threeNodes_cutsOneFromTwo() throws Exception {
    for (Map<String, Set<String>> sees : partitionViews(3, NemesisKind.MAJORITY_MINORITY, 13)) {
      assertEquals(1, sees.values().stream().filter(v -> v.size() == 1).count(), sees::toString);
    }
  }

  @Test
  void everyFaultIsJournaledAndHealed_killedNodesRestart() throws Exception {
    FakeLauncher launcher = new FakeLauncher(3);
    List<Event> events =
        runFor(
            launcher,
            Set.of(NemesisKind.ISOLATE_NODE, NemesisKind.KILL_NODE, NemesisKind.PAUSE_NODE),
            14,
            300);
    Map<String, Integer> invokes = new HashMap<>();
    for (Event e : events) {
      assertTrue(e.process().isNemesis());
      if (e.type() == EventType.INVOKE) {
        invokes.merge(e.f(), 1, Integer::sum);
      }
    }
    assertTrue(invokes.containsKey("final-heal"), invokes::toString);
    assertTrue(launcher.heals >= launcher.partitions.size(), "every partition healed");
    assertTrue(launcher.dead.isEmpty(), () -> "still dead after the final heal: " + launcher.dead);
    long pauses = launcher.actions.stream().filter(a -> a.startsWith("pause")).count();
    long resumes = launcher.actions.stream().filter(a -> a.startsWith("resume")).count();
    assertTrue(resumes >= pauses, launcher.actions::toString);
    // Every started fault is journaled as invoke then info.
    long infos = events.stream().filter(e -> e.type() == EventType.INFO).count();
    assertEquals(
        events.stream().filter(e -> e.type() == EventType.INVOKE).count(), infos, events::toString);
  }
}
