package io.keyrotor.server.access;

import io.keyrotor.api.v1.Permission;

/**
 * What a call asks to do: one value per RPC of KeyService, AdminService, AuditService,
 * DataAuditService and ComplianceService, each with the one {@link Permission} the authorisation
 * policy must grant for it (docs/architecture.md, "Authorisation"). GetNodeStatus and
 * GetClusterStatus need an authenticated caller and no permission: nodes ask each other, and the
 * SDK discovers the leader through them.
 */
public enum Operation {
  CREATE_KEY("keyrotor.v1.KeyService/CreateKey", Permission.PERMISSION_CONFIGURE_KEYS),
  GET_KEY("keyrotor.v1.KeyService/GetKey", Permission.PERMISSION_READ_KEYS),
  LIST_KEYS("keyrotor.v1.KeyService/ListKeys", Permission.PERMISSION_READ_KEYS),
  ROTATE_KEY("keyrotor.v1.KeyService/RotateKey", Permission.PERMISSION_ROTATE_KEYS),
  DISABLE_KEY_VERSION(
      "keyrotor.v1.KeyService/DisableKeyVersion", Permission.PERMISSION_ENABLE_DISABLE_VERSIONS),
  ENABLE_KEY_VERSION(
      "keyrotor.v1.KeyService/EnableKeyVersion", Permission.PERMISSION_ENABLE_DISABLE_VERSIONS),
  SCHEDULE_KEY_VERSION_DESTROY(
      "keyrotor.v1.KeyService/ScheduleKeyVersionDestroy", Permission.PERMISSION_DESTROY_VERSIONS),
  CANCEL_KEY_VERSION_DESTROY(
      "keyrotor.v1.KeyService/CancelKeyVersionDestroy", Permission.PERMISSION_DESTROY_VERSIONS),
  SET_ROTATION_POLICY(
      "keyrotor.v1.KeyService/SetRotationPolicy", Permission.PERMISSION_CONFIGURE_KEYS),
  GENERATE_DATA_KEY("keyrotor.v1.KeyService/GenerateDataKey", Permission.PERMISSION_ENCRYPT),
  GENERATE_DATA_KEY_WITHOUT_PLAINTEXT(
      "keyrotor.v1.KeyService/GenerateDataKeyWithoutPlaintext", Permission.PERMISSION_ENCRYPT),
  ENCRYPT("keyrotor.v1.KeyService/Encrypt", Permission.PERMISSION_ENCRYPT),
  DECRYPT("keyrotor.v1.KeyService/Decrypt", Permission.PERMISSION_DECRYPT),
  /** The source key; the destination key is checked as {@link #RE_ENCRYPT_DESTINATION}. */
  RE_ENCRYPT("keyrotor.v1.KeyService/ReEncrypt", Permission.PERMISSION_DECRYPT),
  RE_ENCRYPT_DESTINATION("keyrotor.v1.KeyService/ReEncrypt", Permission.PERMISSION_ENCRYPT),
  BATCH_DECRYPT("keyrotor.v1.KeyService/BatchDecrypt", Permission.PERMISSION_DECRYPT),
  BATCH_RE_ENCRYPT("keyrotor.v1.KeyService/BatchReEncrypt", Permission.PERMISSION_DECRYPT),
  BATCH_RE_ENCRYPT_DESTINATION(
      "keyrotor.v1.KeyService/BatchReEncrypt", Permission.PERMISSION_ENCRYPT),
  WATCH_KEY_EVENTS("keyrotor.v1.KeyService/WatchKeyEvents", Permission.PERMISSION_READ_KEYS),
  CANCEL_ROTATION("keyrotor.v1.KeyService/CancelRotation", Permission.PERMISSION_ROTATE_KEYS),
  ROLLBACK_ROTATION("keyrotor.v1.KeyService/RollbackRotation", Permission.PERMISSION_ROTATE_KEYS),
  SET_VERSION_FLOORS(
      "keyrotor.v1.KeyService/SetVersionFloors", Permission.PERMISSION_CONFIGURE_KEYS),
  SET_KEY_DEPENDENTS(
      "keyrotor.v1.KeyService/SetKeyDependents", Permission.PERMISSION_CONFIGURE_KEYS),
  START_BULK_ROTATION(
      "keyrotor.v1.KeyService/StartBulkRotation", Permission.PERMISSION_ROTATE_KEYS),
  GET_BULK_ROTATION("keyrotor.v1.KeyService/GetBulkRotation", Permission.PERMISSION_READ_KEYS),
  LIST_ROTATIONS("keyrotor.v1.KeyService/ListRotations", Permission.PERMISSION_READ_KEYS),
  LIST_KEY_EVENTS("keyrotor.v1.KeyService/ListKeyEvents", Permission.PERMISSION_READ_KEYS),
  /**
   * A receipt is about one key and shows no more than its history does (ListKeyEvents), so it needs
   * what reading the key needs, on that key.
   */
  GET_DESTRUCTION_RECEIPT(
      "keyrotor.v1.KeyService/GetDestructionReceipt", Permission.PERMISSION_READ_KEYS),
  GET_CLUSTER_STATUS("keyrotor.v1.AdminService/GetClusterStatus", null),
  GET_NODE_STATUS("keyrotor.v1.AdminService/GetNodeStatus", null),
  TRANSFER_LEADERSHIP(
      "keyrotor.v1.AdminService/TransferLeadership", Permission.PERMISSION_ADMINISTER),
  TAKE_SNAPSHOT("keyrotor.v1.AdminService/TakeSnapshot", Permission.PERMISSION_ADMINISTER),
  ROTATE_ZONE_MASTER_KEY(
      "keyrotor.v1.AdminService/RotateZoneMasterKey", Permission.PERMISSION_ADMINISTER),
  RETIRE_ZONE_MASTER_KEY_VERSION(
      "keyrotor.v1.AdminService/RetireZoneMasterKeyVersion", Permission.PERMISSION_ADMINISTER),
  GET_POLICY("keyrotor.v1.AdminService/GetPolicy", Permission.PERMISSION_ADMINISTER),
  SET_POLICY("keyrotor.v1.AdminService/SetPolicy", Permission.PERMISSION_ADMINISTER),
  TEST_POLICY("keyrotor.v1.AdminService/TestPolicy", Permission.PERMISSION_ADMINISTER),
  LIST_DATA_AUDIT_RECORDS(
      "keyrotor.v1.DataAuditService/ListDataAuditRecords", Permission.PERMISSION_READ_AUDIT),
  /** The compliance report: an auditor's read of every key's state, cluster-wide. */
  STREAM_COMPLIANCE_REPORT(
      "keyrotor.v1.ComplianceService/StreamComplianceReport", Permission.PERMISSION_READ_AUDIT),
  EXPORT_AUDIT("keyrotor.v1.AuditService/ExportAudit", Permission.PERMISSION_READ_AUDIT),
  GET_AUDIT_KEYS("keyrotor.v1.AuditService/GetAuditKeys", Permission.PERMISSION_READ_AUDIT),
  /** A checkpoint changes no key: whoever may read the audit trail may have its head signed. */
  CREATE_AUDIT_CHECKPOINT(
      "keyrotor.v1.AuditService/CreateAuditCheckpoint", Permission.PERMISSION_READ_AUDIT),
  ROTATE_AUDIT_KEY("keyrotor.v1.AuditService/RotateAuditKey", Permission.PERMISSION_ADMINISTER),
  ADD_NODE("keyrotor.v1.AdminService/AddNode", Permission.PERMISSION_ADMINISTER),
  REMOVE_NODE("keyrotor.v1.AdminService/RemoveNode", Permission.PERMISSION_ADMINISTER),
  REPLACE_NODE("keyrotor.v1.AdminService/ReplaceNode", Permission.PERMISSION_ADMINISTER),
  /** A backup holds every record of the state (wrapped KEKs, the policy, the audit chain). */
  CREATE_BACKUP("keyrotor.v1.BackupService/CreateBackup", Permission.PERMISSION_ADMINISTER),
  /** Every RPC of the chaos service (test clusters only). */
  CHAOS("keyrotor.chaos.v1.ChaosService/*", Permission.PERMISSION_ADMINISTER),
  /**
   * The node's HTTPS endpoint: {@code /metrics} and the status page (not a gRPC method). It shows
   * every node's status, HSM and limits, so it needs the permission of cluster administration,
   * which covers node status, rather than only an authenticated caller as GetClusterStatus does.
   */
  HTTP_STATUS("https:/metrics and /", Permission.PERMISSION_ADMINISTER);

  private final String fullMethodName;
  private final Permission permissionOrNull;

  Operation(String fullMethodName, Permission permissionOrNull) {
    this.fullMethodName = fullMethodName;
    this.permissionOrNull = permissionOrNull;
  }

  /** The gRPC method, as {@code package.Service/Method}. */
  public String fullMethodName() {
    return fullMethodName;
  }

  /** The permission it needs; null when an authenticated caller is enough. */
  public Permission permissionOrNull() {
    return permissionOrNull;
  }
}
