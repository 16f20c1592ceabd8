package io.keyrotor.storage.schema;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Every RocksDB column family, declared once with a stable name. Renaming one is a storage format
 * change. {@link StateDatabase} opens them all, in declaration order.
 */
public enum Schema {
  /** Applied position, last command time, audit chain head, state digest accumulator. */
  META("meta", false),
  /** Key name -> KeyRecord. */
  KEYS("keys", true),
  /** Node id -> NodeRecord (what each node told the cluster about itself). */
  NODES("nodes", true),
  /** Request id -> RequestRecord, so a retried write applies once. */
  REQUESTS("requests", true),
  /** (time millis, request id) -> empty: the eviction order of REQUESTS. */
  REQUEST_EXPIRY("request_expiry", false),
  /** Log index -> AuditRecord: the tamper-evident audit chain. */
  AUDIT("audit", false),
  /** Zone name -> ZoneMasterKeyRecord: zone master key rotations and retired versions. */
  ZONE_MASTER_KEYS("zone_master_keys", true),
  /** Job id -> BulkRotationRecord: bulk rotations started. */
  BULK_ROTATIONS("bulk_rotations", true),
  /**
   * (log index, sequence) -> KeyEventRecord: the lifecycle event stream, derived from commands (the
   * audit chain covers those, so events are left out of the digest).
   */
  EVENTS("events", false),
  /** (key name, 0, log index, sequence) -> empty: the events of one key, for its history. */
  KEY_EVENTS("key_events", false),
  /** "policy" -> AuthorizationPolicyRecord: the authorisation policy in force (one record). */
  ACCESS_POLICY("access_policy", true),
  /**
   * Zone -> key count (8 bytes): how many keys each zone holds, kept in each command's batch so the
   * limits never count keys (derived from KEYS, so left out of the digest).
   */
  KEY_COUNTS("key_counts", false),
  /** Key name -> empty: the keys whose newest version awaits validation (derived from KEYS). */
  KEYS_AWAITING_VALIDATION("keys_awaiting_validation", false),
  /**
   * (time millis, key name) -> empty: when each key may next need the rotation scheduler, so it
   * reads what is due instead of every key (derived from KEYS).
   */
  KEY_ATTENTION("key_attention", false),
  /** Key name -> the times (8 bytes each) it holds in KEY_ATTENTION, to replace them. */
  KEY_ATTENTION_TIMES("key_attention_times", false),
  /**
   * (key name, 0, version) -> DestructionReceiptRecord: the receipt of each destroyed version, with
   * the log index and audit record hash of its destruction.
   */
  DESTRUCTION_RECEIPTS("destruction_receipts", true);

  private final String columnFamilyName;
  private final boolean inDigest;

  Schema(String columnFamilyName, boolean inDigest) {
    this.columnFamilyName = columnFamilyName;
    this.inDigest = inDigest;
  }

  /** The column family's name as RocksDB stores it (UTF-8). */
  public byte[] columnFamilyNameBytes() {
    return columnFamilyName.getBytes(StandardCharsets.UTF_8);
  }

  /** The column family's name. */
  public String columnFamilyName() {
    return columnFamilyName;
  }

  /**
   * Whether this family's entries are summed into the state digest. REQUEST_EXPIRY mirrors REQUESTS
   * and AUDIT is covered by the audit chain head, so both are left out.
   */
  public boolean inDigest() {
    return inDigest;
  }

  /** Every column family, in declaration order. */
  public static List<Schema> all() {
    return List.of(values());
  }

  /** Keys of the META family (their values: {@link StoredMeta}). */
  public static final class MetaKey {
    /** The applied position: term and index, 8 bytes each. */
    public static final byte[] APPLIED_POSITION = bytes("applied_position");

    static final byte[] LAST_COMMAND_TIME = bytes("last_command_time_unix_millis");
    static final byte[] AUDIT_HEAD = bytes("audit_head");
    static final byte[] DIGEST_SUM = bytes("digest_sum");
    static final byte[] FORMAT_VERSION = bytes("format_version");

    /** How many keys there are (8 bytes), kept with {@link #KEY_COUNTS}. */
    public static final byte[] KEY_TOTAL = bytes("key_total");

    /** How many request ids REQUESTS holds (8 bytes), so opening a store does not count them. */
    public static final byte[] REQUEST_COUNT = bytes("request_count");

    /**
     * Present once the derived key indexes were built (at creation, or once for an older store).
     */
    public static final byte[] KEY_INDEXES = bytes("key_indexes_version");

    /**
     * The cluster's active apply version (a ClusterVersionRecord), absent before the first raise.
     * Kept here rather than in a family of its own so the previous release can still open the
     * store; it is covered by the reported digest through the audit chain head.
     */
    public static final byte[] CLUSTER_VERSION = bytes("cluster_version");

    /**
     * (log index, commands applied) of the batch entry being applied: its commands are written one
     * by one, so after a crash amid a batch the replay resumes after the last one written.
     */
    public static final byte[] BATCH_PROGRESS = bytes("batch_progress");

    private MetaKey() {}

    private static byte[] bytes(String s) {
      return s.getBytes(StandardCharsets.UTF_8);
    }
  }
}
