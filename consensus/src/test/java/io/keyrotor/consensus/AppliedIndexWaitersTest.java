package io.keyrotor.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The waiters a listener's read barrier uses: released in index order, never early. */
class AppliedIndexWaitersTest {

  @Test
  void aWaiterCompletesOnlyOnceItsIndexIsApplied() {
    AppliedIndexWaiters waiters = new AppliedIndexWaiters();
    waiters.appliedThrough(4);
    assertEquals(4L, waiters.await(3).join(), "already applied: at once");

    CompletableFuture<Long> at7 = waiters.await(7);
    CompletableFuture<Long> at9 = waiters.await(9);
    waiters.appliedThrough(6);
    assertFalse(at7.isDone());
    waiters.appliedThrough(8);
    assertEquals(8L, at7.join());
    assertFalse(at9.isDone());
    waiters.appliedThrough(5);
    assertFalse(at9.isDone(), "an older index never releases a read");
    waiters.appliedThrough(9);
    assertEquals(9L, at9.join());
  }

  @Test
  void aCancelledWaiterIsForgotten() {
    AppliedIndexWaiters waiters = new AppliedIndexWaiters();
    CompletableFuture<Long> given = waiters.await(3);
    CompletableFuture<Long> kept = waiters.await(3);
    waiters.cancel(3, given);
    waiters.appliedThrough(3);
    assertFalse(given.isDone(), "dropped by its caller");
    assertTrue(kept.isDone());
  }
}
