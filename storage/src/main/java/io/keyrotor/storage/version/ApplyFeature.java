package io.keyrotor.storage.version;

/**
 * Every apply behaviour that changed after version {@link ClusterVersion#BASE}, with the cluster
 * version that switches it on. A handler asks {@code context.feature(ApplyFeature.X)}: below the
 * version it keeps the old behaviour, so a cluster that still has a node on the previous binary
 * applies every entry the same way on every replica. The server refuses, before proposing, a
 * request that needs a feature that is not active yet ({@code FEATURE_NOT_ACTIVE}).
 *
 * <p>To add a gated behaviour: append a constant here with {@link ClusterVersion#SUPPORTED} (raise
 * {@code SUPPORTED} by one if every feature at the current value was already released), branch on
 * it in the handler, and test both sides (docs/architecture.md, "Rolling upgrades").
 */
public enum ApplyFeature {
  /**
   * RegisterNode's audit detail also names the apply version the node's binary supports, so the
   * audit trail shows which binary each node ran when it (re)joined.
   */
  REGISTRATION_AUDITS_SUPPORTED_VERSION(2),

  /**
   * RegisterNode's audit detail also lists the zones the node proved it can unwrap ({@code
   * verified=[...]}). Version 2, not later: every binary that supports version 2 has always written
   * it, so the detail at version 2 stays as before; at version 1 the detail is the one the base
   * binary wrote, which knows no verified zones.
   */
  REGISTRATION_AUDITS_VERIFIED_ZONES(2),

  /**
   * Log entries may hold a batch of client commands (group commit). A binary before this version
   * does not know the batch command and would refuse it where the others apply it, so the leader
   * gathers commands only once the cluster runs at this version.
   */
  COMMAND_BATCHES(2),

  /**
   * Retention: the leader proposes TrimHistory, which cuts audit records and events at a signed
   * checkpoint and removes old bulk rotation jobs; a binary before this version does not know it.
   */
  HISTORY_TRIM(2),

  /**
   * The leader signs each destruction receipt with its audit key and proposes the signature
   * (SignDestructionReceipt); a binary before this version does not know the command.
   */
  SIGNED_DESTRUCTION_RECEIPTS(2),

  /**
   * ReportUsage also adds the data keys a node issued and rewrapped away under each version
   * (UsageCount fields 190 and 191) to the version's record, for the compliance report's
   * outstanding data keys; a binary before this version ignores those fields, so nodes report them
   * only once it is active.
   */
  DATA_KEY_USAGE_COUNTS(3),

  /**
   * AdmitNode and RemoveNode, the membership commands, apply. The base binary does not know them:
   * it sees a command without a body and refuses it as UNKNOWN_COMMAND, so below this version every
   * replica refuses them the same way (same result, same audit record) instead of the newer nodes
   * changing the registry alone. Version 2, not later: every binary that supports version 2 has
   * always applied them.
   */
  MEMBERSHIP_COMMANDS(2);

  private final int version;

  ApplyFeature(int version) {
    if (version <= ClusterVersion.BASE || version > ClusterVersion.SUPPORTED) {
      throw new IllegalStateException(
          "a gated behaviour needs a version in ("
              + ClusterVersion.BASE
              + ", "
              + ClusterVersion.SUPPORTED
              + "]");
    }
    this.version = version;
  }

  /** The cluster version from which apply behaves this way. */
  public int version() {
    return version;
  }

  /** Whether this behaviour is on in a cluster whose active version is {@code activeVersion}. */
  public boolean activeAt(int activeVersion) {
    return activeVersion >= version;
  }
}
