package io.keyrotor.chaos.workload;

import com.google.gson.JsonObject;
import io.keyrotor.chaos.history.HistoryRecorder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The workloads' part of a run's final phase, after the heal: stop the scheduled rotations, read
 * every key and re-decrypt every ciphertext on every node, and record each node's final status.
 */
final class FinalPhase {
  private final RunState run;
  private final List<NodeApi> nodes;
  private final KeySlots keys;
  private final Set<Workload> active;

  FinalPhase(RunState run, List<NodeApi> nodes, KeySlots keys, Set<Workload> active) {
    this.run = run;
    this.nodes = nodes;
    this.keys = keys;
    this.active = active;
  }

  /** See {@link Workloads#finalReads()}. */
  void reads() {
    List<Thread> threads = new ArrayList<>();
    for (NodeApi node : nodes) {
      Thread thread = new Thread(() -> reads(node), "chaos-final-" + node.nodeId());
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

  private void reads(NodeApi node) {
    ClientProcess reader = new ClientProcess(run, node);
    for (Map.Entry<Workload, List<String>> entry : keys.all().entrySet()) {
      Workload workload = entry.getKey();
      for (String key : entry.getValue()) {
        switch (workload) {
          case W2 -> {
            reader.getPrimary(key);
            reader.readVersions("final-get-version", key);
          }
          case W5 -> reader.listScheduled("final-list-scheduled", key);
          default -> reader.readVersions("list-versions", key);
        }
      }
    }
    if (active.contains(Workload.W3)) {
      for (String key : keys.all(Workload.W3)) {
        for (Ciphertexts.Sealed s : run.ciphertexts.of(key)) {
          reader.decrypt("final-decrypt", key, s.ciphertext(), OperationValues::plaintext);
        }
      }
    }
  }

  /** See {@link Workloads#stopScheduledRotations()}. */
  void stopScheduledRotations() {
    for (String key : keys.all(Workload.W5)) {
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      for (int attempt = 0; System.nanoTime() < deadline; attempt++) {
        NodeApi node = nodes.get(attempt % nodes.size());
        if (new ClientProcess(run, node).stopSchedule(key) != null) {
          break;
        }
        RunState.sleep(500);
      }
    }
  }

  /** See {@link Workloads#finalStatus(Duration)}. */
  void status(Duration patience) {
    HistoryRecorder recorder = run.recorder;
    long deadline = System.nanoTime() + patience.toNanos();
    while (true) {
      Set<Long> indexes = new HashSet<>();
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
      RunState.sleep(500);
    }
  }
}
