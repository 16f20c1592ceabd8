package io.keyrotor.chaos.upgrade;

import io.keyrotor.chaos.workload.NodeApi;
import io.keyrotor.chaos.workload.OpError;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * The write load of a rolling upgrade: one writer creating keys, one after another, through
 * whichever node answers, and encrypting a known payload under each key it created. It remembers
 * every key the cluster acknowledged and every ciphertext it was given, so the run can check that
 * none was lost; a failed or indeterminate call is retried under a new name (an unacknowledged key
 * may exist or not, and is never checked). It can be held while the run compares digests.
 */
final class UpgradeLoad implements Runnable {
  /** Bounds the run's memory: the writer stops acknowledging more than this many keys. */
  static final int MAX_KEYS = 50_000;

  private final List<String> nodes;
  private final Function<String, NodeApi> apiOrNull;
  private final Map<String, byte[]> ciphertexts = new ConcurrentHashMap<>();
  private final AtomicInteger next = new AtomicInteger();
  private final AtomicInteger failedCalls = new AtomicInteger();
  private final AtomicBoolean stop = new AtomicBoolean();
  private final AtomicBoolean held = new AtomicBoolean();
  private final AtomicBoolean idle = new AtomicBoolean();
  private final AtomicBoolean finished = new AtomicBoolean();

  /**
   * @param nodes the node ids, tried in turn
   * @param apiOrNull a node's API, or null while the node is down
   */
  UpgradeLoad(List<String> nodes, Function<String, NodeApi> apiOrNull) {
    this.nodes = List.copyOf(nodes);
    this.apiOrNull = apiOrNull;
  }

  @Override
  public void run() {
    int attempt = 0;
    while (!stop.get() && ciphertexts.size() < MAX_KEYS) {
      if (held.get()) {
        idle.set(true);
        pause(50);
        continue;
      }
      idle.set(false);
      NodeApi api = apiOrNull.apply(nodes.get(attempt++ % nodes.size()));
      if (api == null) {
        continue;
      }
      String name = "upgrade-" + next.getAndIncrement();
      try {
        api.createKey(name, 0, name);
        byte[] ciphertext = api.encrypt(name, payload(name)).ciphertext().toByteArray();
        ciphertexts.put(name, ciphertext);
      } catch (OpError e) {
        // The node is restarting, not the leader, or the call timed out: try the next node.
        failedCalls.incrementAndGet();
        pause(20);
      }
    }
    finished.set(true);
  }

  /** The plaintext encrypted under {@code name} (a load payload, not key material). */
  static byte[] payload(String name) {
    return ("payload of " + name).getBytes(StandardCharsets.UTF_8);
  }

  /** The acknowledged keys and the ciphertext encrypted under each. */
  Map<String, byte[]> acknowledged() {
    return Map.copyOf(ciphertexts);
  }

  int acknowledgedCount() {
    return ciphertexts.size();
  }

  int failedCalls() {
    return failedCalls.get();
  }

  /** Holds the writer after its current call; returns once it is idle. */
  void hold() {
    held.set(true);
    idle.set(false);
    while (!idle.get() && !finished.get()) {
      pause(20);
    }
  }

  void resume() {
    held.set(false);
  }

  void stop() {
    stop.set(true);
  }

  private static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
