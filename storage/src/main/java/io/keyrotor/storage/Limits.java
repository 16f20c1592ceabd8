package io.keyrotor.storage;

/**
 * The bounds apply enforces on everything a caller can grow in the replicated state. They are
 * compiled in, the same on every replica, because apply must decide the same on every node whatever
 * each node's configuration says: a limit read from a node's file at apply would let replicas
 * disagree about whether a command succeeded, and so about the state digest.
 *
 * <p>The server's {@code limits.*} settings are admission limits at most as large as these: the
 * server refuses a request over its setting before anything is proposed (no log entry, no audit
 * record, no request record), and apply re-checks {@link #CEILINGS}, so requests racing on several
 * nodes can never take the state past them.
 *
 * @param keysPerCluster most keys the cluster holds
 * @param keysPerZone most keys of one zone
 * @param versionsPerKey most versions of one key (destroyed and cancelled ones count)
 * @param reasonBytes longest reason of a cancellation or rollback, in UTF-8 bytes
 * @param requestRecords most request ids remembered for deduplication; the oldest are forgotten
 *     first, before their 24 hours are up, once there are more
 */
public record Limits(
    int keysPerCluster, int keysPerZone, int versionsPerKey, int reasonBytes, int requestRecords) {

  /** Most keys of the cluster, at apply. */
  public static final int MAX_KEYS_PER_CLUSTER = 1_000_000;

  /** Most keys of one zone, at apply. */
  public static final int MAX_KEYS_PER_ZONE = 1_000_000;

  /** Most versions of one key, at apply. */
  public static final int MAX_VERSIONS_PER_KEY = 10_000;

  /** Longest cancellation or rollback reason, in UTF-8 bytes, at apply. */
  public static final int MAX_REASON_BYTES = 1_024;

  /** Most remembered request ids. */
  public static final int MAX_REQUEST_RECORDS = 1_000_000;

  /** The limits every replica applies. */
  public static final Limits CEILINGS =
      new Limits(
          MAX_KEYS_PER_CLUSTER,
          MAX_KEYS_PER_ZONE,
          MAX_VERSIONS_PER_KEY,
          MAX_REASON_BYTES,
          MAX_REQUEST_RECORDS);

  public Limits {
    if (keysPerCluster < 1
        || keysPerZone < 1
        || versionsPerKey < 1
        || reasonBytes < 1
        || requestRecords < 1) {
      throw new IllegalArgumentException("every limit must be positive");
    }
  }
}
