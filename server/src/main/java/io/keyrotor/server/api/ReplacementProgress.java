package io.keyrotor.server.api;

import java.util.Set;

/**
 * Where a ReplaceNode of {@code old} by {@code replacement} stands, read from the group's
 * configuration, the node registry and the audit trail, so a retried call does what is left and no
 * more: a replacement is AddNode of the new node, then RemoveNode of the old one, and a call may be
 * cut off (a deadline, a dropped connection) after either step.
 */
enum ReplacementProgress {
  /** The new node does not vote yet: add it, then remove the old one. */
  ADD_NEW,
  /** The new node votes (an earlier call added it); the old one is still there: remove it. */
  REMOVE_OLD,
  /**
   * The old node left the group and the registry by a recorded removal, and the new node votes: an
   * earlier call completed the replacement, nothing is left to do.
   */
  DONE,
  /** The old node is unknown, or it left but the new node does not vote: not this replacement. */
  NOT_A_REPLACEMENT;

  /**
   * @param members every member of the group (voters and listeners)
   * @param voters the voting members
   * @param registered the ids in the node registry
   * @param oldRemovalRecorded whether the audit trail holds an applied removal of {@code old}
   */
  static ReplacementProgress of(
      String old,
      String replacement,
      Set<String> members,
      Set<String> voters,
      Set<String> registered,
      boolean oldRemovalRecorded) {
    boolean newVotes = voters.contains(replacement);
    if (members.contains(old) || registered.contains(old)) {
      return newVotes ? REMOVE_OLD : ADD_NEW;
    }
    return newVotes && oldRemovalRecorded ? DONE : NOT_A_REPLACEMENT;
  }
}
