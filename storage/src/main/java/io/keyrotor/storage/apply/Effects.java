package io.keyrotor.storage.apply;

import com.google.rpc.Code;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.proto.internal.v1.AuditRecord;
import io.keyrotor.proto.internal.v1.AuthorizationPolicyRecord;
import io.keyrotor.proto.internal.v1.BulkRotationRecord;
import io.keyrotor.proto.internal.v1.ClusterVersionRecord;
import io.keyrotor.proto.internal.v1.CommandResultRecord;
import io.keyrotor.proto.internal.v1.KeyEventRecord;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.ZoneMasterKeyRecord;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What applying one command does: its result, the records it writes, the events it causes and its
 * audit action and detail. Computed by a handler without touching storage; written by the store in
 * one batch. Immutable; built with {@link #builder} or, for a refusal, {@link #rejected}.
 */
public final class Effects {
  private final CommandResultRecord result;
  private final AuditAction action;
  private final String auditDetail;
  private final List<KeyRecord> keyWrites;
  private final Optional<NodeRecord> nodeWrite;
  private final Optional<ZoneMasterKeyRecord> zoneMasterKeyWrite;
  private final Optional<BulkRotationRecord> bulkRotationWrite;
  private final Optional<AuthorizationPolicyRecord> policyWrite;
  private final List<KeyEventRecord> events;
  private final AuditRecord auditFields;
  private final Optional<ClusterVersionRecord> clusterVersionWrite;

  private Effects(Builder builder) {
    this.result = Objects.requireNonNull(builder.result, "effects need a result");
    this.action = builder.action;
    this.auditDetail = builder.auditDetail;
    this.keyWrites = List.copyOf(builder.keyWrites);
    this.nodeWrite = Optional.ofNullable(builder.nodeWrite);
    this.zoneMasterKeyWrite = Optional.ofNullable(builder.zoneMasterKeyWrite);
    this.bulkRotationWrite = Optional.ofNullable(builder.bulkRotationWrite);
    this.policyWrite = Optional.ofNullable(builder.policyWrite);
    this.events = List.copyOf(builder.events);
    this.auditFields = builder.auditFields;
    this.clusterVersionWrite = Optional.ofNullable(builder.clusterVersionWrite);
  }

  /** A builder of the effects of a command audited as {@code action}. */
  public static Builder builder(AuditAction action) {
    return new Builder(action);
  }

  /**
   * The effects of a refused command: a result with {@code code} and {@code reason} (its name is
   * what is stored and sent), nothing written, and the reason as the audit detail.
   */
  public static Effects rejected(
      AuditAction action, ErrorReason reason, Code code, String message, String key, long index) {
    CommandResultRecord result =
        CommandResultRecord.newBuilder()
            .setCode(code.getNumber())
            .setReason(reason.name())
            .setMessage(message)
            .setKeyName(key)
            .setAppliedIndex(index)
            .build();
    return builder(action).result(result).detail(reason.name()).build();
  }

  /** These effects with {@code auditDetail} as the audit detail instead. */
  public Effects withAuditDetail(String auditDetail) {
    Builder copy =
        builder(action).result(result).detail(auditDetail).writeKeys(keyWrites).events(events);
    nodeWrite.ifPresent(copy::writeNode);
    zoneMasterKeyWrite.ifPresent(copy::writeZoneMasterKey);
    bulkRotationWrite.ifPresent(copy::writeBulkRotation);
    policyWrite.ifPresent(copy::writePolicy);
    clusterVersionWrite.ifPresent(copy::writeClusterVersion);
    return copy.auditFields(auditFields).build();
  }

  /** The outcome returned to the caller and remembered for its request id. */
  public CommandResultRecord result() {
    return result;
  }

  /** What the audit record names as the action. */
  public AuditAction action() {
    return action;
  }

  /** A short description for the audit record; never key material. */
  public String auditDetail() {
    return auditDetail;
  }

  /** Every key record to store, in order; a later record of the same key replaces an earlier. */
  public List<KeyRecord> allKeyWrites() {
    return keyWrites;
  }

  /** The node record to store, if the command registered a node. */
  public Optional<NodeRecord> nodeWrite() {
    return nodeWrite;
  }

  /** The zone master key record to store, if the command changed one. */
  public Optional<ZoneMasterKeyRecord> zoneMasterKeyWrite() {
    return zoneMasterKeyWrite;
  }

  /** The bulk rotation job record to store, if the command started one. */
  public Optional<BulkRotationRecord> bulkRotationWrite() {
    return bulkRotationWrite;
  }

  /** The authorisation policy to store, if the command set one. */
  public Optional<AuthorizationPolicyRecord> policyWrite() {
    return policyWrite;
  }

  /** The cluster version record to store, if the command raised the active version. */
  public Optional<ClusterVersionRecord> clusterVersionWrite() {
    return clusterVersionWrite;
  }

  /**
   * The lifecycle events the command caused, in order (the store fills in log index and sequence).
   */
  public List<KeyEventRecord> events() {
    return events;
  }

  /**
   * Fields the command adds to its audit record beyond the common ones (a registered audit key, a
   * checkpoint); the default instance when none.
   */
  public AuditRecord auditFields() {
    return auditFields;
  }

  /** Collects the effects of one command; {@link #build} needs a result. */
  public static final class Builder {
    private final AuditAction action;
    private CommandResultRecord result;
    private String auditDetail = "";
    private final List<KeyRecord> keyWrites = new ArrayList<>();
    private NodeRecord nodeWrite;
    private ZoneMasterKeyRecord zoneMasterKeyWrite;
    private BulkRotationRecord bulkRotationWrite;
    private AuthorizationPolicyRecord policyWrite;
    private final List<KeyEventRecord> events = new ArrayList<>();
    private AuditRecord auditFields = AuditRecord.getDefaultInstance();
    private ClusterVersionRecord clusterVersionWrite;

    private Builder(AuditAction action) {
      this.action = Objects.requireNonNull(action);
    }

    /**
     * A successful result naming {@code key} and {@code version} (0 and "" for none), applied at
     * {@code index}, with the activation time of a version it created (0 otherwise).
     */
    public Builder ok(
        String key, int version, long index, long activationTimeMillis, String message) {
      return result(
          CommandResultRecord.newBuilder()
              .setCode(Code.OK_VALUE)
              .setKeyName(key)
              .setVersion(version)
              .setAppliedIndex(index)
              .setActivationTimeUnixMillis(activationTimeMillis)
              .setMessage(message)
              .build());
    }

    /** {@code result} as it is (a remembered one, for a retried request). */
    public Builder result(CommandResultRecord result) {
      this.result = result;
      return this;
    }

    public Builder detail(String auditDetail) {
      this.auditDetail = auditDetail;
      return this;
    }

    public Builder writeKey(KeyRecord key) {
      keyWrites.add(key);
      return this;
    }

    public Builder writeKeys(Collection<KeyRecord> keys) {
      keyWrites.addAll(keys);
      return this;
    }

    public Builder writeNode(NodeRecord node) {
      this.nodeWrite = node;
      return this;
    }

    public Builder writeZoneMasterKey(ZoneMasterKeyRecord zone) {
      this.zoneMasterKeyWrite = zone;
      return this;
    }

    public Builder writeBulkRotation(BulkRotationRecord job) {
      this.bulkRotationWrite = job;
      return this;
    }

    public Builder writePolicy(AuthorizationPolicyRecord policy) {
      this.policyWrite = policy;
      return this;
    }

    public Builder writeClusterVersion(ClusterVersionRecord version) {
      this.clusterVersionWrite = version;
      return this;
    }

    public Builder event(KeyEventRecord event) {
      events.add(event);
      return this;
    }

    public Builder events(Collection<KeyEventRecord> more) {
      events.addAll(more);
      return this;
    }

    /** Fields merged into the command's audit record (see {@link Effects#auditFields}). */
    public Builder auditFields(AuditRecord fields) {
      this.auditFields = Objects.requireNonNull(fields);
      return this;
    }

    public Effects build() {
      return new Effects(this);
    }
  }
}
