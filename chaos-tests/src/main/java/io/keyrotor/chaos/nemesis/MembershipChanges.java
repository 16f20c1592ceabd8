package io.keyrotor.chaos.nemesis;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.keyrotor.api.v1.RemoveNodeResponse;
import io.keyrotor.api.v1.ReplaceNodeResponse;
import io.keyrotor.chaos.launcher.NodeLauncher;
import io.keyrotor.chaos.launcher.SpareNodes;
import io.keyrotor.client.KeyrotorException;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * The membership nemesis's moves: add a node (a spare, or a first-group node that was removed),
 * remove a voter, replace a voter with a node outside the group, all through the cluster's own
 * AdminService (AddNode, RemoveNode, ReplaceNode). Quorum safety is kept here and not only by the
 * server: the group never has fewer voters than the first group had (a removal is drawn only while
 * it has more), so a majority of the group is always at least a majority of the first one. A node
 * that leaves is stopped and reset to a joiner (its data deleted), so no restart brings back its
 * old log; a node that joins starts that way. At the end {@link #restore} puts the first group back
 * (the removed ones added again, the spares removed), so the final checks compare the same nodes as
 * always.
 *
 * <p>What the cluster answered decides nothing here: after every move the voters are read again
 * from the cluster ({@code GetClusterStatus}), since an answer lost to a partition or a kill may
 * hide a change that took effect. A removal that answered UNAVAILABLE or DEADLINE_EXCEEDED is asked
 * once more, as an operator would; the retry must succeed (already_removed when the first took
 * effect), never NOT_FOUND.
 */
final class MembershipChanges {
  /** The shortest wait for a joining node to start, catch up and prove its zones. */
  static final int MIN_WAIT_SECONDS = 90;

  /** The longest: what AddNode accepts. */
  static final int MAX_WAIT_SECONDS = 600;

  /**
   * The cluster version from which nodes accept membership changes ({@code
   * ApplyFeature.MEMBERSHIP_COMMANDS}): below it every node refuses them with FAILED_PRECONDITION
   * FEATURE_NOT_ACTIVE. A fresh cluster starts at 1; its leader raises it a few seconds after every
   * node registered.
   */
  static final int MEMBERSHIP_VERSION = 2;

  private final NodeLauncher launcher;
  private final SpareNodes spares;
  private final ClusterControl control;
  private final List<String> firstGroup;
  private final List<String> slots;
  private final Set<String> voters;
  private volatile int waitSeconds = MIN_WAIT_SECONDS;
  private volatile boolean membershipVersionSeen;

  /** A launcher without spares: nothing to add, so no other call is ever made. */
  private static final SpareNodes NONE =
      new SpareNodes() {
        @Override
        public List<String> spareIds() {
          return List.of();
        }

        @Override
        public void resetToJoiner(String nodeId) {
          throw new IllegalStateException("no spare nodes: " + nodeId + " cannot be reset");
        }

        @Override
        public String raftAddress(String nodeId) {
          throw new IllegalStateException("no spare nodes: " + nodeId + " has no Raft address");
        }

        @Override
        public String region(String nodeId) {
          throw new IllegalStateException("no spare nodes: " + nodeId + " has no region");
        }
      };

  MembershipChanges(NodeLauncher launcher, ClusterControl control) {
    this.launcher = launcher;
    this.spares = launcher.spares().orElse(NONE);
    this.control = control;
    this.firstGroup = launcher.nodeIds();
    this.slots = new ArrayList<>(firstGroup);
    this.slots.addAll(spares.spareIds());
    this.voters = new TreeSet<>(firstGroup);
  }

  /**
   * How long AddNode may wait for a joining node, given how long the first group's nodes took to
   * start and answer: a joiner is started just before AddNode and needs as long to start (its JVM,
   * its HSM's key file), then catches up and proves its zones. On a loaded machine a node's start
   * alone takes minutes, far beyond a fixed wait.
   */
  static int joinWaitSeconds(Duration firstGroupStart) {
    long seconds = MIN_WAIT_SECONDS + 2 * Math.max(0, firstGroupStart.toSeconds());
    return (int) Math.min(MAX_WAIT_SECONDS, seconds);
  }

  /**
   * Sets the wait of every later AddNode from the first group's start ({@link #joinWaitSeconds}).
   */
  void nodesStartedWithin(Duration firstGroupStart) {
    waitSeconds = joinWaitSeconds(firstGroupStart);
  }

  int waitSeconds() {
    return waitSeconds;
  }

  /**
   * Whether a first-group voter reports the cluster at {@link #MEMBERSHIP_VERSION} or above, asking
   * every {@code pollMillis} while {@code keepWaiting} holds; once seen, it is not asked again (the
   * version never goes down). False when the wait ended first: the move is "not yet".
   */
  boolean awaitMembershipVersion(java.util.function.BooleanSupplier keepWaiting, long pollMillis) {
    while (!membershipVersionSeen) {
      for (String node : voters()) {
        if (control
            .status(node)
            .map(s -> s.getActiveClusterVersion() >= MEMBERSHIP_VERSION)
            .orElse(false)) {
          membershipVersionSeen = true;
          return true;
        }
      }
      if (!keepWaiting.getAsBoolean()) {
        return false;
      }
      sleepQuietly(pollMillis);
    }
    return true;
  }

  /** Whether the launcher laid out spares, without which there is nothing to add. */
  boolean available() {
    return !spares.spareIds().isEmpty();
  }

  synchronized List<String> voters() {
    return List.copyOf(voters);
  }

  /** The slots outside the group now, in id order. */
  synchronized List<String> outside() {
    List<String> out = new ArrayList<>(slots);
    out.removeAll(voters);
    return out;
  }

  /** Whether a removal keeps at least as many voters as the first group had. */
  synchronized boolean mayRemove() {
    return voters.size() > firstGroup.size();
  }

  /** Whether {@code node} is a first-group node that is in the group now (faults may target it). */
  synchronized boolean isFirstGroupVoter(String node) {
    return firstGroup.contains(node) && voters.contains(node);
  }

  /** Starts {@code target} afresh and asks {@code via} to add it. */
  JsonObject add(String via, String target) {
    JsonObject value = new JsonObject();
    value.addProperty("via", via);
    value.addProperty("node", target);
    try {
      startFresh(target);
      List<String> after =
          control.addNode(
              via,
              target,
              spares.raftAddress(target),
              launcher.apiAddress(target),
              spares.region(target),
              waitSeconds);
      value.add("answeredVoters", array(after));
    } catch (StatusRuntimeException | IOException e) {
      value.addProperty("error", describe(e));
    }
    settle(via, value, target);
    return value;
  }

  /** Asks {@code via} to remove {@code target} (asked again once on an unknown outcome). */
  JsonObject remove(String via, String target) {
    JsonObject value = new JsonObject();
    value.addProperty("via", via);
    value.addProperty("node", target);
    askWithOneRetry(
        value,
        () -> {
          RemoveNodeResponse removed = control.removeNode(via, target);
          JsonObject answer = new JsonObject();
          answer.add("answeredVoters", array(removed.getVotersList()));
          answer.addProperty("alreadyRemoved", removed.getAlreadyRemoved());
          return answer;
        });
    settle(via, value, target);
    return value;
  }

  /**
   * Starts {@code target} afresh and asks {@code via} to replace {@code old} with it (asked again
   * once on an unknown outcome: the retry continues the replacement, or answers already_replaced).
   */
  JsonObject replace(String via, String old, String target) {
    JsonObject value = new JsonObject();
    value.addProperty("via", via);
    value.addProperty("old", old);
    value.addProperty("node", target);
    try {
      startFresh(target);
    } catch (IOException e) {
      value.addProperty("error", describe(e));
      settle(via, value, target, old);
      return value;
    }
    askWithOneRetry(
        value,
        () -> {
          ReplaceNodeResponse replaced =
              control.replaceNode(
                  via,
                  old,
                  target,
                  spares.raftAddress(target),
                  launcher.apiAddress(target),
                  spares.region(target),
                  waitSeconds);
          JsonObject answer = new JsonObject();
          answer.add("answeredVoters", array(replaced.getVotersList()));
          answer.addProperty("alreadyReplaced", replaced.getAlreadyReplaced());
          return answer;
        });
    settle(via, value, target, old);
    return value;
  }

  /**
   * Makes {@code call}, and once more if its outcome is unknown (UNAVAILABLE, DEADLINE_EXCEEDED);
   * copies its answer into {@code value} with the number of attempts, or records the last error.
   */
  private static void askWithOneRetry(JsonObject value, Supplier<JsonObject> call) {
    for (int attempt = 1; attempt <= 2; attempt++) {
      try {
        call.get().entrySet().forEach(field -> value.add(field.getKey(), field.getValue()));
        value.addProperty("attempts", attempt);
        value.remove("error");
        return;
      } catch (StatusRuntimeException e) {
        value.addProperty("error", describe(e));
        if (!unknownOutcome(e)) {
          return;
        }
      }
    }
  }

  /** An answer that leaves open whether the change took effect: worth asking once more. */
  private static boolean unknownOutcome(StatusRuntimeException e) {
    Status.Code code = e.getStatus().getCode();
    return code == Status.Code.UNAVAILABLE || code == Status.Code.DEADLINE_EXCEEDED;
  }

  /**
   * Puts the first group back at the end of a run: every first-group node outside the group is
   * added again, then every spare in it is removed. Bounded by the moves' own deadlines.
   */
  JsonObject restore(String via) {
    JsonObject value = new JsonObject();
    refresh(via);
    JsonArray moves = new JsonArray();
    for (String node : firstGroup) {
      if (!voters().contains(node)) {
        moves.add(add(via, node));
      }
    }
    for (String spare : spares.spareIds()) {
      if (voters().contains(spare)) {
        JsonObject removed = remove(via, spare);
        if (!voters().contains(spare)) {
          // An operator's retry of a removal that took effect: success, never NOT_FOUND.
          JsonObject retry = remove(via, spare);
          removed.add("retry", retry);
        }
        moves.add(removed);
      }
    }
    value.add("moves", moves);
    value.add("voters", array(voters()));
    value.addProperty("firstGroupRestored", voters().equals(firstGroup));
    return value;
  }

  /**
   * Reads the voters again after a move, stops and resets every slot that is no longer a member
   * (the old node of a replacement, a removed node, a joiner that was not added), and records the
   * outcome.
   */
  private void settle(String via, JsonObject value, String... involved) {
    refresh(via);
    List<String> now = voters();
    value.add("voters", array(now));
    for (String node : involved) {
      if (!now.contains(node)) {
        try {
          spares.resetToJoiner(node);
        } catch (IOException | RuntimeException e) {
          value.addProperty("resetError-" + node, describe(e));
        }
      }
    }
  }

  /** The voters as the cluster reports them (through {@code via}, else any first-group voter). */
  private void refresh(String via) {
    List<String> asked = new ArrayList<>(List.of(via));
    asked.addAll(voters());
    for (int round = 0; round < 3; round++) {
      for (String node : asked) {
        Optional<List<String>> seen = control.voters(node);
        if (seen.isPresent() && !seen.get().isEmpty()) {
          synchronized (this) {
            voters.clear();
            voters.addAll(seen.get());
          }
          return;
        }
      }
      sleepQuietly(1_000);
    }
  }

  private void startFresh(String target) throws IOException {
    spares.resetToJoiner(target);
    launcher.start(target);
  }

  private static JsonArray array(List<String> ids) {
    JsonArray out = new JsonArray();
    ids.forEach(out::add);
    return out;
  }

  private static String describe(Exception e) {
    if (e instanceof StatusRuntimeException s) {
      com.google.rpc.ErrorInfo info = KeyrotorException.errorInfoOrNull(s);
      String reason = info == null ? "" : " " + info.getReason();
      return s.getStatus().getCode() + reason + ": " + s.getStatus().getDescription();
    }
    return e.getClass().getSimpleName() + ": " + e.getMessage();
  }

  private static void sleepQuietly(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
