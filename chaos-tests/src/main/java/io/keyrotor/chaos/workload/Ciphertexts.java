package io.keyrotor.chaos.workload;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/** The ciphertexts W3 and W6 encrypts returned, by key, for later decrypts on other nodes. */
final class Ciphertexts {
  /** A ciphertext an encrypt returned. */
  record Sealed(String key, String ciphertext, String plaintext, int version, String node) {}

  private final Map<String, List<Sealed>> byKey = new ConcurrentHashMap<>();

  void add(Sealed sealed) {
    byKey.computeIfAbsent(sealed.key(), k -> new CopyOnWriteArrayList<>()).add(sealed);
  }

  /** The ciphertexts of a key so far, in the order they were made. */
  List<Sealed> of(String key) {
    return byKey.getOrDefault(key, List.of());
  }

  boolean noneFor(String key) {
    return of(key).isEmpty();
  }

  /**
   * A random ciphertext of {@code key}, preferably one another node than {@code nodeId} made (up to
   * three more draws); null if the key has none.
   */
  Sealed pickPreferringOtherNode(String key, SplittableRandom random, String nodeId) {
    List<Sealed> candidates = of(key);
    if (candidates.isEmpty()) {
      return null;
    }
    Sealed chosen = candidates.get(random.nextInt(candidates.size()));
    for (int i = 0; i < 3 && chosen.node().equals(nodeId); i++) {
      chosen = candidates.get(random.nextInt(candidates.size()));
    }
    return chosen;
  }
}
