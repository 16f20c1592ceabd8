package io.keyrotor.storage.access;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.Code;
import io.keyrotor.api.v1.AuthorizationPolicy;
import io.keyrotor.api.v1.Binding;
import io.keyrotor.api.v1.Permission;
import io.keyrotor.api.v1.Role;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.AuditRecord;
import io.keyrotor.proto.internal.v1.BootstrapAuthorizationPolicy;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CommandResult;
import io.keyrotor.proto.internal.v1.SetAuthorizationPolicy;
import io.keyrotor.proto.internal.v1.SetVersionStatus;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.storage.Commands;
import io.keyrotor.storage.KeyStateStore;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The policy as replicated state in a real store: bootstrap first-wins, compare-and-set, the
 * apply-time re-check of principal-carrying writes, and the principal in audit records.
 */
class AuthorizationApplyTest {
  @TempDir Path dir;
  private KeyStateStore store;
  private long index;

  @BeforeEach
  void open() {
    store = KeyStateStore.open(dir.resolve("store"));
  }

  @org.junit.jupiter.api.AfterEach
  void close() {
    store.close();
  }

  private CommandResult apply(Command.Builder command) {
    index++;
    if (command.getRequestId().isEmpty()) {
      command.setRequestId("req-" + index);
    }
    return store.apply(
        command.setOriginNode("n1").setProposedTimeUnixMillis(1_000_000 + index).build(), 1, index);
  }

  private static Command.Builder bootstrap(String... admins) {
    return Command.newBuilder()
        .setBootstrapAuthorizationPolicy(
            BootstrapAuthorizationPolicy.newBuilder()
                .addAllAdmins(List.of(admins))
                .setPolicy(PolicyRules.bootstrap(List.of(admins))));
  }

  private static Command.Builder setPolicy(long expected, AuthorizationPolicy policy, String by) {
    return Command.newBuilder()
        .setPrincipal(by)
        .setSetAuthorizationPolicy(
            SetAuthorizationPolicy.newBuilder().setPolicy(policy).setExpectedVersion(expected));
  }

  /** Admin plus "ops", who may enable and disable versions of every key. */
  private static AuthorizationPolicy withOps(boolean opsMayDisable) {
    AuthorizationPolicy.Builder policy =
        PolicyRules.bootstrap(List.of("admin")).toBuilder()
            .addRoles(
                Role.newBuilder()
                    .setName("versions")
                    .addPermissions(Permission.PERMISSION_ENABLE_DISABLE_VERSIONS));
    if (opsMayDisable) {
      policy.addBindings(
          Binding.newBuilder().setName("ops").setRole("versions").setPrincipal("ops"));
    }
    return policy.build();
  }

  private static Command.Builder disable(String key, String principal) {
    return Command.newBuilder()
        .setPrincipal(principal)
        .setSetVersionStatus(
            SetVersionStatus.newBuilder()
                .setName(key)
                .setVersion(1)
                .setStatus(VersionStatus.VERSION_STATUS_DISABLED));
  }

  private AuditRecord lastAudit() {
    List<AuditRecord> records = store.audit(index, 1);
    return records.get(0);
  }

  @Test
  void bootstrap_firstAppliedWins_laterOnesChangeNothing() {
    assertEquals(0, store.accessPolicy().version());
    assertEquals(Code.OK_VALUE, apply(bootstrap("admin")).getOutcome().getCode());
    assertEquals(1, store.accessPolicy().version());
    String digest = store.digest();

    CommandResult second = apply(bootstrap("intruder"));
    assertEquals(Code.OK_VALUE, second.getOutcome().getCode());
    assertTrue(second.getOutcome().getMessage().startsWith("unchanged"));
    assertFalse(
        store.accessPolicy().checkCluster("intruder", Permission.PERMISSION_ADMINISTER).allowed());
    assertTrue(
        store.accessPolicy().checkCluster("admin", Permission.PERMISSION_ADMINISTER).allowed());
    assertEquals("bootstrap-admin-admin", store.accessPolicy().policy().getBindings(0).getName());
    // Only the audit chain moved (the digest covers its head), not the policy record.
    assertFalse(digest.equals(store.digest()));
  }

  @Test
  void policyIsInTheDigestAndSurvivesReopening() {
    apply(bootstrap("admin"));
    String digest = store.digest();
    store.close();
    store = KeyStateStore.open(dir.resolve("store"));
    assertEquals(digest, store.digest());
    assertEquals(1, store.accessPolicy().version());
    assertTrue(
        store.accessPolicy().checkCluster("admin", Permission.PERMISSION_ADMINISTER).allowed());
  }

  @Test
  void setPolicy_isCompareAndSetAndNeedsAdminister() {
    apply(bootstrap("admin"));
    CommandResult set = apply(setPolicy(1, withOps(true), "admin"));
    assertEquals(Code.OK_VALUE, set.getOutcome().getCode(), set.getOutcome().getMessage());
    assertEquals(2, store.accessPolicy().version());
    assertEquals("admin", store.accessPolicy().policy().getSetBy());
    assertEquals("admin", lastAudit().getPrincipal());

    CommandResult stale = apply(setPolicy(1, withOps(false), "admin"));
    assertEquals(Code.FAILED_PRECONDITION_VALUE, stale.getOutcome().getCode());
    assertEquals("POLICY_VERSION_MISMATCH", stale.getOutcome().getReason());
    assertEquals(2, store.accessPolicy().version());

    CommandResult notAdmin = apply(setPolicy(2, withOps(false), "ops"));
    assertEquals(Code.PERMISSION_DENIED_VALUE, notAdmin.getOutcome().getCode());
    assertEquals(2, store.accessPolicy().version());
    AuditRecord denied = lastAudit();
    assertEquals("ops", denied.getPrincipal());
    assertEquals("PERMISSION_DENIED", denied.getResultReason());
    assertTrue(denied.getDetail().contains("permission=ADMINISTER"), denied.getDetail());
  }

  @Test
  void applyRecheck_aGrantRevokedBeforeApplyRefusesTheWrite_stateUnchanged() {
    apply(bootstrap("admin"));
    apply(Command.newBuilder().mergeFrom(Commands.create("create-k", 1_000_000, "k")));
    apply(setPolicy(0, withOps(true), "admin"));
    // ops's write was checked and proposed under version 2; the revocation is applied first.
    apply(setPolicy(0, withOps(false), "admin"));
    String digestBefore = store.key("k").orElseThrow().toString();

    CommandResult write = apply(disable("k", "ops"));
    assertEquals(Code.PERMISSION_DENIED_VALUE, write.getOutcome().getCode());
    assertTrue(
        write.getOutcome().getMessage().contains("\"ops\""), write.getOutcome().getMessage());
    assertTrue(write.getOutcome().getMessage().contains("ENABLE_DISABLE_VERSIONS"));
    assertTrue(write.getOutcome().getMessage().contains("key \"k\""));
    assertEquals(digestBefore, store.key("k").orElseThrow().toString(), "the key is unchanged");
    assertEquals("ops", lastAudit().getPrincipal());
    assertEquals(Code.PERMISSION_DENIED_VALUE, lastAudit().getResultCode());
  }

  @Test
  void applyRecheck_allowedWriteAppliesAndIsAuditedWithItsPrincipal() {
    apply(bootstrap("admin"));
    apply(Command.newBuilder().mergeFrom(Commands.create("create-k", 1_000_000, "k")));
    assertEquals("", lastAudit().getPrincipal(), "a node's own command carries none");
    // A rotation by the node (no principal) makes version 2 primary, so version 1 may be disabled.
    apply(
        Command.newBuilder()
            .mergeFrom(
                Commands.rotate(
                    "rotate-k", 1_000_000, "k", 1_000_000, RotationReason.ROTATION_REASON_MANUAL)));
    apply(setPolicy(0, withOps(true), "admin"));
    CommandResult write = apply(disable("k", "ops"));
    assertEquals(Code.OK_VALUE, write.getOutcome().getCode(), write.getOutcome().getMessage());
    assertEquals(
        VersionStatus.VERSION_STATUS_DISABLED,
        store.key("k").orElseThrow().getVersions(0).getStatus());
    assertEquals("ops", lastAudit().getPrincipal());
  }
}
