package io.keyrotor.storage.apply.access;

import com.google.rpc.Code;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.Permission;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CreateKey;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.Label;
import io.keyrotor.proto.internal.v1.StartBulkRotation;
import io.keyrotor.storage.access.AccessDecision;
import io.keyrotor.storage.access.AccessPolicy;
import io.keyrotor.storage.apply.CommandContext;
import io.keyrotor.storage.apply.Effects;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The apply-time re-check: a command that carries a principal (one an RPC caused) applies only if
 * the policy at its log index still allows that principal the command's permission on its target.
 * The server checked the same before proposing, but a grant revoked between proposal and apply must
 * not let the write through; a refusal is a PERMISSION_DENIED result, changes nothing, and is
 * audited with the principal like every applied command.
 *
 * <p>Commands without a principal were proposed by the nodes themselves and are not checked.
 */
public final class ApplyAuthorization {
  private ApplyAuthorization() {}

  /** The permission a command of {@code kind} needs at apply. */
  public static Permission permission(Command.BodyCase kind) {
    return switch (kind) {
      case CREATE_KEY, SET_ROTATION_POLICY, SET_VERSION_FLOORS, SET_DEPENDENTS ->
          Permission.PERMISSION_CONFIGURE_KEYS;
      case ROTATE_KEY, CANCEL_ROTATION, ROLLBACK_ROTATION, START_BULK_ROTATION ->
          Permission.PERMISSION_ROTATE_KEYS;
      case SET_VERSION_STATUS -> Permission.PERMISSION_ENABLE_DISABLE_VERSIONS;
      case SCHEDULE_VERSION_DESTROY, CANCEL_VERSION_DESTROY ->
          Permission.PERMISSION_DESTROY_VERSIONS;
      // A checkpoint asked for by a caller: whoever may read the audit trail may have it signed.
      case RECORD_AUDIT_CHECKPOINT -> Permission.PERMISSION_READ_AUDIT;
      // Cluster administration, and every command the nodes propose themselves: should one ever
      // carry a principal, only an administrator may have caused it.
      case START_ZONE_MASTER_KEY_ROTATION,
          RETIRE_ZONE_MASTER_KEY_VERSION,
          SET_AUTHORIZATION_POLICY,
          BOOTSTRAP_AUTHORIZATION_POLICY,
          RECORD_DENIALS,
          RECORD_DATA_AUDIT_HEAD,
          REGISTER_NODE,
          ADMIT_NODE,
          REMOVE_NODE,
          REWRAP_KEKS,
          DESTROY_VERSION,
          ACKNOWLEDGE_VERSION,
          REPORT_USAGE,
          RESERVE_ENCRYPTIONS,
          RECORD_ACTIVATION,
          ROTATE_KEYS,
          REGISTER_AUDIT_KEY,
          SET_CLUSTER_VERSION,
          BATCH,
          TRIM_HISTORY,
          SIGN_DESTRUCTION_RECEIPT,
          BODY_NOT_SET ->
          Permission.PERMISSION_ADMINISTER;
    };
  }

  /**
   * The refusal of {@code context}'s command under {@code policy}, or empty when it carries no
   * principal or the policy allows it.
   */
  public static Optional<Effects> denial(CommandContext context, AccessPolicy policy) {
    Command command = context.command();
    String principal = command.getPrincipal();
    if (principal.isEmpty()) {
      return Optional.empty();
    }
    Permission permission = permission(command.getBodyCase());
    AccessDecision decision = check(policy, principal, permission, command, context);
    if (decision.allowed()) {
      return Optional.empty();
    }
    String key = keyName(command);
    return Optional.of(
        context
            .reject(
                ErrorReason.PERMISSION_DENIED,
                Code.PERMISSION_DENIED,
                decision.explanation() + " (checked when the command was applied)",
                key)
            .withAuditDetail(
                "PERMISSION_DENIED principal="
                    + principal
                    + " permission="
                    + AccessPolicy.permissionName(permission)
                    + " policy_version="
                    + policy.version()));
  }

  private static AccessDecision check(
      AccessPolicy policy,
      String principal,
      Permission permission,
      Command command,
      CommandContext context) {
    switch (command.getBodyCase()) {
      case CREATE_KEY -> {
        CreateKey create = command.getCreateKey();
        return policy.check(
            principal,
            permission,
            create.getName(),
            create.getZone(),
            create.getLabelsList(),
            Map.of());
      }
      case START_BULK_ROTATION -> {
        StartBulkRotation job = command.getStartBulkRotation();
        return policy.check(
            principal, permission, "", job.getZone(), job.getLabelSelectorList(), Map.of());
      }
      case START_ZONE_MASTER_KEY_ROTATION -> {
        return policy.check(
            principal,
            permission,
            "",
            command.getStartZoneMasterKeyRotation().getZone(),
            List.of(),
            Map.of());
      }
      case RETIRE_ZONE_MASTER_KEY_VERSION -> {
        return policy.check(
            principal,
            permission,
            "",
            command.getRetireZoneMasterKeyVersion().getZone(),
            List.of(),
            Map.of());
      }
      default -> {
        String name = keyName(command);
        if (name.isEmpty()) {
          return policy.checkCluster(principal, permission);
        }
        Optional<KeyRecord> key = context.state().key(name);
        // A key that does not exist has no zone or labels: only unscoped bindings match it.
        List<Label> labels = key.map(KeyRecord::getLabelsList).orElse(List.of());
        String zone = key.map(KeyRecord::getZone).orElse("");
        return policy.check(principal, permission, name, zone, labels, Map.of());
      }
    }
  }

  /** The key a command acts on, or empty for one that acts on a zone or the cluster. */
  static String keyName(Command command) {
    return switch (command.getBodyCase()) {
      case CREATE_KEY -> command.getCreateKey().getName();
      case ROTATE_KEY -> command.getRotateKey().getName();
      case SET_VERSION_STATUS -> command.getSetVersionStatus().getName();
      case SET_ROTATION_POLICY -> command.getSetRotationPolicy().getName();
      case SCHEDULE_VERSION_DESTROY -> command.getScheduleVersionDestroy().getName();
      case CANCEL_VERSION_DESTROY -> command.getCancelVersionDestroy().getName();
      case DESTROY_VERSION -> command.getDestroyVersion().getName();
      case SET_VERSION_FLOORS -> command.getSetVersionFloors().getName();
      case ACKNOWLEDGE_VERSION -> command.getAcknowledgeVersion().getName();
      case CANCEL_ROTATION -> command.getCancelRotation().getName();
      case ROLLBACK_ROTATION -> command.getRollbackRotation().getName();
      case SET_DEPENDENTS -> command.getSetDependents().getName();
      case RECORD_ACTIVATION -> command.getRecordActivation().getName();
      case RESERVE_ENCRYPTIONS -> command.getReserveEncryptions().getName();
      default -> "";
    };
  }
}
