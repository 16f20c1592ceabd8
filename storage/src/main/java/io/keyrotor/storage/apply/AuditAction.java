package io.keyrotor.storage.apply;

import io.keyrotor.proto.internal.v1.Command;

/**
 * The action an audit record names: the command kind that was applied, named as its {@link
 * Command.BodyCase} is, or what the store did instead of applying one.
 */
public enum AuditAction {
  CREATE_KEY,
  ROTATE_KEY,
  SET_VERSION_STATUS,
  REGISTER_NODE,
  SET_ROTATION_POLICY,
  START_ZONE_MASTER_KEY_ROTATION,
  REWRAP_KEKS,
  RETIRE_ZONE_MASTER_KEY_VERSION,
  SCHEDULE_VERSION_DESTROY,
  CANCEL_VERSION_DESTROY,
  DESTROY_VERSION,
  SET_VERSION_FLOORS,
  ACKNOWLEDGE_VERSION,
  CANCEL_ROTATION,
  ROLLBACK_ROTATION,
  REPORT_USAGE,
  SET_DEPENDENTS,
  RECORD_ACTIVATION,
  ROTATE_KEYS,
  START_BULK_ROTATION,
  SET_AUTHORIZATION_POLICY,
  BOOTSTRAP_AUTHORIZATION_POLICY,
  RECORD_DENIALS,
  RESERVE_ENCRYPTIONS,
  RECORD_DATA_AUDIT_HEAD,
  REGISTER_AUDIT_KEY,
  RECORD_AUDIT_CHECKPOINT,
  ADMIT_NODE,
  REMOVE_NODE,
  SET_CLUSTER_VERSION,
  /** Retention: old audit records, events and bulk rotation jobs removed. */
  TRIM_HISTORY,
  /** A destruction receipt's signature recorded (the audit record carries the signed receipt). */
  SIGN_DESTRUCTION_RECEIPT,
  /** A command without a body this node knows (a newer node proposed it); it was refused. */
  UNKNOWN_COMMAND,
  /** A retried request id: the remembered result was returned and nothing was applied. */
  DEDUPLICATED;

  /** The action of a command of kind {@code kind}. */
  public static AuditAction of(Command.BodyCase kind) {
    return switch (kind) {
      case CREATE_KEY -> CREATE_KEY;
      case ROTATE_KEY -> ROTATE_KEY;
      case SET_VERSION_STATUS -> SET_VERSION_STATUS;
      case REGISTER_NODE -> REGISTER_NODE;
      case SET_ROTATION_POLICY -> SET_ROTATION_POLICY;
      case START_ZONE_MASTER_KEY_ROTATION -> START_ZONE_MASTER_KEY_ROTATION;
      case REWRAP_KEKS -> REWRAP_KEKS;
      case RETIRE_ZONE_MASTER_KEY_VERSION -> RETIRE_ZONE_MASTER_KEY_VERSION;
      case SCHEDULE_VERSION_DESTROY -> SCHEDULE_VERSION_DESTROY;
      case CANCEL_VERSION_DESTROY -> CANCEL_VERSION_DESTROY;
      case DESTROY_VERSION -> DESTROY_VERSION;
      case SET_VERSION_FLOORS -> SET_VERSION_FLOORS;
      case ACKNOWLEDGE_VERSION -> ACKNOWLEDGE_VERSION;
      case CANCEL_ROTATION -> CANCEL_ROTATION;
      case ROLLBACK_ROTATION -> ROLLBACK_ROTATION;
      case REPORT_USAGE -> REPORT_USAGE;
      case SET_DEPENDENTS -> SET_DEPENDENTS;
      case RECORD_ACTIVATION -> RECORD_ACTIVATION;
      case ROTATE_KEYS -> ROTATE_KEYS;
      case START_BULK_ROTATION -> START_BULK_ROTATION;
      case SET_AUTHORIZATION_POLICY -> SET_AUTHORIZATION_POLICY;
      case BOOTSTRAP_AUTHORIZATION_POLICY -> BOOTSTRAP_AUTHORIZATION_POLICY;
      case RECORD_DENIALS -> RECORD_DENIALS;
      case RESERVE_ENCRYPTIONS -> RESERVE_ENCRYPTIONS;
      case RECORD_DATA_AUDIT_HEAD -> RECORD_DATA_AUDIT_HEAD;
      case REGISTER_AUDIT_KEY -> REGISTER_AUDIT_KEY;
      case RECORD_AUDIT_CHECKPOINT -> RECORD_AUDIT_CHECKPOINT;
      case ADMIT_NODE -> ADMIT_NODE;
      case REMOVE_NODE -> REMOVE_NODE;
      case SET_CLUSTER_VERSION -> SET_CLUSTER_VERSION;
      case TRIM_HISTORY -> TRIM_HISTORY;
      case SIGN_DESTRUCTION_RECEIPT -> SIGN_DESTRUCTION_RECEIPT;
      // A batch inside a batch is refused: its commands were not applied.
      case BODY_NOT_SET, BATCH -> UNKNOWN_COMMAND;
    };
  }
}
