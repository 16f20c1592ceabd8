package io.keyrotor.server.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Set;
import org.junit.jupiter.api.Test;

/** What a ReplaceNode of n3 by n5 still has to do, at each point an earlier call may stop. */
class ReplacementProgressTest {
  private static ReplacementProgress progress(
      Set<String> members, Set<String> voters, Set<String> registered, boolean removalRecorded) {
    return ReplacementProgress.of("n3", "n5", members, voters, registered, removalRecorded);
  }

  @Test
  void firstCall_newNodeNotInTheGroup_addsItFirst() {
    assertEquals(
        ReplacementProgress.ADD_NEW,
        progress(
            Set.of("n1", "n2", "n3"), Set.of("n1", "n2", "n3"), Set.of("n1", "n2", "n3"), false));
  }

  @Test
  void newNodeStillAListener_addsIt() {
    assertEquals(
        ReplacementProgress.ADD_NEW,
        progress(
            Set.of("n1", "n2", "n3", "n5"),
            Set.of("n1", "n2", "n3"),
            Set.of("n1", "n2", "n3", "n5"),
            false));
  }

  @Test
  void retry_afterTheAddCompleted_onlyRemovesTheOldNode() {
    assertEquals(
        ReplacementProgress.REMOVE_OLD,
        progress(
            Set.of("n1", "n2", "n3", "n5"),
            Set.of("n1", "n2", "n3", "n5"),
            Set.of("n1", "n2", "n3", "n5"),
            false));
  }

  @Test
  void retry_oldNodeOutOfTheGroupButStillRegistered_finishesTheRemoval() {
    assertEquals(
        ReplacementProgress.REMOVE_OLD,
        progress(
            Set.of("n1", "n2", "n5"),
            Set.of("n1", "n2", "n5"),
            Set.of("n1", "n2", "n3", "n5"),
            false));
  }

  @Test
  void retry_afterTheReplacementCompleted_isDone() {
    assertEquals(
        ReplacementProgress.DONE,
        progress(
            Set.of("n1", "n2", "n5"), Set.of("n1", "n2", "n5"), Set.of("n1", "n2", "n5"), true));
  }

  @Test
  void oldNodeRemovedButNewNodeDoesNotVote_isNotThisReplacement() {
    assertEquals(
        ReplacementProgress.NOT_A_REPLACEMENT,
        progress(Set.of("n1", "n2"), Set.of("n1", "n2"), Set.of("n1", "n2"), true));
    // A read replica of that id is not the voter a replacement makes.
    assertEquals(
        ReplacementProgress.NOT_A_REPLACEMENT,
        progress(Set.of("n1", "n2", "n5"), Set.of("n1", "n2"), Set.of("n1", "n2", "n5"), true));
  }

  @Test
  void oldNodeNeverKnown_isNotAReplacement() {
    assertEquals(
        ReplacementProgress.NOT_A_REPLACEMENT,
        progress(
            Set.of("n1", "n2", "n5"), Set.of("n1", "n2", "n5"), Set.of("n1", "n2", "n5"), false));
  }
}
