package io.keyrotor.chaos.workload;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * One worker thread, pinned to one node: picks a workload by weight, sends it one operation at a
 * time as one client process, and waits an exponentially distributed pause (mean: workers / rate)
 * between operations, until the deadline or a stop.
 */
final class Worker implements Runnable {
  private final RunState run;
  private final KeySlots keys;
  private final Set<Workload> active;
  private final ClientProcess client;
  private final SplittableRandom random;
  private final long deadlineNanos;

  /** The latest version this worker read or made, by key (W2's expected version; W6's range). */
  private final Map<String, Integer> latestSeen = new HashMap<>();

  Worker(
      RunState run,
      KeySlots keys,
      Set<Workload> active,
      NodeApi node,
      SplittableRandom random,
      long deadlineNanos) {
    this.run = run;
    this.keys = keys;
    this.active = active;
    this.client = new ClientProcess(run, node);
    this.random = random;
    this.deadlineNanos = deadlineNanos;
  }

  @Override
  public void run() {
    double meanDelayMillis = 1000.0 * run.config.workers() / run.config.opsPerSecond();
    while (!run.stopped() && System.nanoTime() < deadlineNanos) {
      Workload workload = pick();
      if (workload == null) {
        return;
      }
      try {
        switch (workload) {
          case W1 -> rotations();
          case W2 -> primaryRegister();
          case W3 -> encryptDecrypt();
          case W4 -> activationTimes();
          case W5 -> scheduledRotations();
          case W6 -> disableThenUse();
        }
      } catch (RuntimeException e) {
        System.err.println("chaos: worker error (harness bug?): " + e);
        e.printStackTrace();
      }
      long delay = (long) (-meanDelayMillis * Math.log(1 - random.nextDouble()));
      RunState.sleep(Math.min(delay, (long) (4 * meanDelayMillis)));
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

  /** W1: rotations as an append-only list. */
  private void rotations() {
    String key = keys.acquire(Workload.W1, random);
    if (random.nextInt(100) < 30) {
      client.rotate(key);
    } else {
      client.readVersions("list-versions", key);
    }
  }

  /**
   * W2: the primary version as a compare-and-set register (RotateKey with expected_latest_version
   * as the CAS; reads: GetKey primary_version and revision).
   */
  private void primaryRegister() {
    String key = keys.acquire(Workload.W2, random);
    if (random.nextInt(100) < 60 || !latestSeen.containsKey(key)) {
      NodeApi.KeyView view = client.getPrimary(key);
      if (view != null) {
        latestSeen.put(key, view.latestVersion());
      }
      return;
    }
    NodeApi.Rotated rotated = client.activate(key, latestSeen.get(key));
    if (rotated != null) {
      latestSeen.put(key, rotated.version());
    } else {
      latestSeen.remove(key);
    }
  }

  /** W3: encrypt on one node, decrypt on another. */
  private void encryptDecrypt() {
    String key = keys.acquire(Workload.W3, random);
    int dice = random.nextInt(100);
    if (dice < 10) {
      client.rotate(key);
    } else if (dice < 55 || run.ciphertexts.noneFor(key)) {
      encrypt(key);
    } else {
      decrypt(key);
    }
  }

  /** W4: activation timestamps, read from every node (on W2's current key). */
  private void activationTimes() {
    // Counts towards the W2 key's operation limit: it is the same key's history.
    client.readVersions("get-version", keys.acquire(Workload.W2, random));
  }

  /** W5: keys with a short rotation period; reads list the scheduled rotations by slot. */
  private void scheduledRotations() {
    client.listScheduled("list-scheduled", keys.acquire(Workload.W5, random));
  }

  /** W6: disable-then-use. */
  private void disableThenUse() {
    String key = keys.acquire(Workload.W6, random);
    int dice = random.nextInt(100);
    int latest = Math.max(1, latestSeen.getOrDefault(key, 1));
    if (dice < 10) {
      NodeApi.Rotated rotated = client.rotate(key);
      if (rotated != null) {
        latestSeen.put(key, rotated.version());
      }
    } else if (dice < 22) {
      setEnabled(key, 1 + random.nextInt(latest), false);
    } else if (dice < 32) {
      setEnabled(key, 1 + random.nextInt(latest), true);
    } else if (dice < 66 || run.ciphertexts.noneFor(key)) {
      encrypt(key);
    } else {
      decrypt(key);
    }
  }

  private void encrypt(String key) {
    String plaintext = "pt-" + key + "-" + run.next();
    NodeApi.Encrypted encrypted = client.encrypt(key, plaintext);
    if (encrypted != null) {
      run.ciphertexts.add(
          new Ciphertexts.Sealed(
              key,
              OperationValues.base64(encrypted.ciphertext()),
              plaintext,
              encrypted.version(),
              client.nodeId()));
    }
  }

  private void decrypt(String key) {
    Ciphertexts.Sealed target =
        run.ciphertexts.pickPreferringOtherNode(key, random, client.nodeId());
    if (target != null) {
      client.decrypt("decrypt", key, target.ciphertext(), OperationValues::decrypted);
    }
  }

  private void setEnabled(String key, int version, boolean enabled) {
    NodeApi.KeyView view = client.setEnabled(key, version, enabled);
    if (view != null) {
      latestSeen.put(key, view.latestVersion());
    }
  }
}
