package io.keyrotor.consensus.testing;

import static org.junit.jupiter.api.Assertions.fail;

import io.keyrotor.consensus.RaftNode;
import io.keyrotor.storage.StateView;
import java.time.Duration;
import java.util.Collection;
import java.util.OptionalLong;
import java.util.function.BooleanSupplier;

/**
 * Waiting on a test cluster's Raft members (this module's tests and, through its test-jar, the
 * server's): for a condition, and for the replicas to agree.
 */
public final class Replicas {
  private Replicas() {}

  /**
   * Waits until {@code condition} holds, checking every 50 ms; fails the test after {@code
   * timeout}. A condition that throws has not held yet (a node may be between roles, or stopping).
   */
  public static void waitUntil(BooleanSupplier condition, Duration timeout, String what) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      try {
        if (condition.getAsBoolean()) {
          return;
        }
      } catch (RuntimeException e) {
        // not yet: a node may be between roles
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        fail("interrupted while waiting for " + what);
      }
    }
    fail("timed out after " + timeout + " waiting for " + what);
  }

  /**
   * The index every one of {@code nodes} has applied, if they have all applied the same index and
   * report the same state digest.
   */
  public static OptionalLong sameAppliedState(Collection<RaftNode> nodes) {
    long index = -2;
    String digest = null;
    for (RaftNode node : nodes) {
      StateView state = node.state();
      if (index == -2) {
        index = state.appliedPosition().index();
        digest = state.digest();
      } else if (index != state.appliedPosition().index() || !digest.equals(state.digest())) {
        return OptionalLong.empty();
      }
    }
    return index == -2 ? OptionalLong.empty() : OptionalLong.of(index);
  }
}
