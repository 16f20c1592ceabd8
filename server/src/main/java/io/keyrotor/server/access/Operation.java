package io.keyrotor.server.access;

/**
 * What a call asks to do, one value per RPC that changes state: KeyService's writes, which go
 * through the Raft log, and AdminService's (zone master key rotation through the log; leadership
 * transfer and snapshots, which act on this node or the group directly).
 */
public enum Operation {
  CREATE_KEY("keyrotor.v1.KeyService/CreateKey"),
  ROTATE_KEY("keyrotor.v1.KeyService/RotateKey"),
  DISABLE_KEY_VERSION("keyrotor.v1.KeyService/DisableKeyVersion"),
  ENABLE_KEY_VERSION("keyrotor.v1.KeyService/EnableKeyVersion"),
  SCHEDULE_KEY_VERSION_DESTROY("keyrotor.v1.KeyService/ScheduleKeyVersionDestroy"),
  CANCEL_KEY_VERSION_DESTROY("keyrotor.v1.KeyService/CancelKeyVersionDestroy"),
  SET_ROTATION_POLICY("keyrotor.v1.KeyService/SetRotationPolicy"),
  CANCEL_ROTATION("keyrotor.v1.KeyService/CancelRotation"),
  ROLLBACK_ROTATION("keyrotor.v1.KeyService/RollbackRotation"),
  SET_VERSION_FLOORS("keyrotor.v1.KeyService/SetVersionFloors"),
  SET_KEY_DEPENDENTS("keyrotor.v1.KeyService/SetKeyDependents"),
  START_BULK_ROTATION("keyrotor.v1.KeyService/StartBulkRotation"),
  TRANSFER_LEADERSHIP("keyrotor.v1.AdminService/TransferLeadership"),
  TAKE_SNAPSHOT("keyrotor.v1.AdminService/TakeSnapshot"),
  ROTATE_ZONE_MASTER_KEY("keyrotor.v1.AdminService/RotateZoneMasterKey"),
  RETIRE_ZONE_MASTER_KEY_VERSION("keyrotor.v1.AdminService/RetireZoneMasterKeyVersion");

  private final String fullMethodName;

  Operation(String fullMethodName) {
    this.fullMethodName = fullMethodName;
  }

  /** The gRPC method, as {@code package.Service/Method}. */
  public String fullMethodName() {
    return fullMethodName;
  }
}
