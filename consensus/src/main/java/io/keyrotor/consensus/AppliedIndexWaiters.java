package io.keyrotor.consensus;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * Futures that complete once this node has applied a given log index: what a read on a listener
 * waits for after the leader gave it a read index. Ratis keeps its own such queue for reads it
 * serves itself, but a listener that joined through a configuration change serves none (see {@link
 * ListenerReads}), so the state machine tells this queue about every index it applies.
 *
 * <p>Bounded by the reads in flight: every waiter either completes or is dropped by its caller's
 * timeout ({@link #cancel}).
 */
final class AppliedIndexWaiters {
  private final TreeMap<Long, List<CompletableFuture<Long>>> waiting = new TreeMap<>();
  private long applied = -1;

  /** Completes with the applied index once it is at least {@code index}. */
  synchronized CompletableFuture<Long> await(long index) {
    if (applied >= index) {
      return CompletableFuture.completedFuture(applied);
    }
    CompletableFuture<Long> future = new CompletableFuture<>();
    waiting.computeIfAbsent(index, i -> new ArrayList<>(1)).add(future);
    return future;
  }

  /** Forgets {@code future} (its caller gave up). */
  synchronized void cancel(long index, CompletableFuture<Long> future) {
    List<CompletableFuture<Long>> at = waiting.get(index);
    if (at != null && at.removeIf(f -> f == future) && at.isEmpty()) {
      waiting.remove(index);
    }
  }

  /** Told that this node has applied everything up to {@code index}. */
  void appliedThrough(long index) {
    List<CompletableFuture<Long>> ready;
    synchronized (this) {
      if (index <= applied) {
        return;
      }
      applied = index;
      if (waiting.isEmpty()) {
        return;
      }
      Map<Long, List<CompletableFuture<Long>>> due = waiting.headMap(index, true);
      ready = new ArrayList<>();
      due.values().forEach(ready::addAll);
      due.clear();
    }
    // Outside the lock: a completed read continues on this thread.
    ready.forEach(f -> f.complete(index));
  }
}
