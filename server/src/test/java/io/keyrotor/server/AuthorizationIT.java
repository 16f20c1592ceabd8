package io.keyrotor.server;

import static io.keyrotor.consensus.testing.Replicas.waitUntil;
import static io.keyrotor.server.KeyRequests.decryption;
import static io.keyrotor.server.KeyRequests.disable;
import static io.keyrotor.server.KeyRequests.encryption;
import static io.keyrotor.server.KeyRequests.key;
import static io.keyrotor.server.KeyRequests.newKey;
import static io.keyrotor.server.KeyRequests.rotation;
import static io.keyrotor.server.KeyRequests.seconds;
import static io.keyrotor.server.testing.Answers.completing;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.keyrotor.api.v1.AdminServiceGrpc;
import io.keyrotor.api.v1.AuthorizationPolicy;
import io.keyrotor.api.v1.Binding;
import io.keyrotor.api.v1.ContextCondition;
import io.keyrotor.api.v1.DecryptRequest;
import io.keyrotor.api.v1.EncryptRequest;
import io.keyrotor.api.v1.GetPolicyRequest;
import io.keyrotor.api.v1.Key;
import io.keyrotor.api.v1.KeyServiceGrpc;
import io.keyrotor.api.v1.KeyVersionState;
import io.keyrotor.api.v1.Permission;
import io.keyrotor.api.v1.Role;
import io.keyrotor.api.v1.RotateKeyResponse;
import io.keyrotor.api.v1.ScheduleKeyVersionDestroyRequest;
import io.keyrotor.api.v1.SetPolicyRequest;
import io.keyrotor.api.v1.TestPolicyRequest;
import io.keyrotor.api.v1.TestPolicyResponse;
import io.keyrotor.proto.internal.v1.AuditRecord;
import io.keyrotor.server.access.DenialRecorder;
import io.keyrotor.server.access.PolicyAuthorizer;
import io.keyrotor.server.api.EventWatchers;
import io.keyrotor.server.api.KeyServiceImpl;
import io.keyrotor.server.api.ServerContext;
import io.keyrotor.server.api.WritePath;
import io.keyrotor.server.hsm.HsmExecutor;
import io.keyrotor.server.testing.InProcessCaller;
import io.keyrotor.server.testing.TestHsm;
import io.keyrotor.storage.StateView;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Authorisation on a real 3-node cluster (real Ratis, RocksDB, gRPC over sockets): the development
 * bootstrap policy, per permission a principal without it refused (PERMISSION_DENIED, nothing
 * changed, the denial in the audit chain with the principal) and one with it served, encryption
 * context conditions on the data plane, unauthenticated calls, SetPolicy's compare-and-set,
 * TestPolicy, and a grant revoked between the server's check and apply refusing the write at apply.
 * Every principal is authenticated as in production: its calls present a client certificate for it,
 * issued by the cluster's development CA ({@link LocalTestCluster#keysAs}); the race test alone
 * calls the service object in-process ({@link InProcessCaller}).
 */
class AuthorizationIT extends ClusterTestBase {
  private static final List<Permission> TESTED =
      List.of(
          Permission.PERMISSION_READ_KEYS,
          Permission.PERMISSION_CONFIGURE_KEYS,
          Permission.PERMISSION_ROTATE_KEYS,
          Permission.PERMISSION_ENABLE_DISABLE_VERSIONS,
          Permission.PERMISSION_DESTROY_VERSIONS,
          Permission.PERMISSION_ENCRYPT,
          Permission.PERMISSION_DECRYPT,
          Permission.PERMISSION_ADMINISTER);

  /** URI principals (SPIFFE IDs) of workloads; bound to CONFIGURE_KEYS only. */
  private static final String WORKLOADS = "spiffe://keyrotor.local/workload/*";

  AuthorizationIT() {
    super(List.of("eu"), FOLLOWERS_READ_INDEX);
  }

  /** The principal whose only permission is {@code p}. */
  private static String only(Permission p) {
    return "only-" + p.name().substring("PERMISSION_".length()).toLowerCase(java.util.Locale.ROOT);
  }

  private KeyServiceGrpc.KeyServiceBlockingStub keysAs(String principal) {
    return cluster.keysAs("n2", principal);
  }

  private AdminServiceGrpc.AdminServiceBlockingStub adminAs(String principal) {
    return cluster.adminAs("n2", principal);
  }

  private AuthorizationPolicy policy() {
    return cluster.policy("n2");
  }

  /** Sets {@code next} over the current policy and waits until every node applied it. */
  private AuthorizationPolicy setPolicy(AuthorizationPolicy next) {
    return cluster.setPolicy("n2", next);
  }

  @BeforeAll
  void grantOnePermissionEach() {
    AuthorizationPolicy.Builder next = policy().toBuilder();
    for (Permission p : TESTED) {
      next.addRoles(Role.newBuilder().setName("role-" + only(p)).addPermissions(p));
      next.addBindings(
          Binding.newBuilder().setName(only(p)).setRole("role-" + only(p)).setPrincipal(only(p)));
    }
    next.addBindings(
        Binding.newBuilder()
            .setName("workloads")
            .setRole("role-" + only(Permission.PERMISSION_CONFIGURE_KEYS))
            .setPrincipal(WORKLOADS));
    next.addRoles(
        Role.newBuilder()
            .setName("tenant-crypto")
            .addPermissions(Permission.PERMISSION_ENCRYPT)
            .addPermissions(Permission.PERMISSION_DECRYPT));
    next.addBindings(
        Binding.newBuilder()
            .setName("tenants")
            .setRole("tenant-crypto")
            .setPrincipal("tenant-*")
            .addContextConditions(
                ContextCondition.newBuilder().setKey("tenant").setValue("${principal}")));
    setPolicy(next.build());
  }

  private static void assertDenied(Runnable call, String principal, String permission) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call::run);
    assertEquals(Status.Code.PERMISSION_DENIED, e.getStatus().getCode(), e::toString);
    String message = e.getStatus().getDescription();
    assertTrue(message.contains("\"" + principal + "\""), message);
    assertTrue(message.contains(permission), message);
  }

  /** Waits for an audit record on n1 that says {@code fragments}, with principal {@code who}. */
  private AuditRecord awaitAudit(Predicate<AuditRecord> match, String what) {
    StateView state = cluster.nodes.get("n1").raft().state();
    AuditRecord[] found = new AuditRecord[1];
    waitUntil(
        () -> {
          for (AuditRecord r : state.audit(0, Integer.MAX_VALUE)) {
            if (match.test(r)) {
              found[0] = r;
              return true;
            }
          }
          return false;
        },
        Duration.ofSeconds(30),
        what);
    return found[0];
  }

  private Key adminGet(String name) {
    return keysAs("admin").getKey(key(name));
  }

  private record Case(Permission permission, Consumer<String> setup, Case.Call call) {
    interface Call {
      /** Calls as {@code principal} on {@code key}; returns a check of the change, run after. */
      Supplier<Boolean> call(KeyServiceGrpc.KeyServiceBlockingStub as, String key);
    }
  }

  private ByteString ciphertextUnder(String name) {
    return keysAs("admin").encrypt(encryption(name, "secret")).getCiphertext();
  }

  @Test
  void everyPermission_withoutItDeniedAndAuditedNothingChanged_withItServed() {
    Consumer<String> create = name -> keysAs("admin").createKey(newKey(name));
    Consumer<String> createAndRotate =
        name -> {
          create.accept(name);
          keysAs("admin").rotateKey(rotation(name, 0));
        };
    // Sealed in the setup, before the "nothing changed" snapshot: an encryption reserves a block of
    // encryptions under the version (its count changes), which a denied decrypt must not.
    java.util.Map<String, ByteString> sealed = new java.util.HashMap<>();
    Consumer<String> createAndSeal =
        name -> {
          create.accept(name);
          sealed.put(name, ciphertextUnder(name));
        };
    List<Case> cases =
        List.of(
            new Case(
                Permission.PERMISSION_READ_KEYS,
                create,
                (as, k) -> {
                  Key read = as.getKey(key(k));
                  return () -> read.getName().equals(k);
                }),
            new Case(
                Permission.PERMISSION_CONFIGURE_KEYS,
                name -> {},
                (as, k) -> {
                  as.createKey(newKey(k));
                  return () -> adminGet(k).getVersionsCount() == 1;
                }),
            new Case(
                Permission.PERMISSION_ROTATE_KEYS,
                create,
                (as, k) -> {
                  as.rotateKey(rotation(k, 0));
                  return () -> adminGet(k).getVersionsCount() == 2;
                }),
            new Case(
                Permission.PERMISSION_ENABLE_DISABLE_VERSIONS,
                createAndRotate,
                (as, k) -> {
                  as.disableKeyVersion(disable(k, 1));
                  return () ->
                      adminGet(k).getVersions(0).getState()
                          == KeyVersionState.KEY_VERSION_STATE_DISABLED;
                }),
            new Case(
                Permission.PERMISSION_DESTROY_VERSIONS,
                createAndRotate,
                (as, k) -> {
                  as.scheduleKeyVersionDestroy(
                      ScheduleKeyVersionDestroyRequest.newBuilder()
                          .setName(k)
                          .setVersion(1)
                          .setWaitingPeriod(seconds(3600))
                          .build());
                  return () ->
                      adminGet(k).getVersions(0).getState()
                          == KeyVersionState.KEY_VERSION_STATE_DESTROY_SCHEDULED;
                }),
            new Case(
                Permission.PERMISSION_ENCRYPT,
                create,
                (as, k) -> {
                  var out = as.encrypt(encryption(k, "x"));
                  return () -> !out.getCiphertext().isEmpty();
                }),
            new Case(
                Permission.PERMISSION_DECRYPT,
                createAndSeal,
                (as, k) -> {
                  var out = as.decrypt(decryption(sealed.get(k)));
                  return () -> out.getPlaintext().toString(StandardCharsets.UTF_8).equals("secret");
                }),
            new Case(
                Permission.PERMISSION_ADMINISTER,
                create,
                (as, k) -> {
                  // AdminService, through the same channel's principal.
                  AuthorizationPolicy read =
                      adminAs(principalOf(as)).getPolicy(GetPolicyRequest.getDefaultInstance());
                  return () -> read.getVersion() > 1;
                }));
    for (Case c : cases) {
      String name =
          unique(c.permission().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'));
      c.setup().accept(name);
      String lacking =
          only(
              c.permission() == Permission.PERMISSION_ADMINISTER
                  ? Permission.PERMISSION_READ_KEYS
                  : Permission.PERMISSION_ADMINISTER);
      String permission = c.permission().name().substring("PERMISSION_".length());
      Key before = c.permission() == Permission.PERMISSION_CONFIGURE_KEYS ? null : adminGet(name);
      assertDenied(() -> c.call().call(asPrincipal(lacking), name), lacking, permission);
      if (before == null) {
        StatusRuntimeException absent =
            assertThrows(StatusRuntimeException.class, () -> adminGet(name));
        assertEquals(Status.Code.NOT_FOUND, absent.getStatus().getCode(), "nothing created");
      } else {
        assertEquals(
            before.getVersionsList(), adminGet(name).getVersionsList(), "nothing changed: " + c);
      }
      AuditRecord denial =
          awaitAudit(
              r ->
                  r.getAction().equals("RECORD_DENIALS")
                      && r.getDetail()
                          .contains("principal=" + lacking + " permission=" + permission)
                      && (c.permission() == Permission.PERMISSION_ADMINISTER
                          || r.getDetail().contains("key=" + name)),
              "the denial of " + permission + " to " + lacking + " in the audit chain");
      assertTrue(denial.getDetail().contains("method=keyrotor.v1."), denial.getDetail());

      Supplier<Boolean> changed = c.call().call(asPrincipal(only(c.permission())), name);
      assertTrue(changed.get(), "served with " + permission);
    }
  }

  private final Map<KeyServiceGrpc.KeyServiceBlockingStub, String> principals =
      new java.util.concurrent.ConcurrentHashMap<>();

  private KeyServiceGrpc.KeyServiceBlockingStub asPrincipal(String principal) {
    KeyServiceGrpc.KeyServiceBlockingStub stub = keysAs(principal);
    principals.put(stub, principal);
    return stub;
  }

  private String principalOf(KeyServiceGrpc.KeyServiceBlockingStub stub) {
    return principals.get(stub);
  }

  @Test
  void writesAreAuditedWithTheAuthenticatedPrincipal() {
    String name = unique("audited");
    keysAs(only(Permission.PERMISSION_CONFIGURE_KEYS)).createKey(newKey(name));
    AuditRecord created =
        awaitAudit(
            r -> r.getAction().equals("CREATE_KEY") && r.getKeyName().equals(name),
            "the CreateKey of " + name);
    assertEquals(only(Permission.PERMISSION_CONFIGURE_KEYS), created.getPrincipal());
  }

  @Test
  void uriPrincipal_boundByItsUri_auditedAsTheUri() {
    String workload = "spiffe://keyrotor.local/workload/billing";
    String name = unique("workload");
    keysAs(workload).createKey(newKey(name));
    AuditRecord created =
        awaitAudit(
            r -> r.getAction().equals("CREATE_KEY") && r.getKeyName().equals(name),
            "the CreateKey of " + name);
    assertEquals(workload, created.getPrincipal());
    assertDenied(() -> keysAs(workload).rotateKey(rotation(name, 0)), workload, "ROTATE_KEYS");
  }

  @Test
  void developmentPolicy_serviceUsesTheDataPlaneAndReadsButChangesNothing() {
    String name = unique("svc");
    keysAs("admin").createKey(newKey(name));
    KeyServiceGrpc.KeyServiceBlockingStub service = keysAs("service");
    assertEquals(name, service.getKey(key(name)).getName());
    ByteString ciphertext = service.encrypt(encryption(name, "p")).getCiphertext();
    assertEquals("p", service.decrypt(decryption(ciphertext)).getPlaintext().toStringUtf8());
    assertDenied(() -> service.rotateKey(rotation(name, 0)), "service", "ROTATE_KEYS");
    assertDenied(
        () -> adminAs("service").getPolicy(GetPolicyRequest.getDefaultInstance()),
        "service",
        "ADMINISTER");
    assertEquals(1, adminGet(name).getVersionsCount());
  }

  @Test
  void contextConditions_aTenantDecryptsOnlyWithItsOwnTenantInTheContext() {
    String name = unique("tenant");
    keysAs("admin").createKey(newKey(name));
    KeyServiceGrpc.KeyServiceBlockingStub tenantA = keysAs("tenant-a");
    ByteString own =
        tenantA
            .encrypt(
                EncryptRequest.newBuilder()
                    .setKeyName(name)
                    .setPlaintext(ByteString.copyFromUtf8("a's"))
                    .putContext("tenant", "tenant-a")
                    .build())
            .getCiphertext();
    assertEquals(
        "a's",
        tenantA
            .decrypt(
                DecryptRequest.newBuilder()
                    .setCiphertext(own)
                    .putContext("tenant", "tenant-a")
                    .build())
            .getPlaintext()
            .toStringUtf8());
    ByteString others =
        keysAs("admin")
            .encrypt(
                EncryptRequest.newBuilder()
                    .setKeyName(name)
                    .setPlaintext(ByteString.copyFromUtf8("b's"))
                    .putContext("tenant", "tenant-b")
                    .build())
            .getCiphertext();
    assertDenied(
        () ->
            tenantA.decrypt(
                DecryptRequest.newBuilder()
                    .setCiphertext(others)
                    .putContext("tenant", "tenant-b")
                    .build()),
        "tenant-a",
        "DECRYPT");
    assertDenied(() -> tenantA.getKey(key(name)), "tenant-a", "READ_KEYS");
  }

  @Test
  void callWithoutClientCertificate_unauthenticated() {
    io.grpc.ManagedChannel nobody = cluster.channelWithoutCertificate("n2");
    StatusRuntimeException e =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                KeyServiceGrpc.newBlockingStub(nobody)
                    .withDeadlineAfter(20, TimeUnit.SECONDS)
                    .getKey(key("anything")));
    assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode(), e::toString);
    assertEquals("UNAUTHENTICATED", GrpcErrors.reason(e));
    StatusRuntimeException admin =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                AdminServiceGrpc.newBlockingStub(nobody)
                    .withDeadlineAfter(20, TimeUnit.SECONDS)
                    .getPolicy(GetPolicyRequest.getDefaultInstance()));
    assertEquals(Status.Code.UNAUTHENTICATED, admin.getStatus().getCode(), admin::toString);
    assertEquals("UNAUTHENTICATED", GrpcErrors.reason(admin));
  }

  @Test
  void setPolicy_staleVersionRefused_testPolicyNamesTheBinding() {
    AuthorizationPolicy current = policy();
    StatusRuntimeException stale =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                adminAs("admin")
                    .setPolicy(
                        SetPolicyRequest.newBuilder()
                            .setPolicy(current)
                            .setExpectedVersion(current.getVersion() - 1)
                            .build()));
    assertEquals(Status.Code.FAILED_PRECONDITION, stale.getStatus().getCode());
    assertTrue(stale.getStatus().getDescription().contains("read it again"));
    assertEquals(current.getVersion(), policy().getVersion());

    TestPolicyResponse allowed =
        adminAs("admin")
            .testPolicy(
                TestPolicyRequest.newBuilder()
                    .setPrincipal("service")
                    .setPermission(Permission.PERMISSION_DECRYPT)
                    .setKeyName("any-key")
                    .build());
    assertTrue(allowed.getAllowed());
    assertEquals("bootstrap-service", allowed.getBinding());
    TestPolicyResponse denied =
        adminAs("admin")
            .testPolicy(
                TestPolicyRequest.newBuilder()
                    .setPrincipal("service")
                    .setPermission(Permission.PERMISSION_DESTROY_VERSIONS)
                    .setKeyName("any-key")
                    .build());
    assertFalse(denied.getAllowed());
    assertTrue(denied.getExplanation().contains("DESTROY_VERSIONS"), denied.getExplanation());
  }

  /**
   * The race the apply-time check exists for: a write passes the server's check, its grant is
   * revoked and the revocation applied while the write is still being built (its KEK held in the
   * HSM), then the write is proposed: apply refuses it against the policy at its index.
   */
  @Test
  void grantRevokedBetweenCheckAndApply_writeRefusedAtApply() throws Exception {
    String name = unique("race");
    keysAs("admin").createKey(newKey(name));
    AuthorizationPolicy.Builder withRacer =
        policy().toBuilder()
            .addRoles(
                Role.newBuilder()
                    .setName("racer-rotate")
                    .addPermissions(Permission.PERMISSION_ROTATE_KEYS))
            .addBindings(
                Binding.newBuilder()
                    .setName("racer")
                    .setRole("racer-rotate")
                    .setPrincipal("racer"));
    AuthorizationPolicy granted = setPolicy(withRacer.build());

    KeyrotorNode node = cluster.nodes.get("n1");
    TestHsm hsm = TestHsm.around(node.hsm());
    CountDownLatch release = new CountDownLatch(1);
    hsm.holdWraps = release;
    hsm.wrapEntered = new CountDownLatch(1);
    ExecutorService blocking = Executors.newCachedThreadPool();
    try (HsmExecutor hsmExecutor = new HsmExecutor(2, 16)) {
      ServerContext context =
          new ServerContext(
              node.raft(), hsm, node.config(), Clock.systemUTC(), Duration.ofSeconds(10));
      PolicyAuthorizer authorizer =
          new PolicyAuthorizer(
              node.raft()::state, new DenialRecorder(node.config().nodeId(), node.raft()::propose));
      KeyServiceImpl keys =
          new KeyServiceImpl(
              context,
              node.dataPlane(),
              new EventWatchers(context),
              new WritePath(context, authorizer, hsmExecutor, blocking));

      CompletableFuture<RotateKeyResponse> write = new CompletableFuture<>();
      InProcessCaller.runAs("racer", () -> keys.rotateKey(rotation(name, 0), completing(write)));
      assertTrue(hsm.wrapEntered.await(30, TimeUnit.SECONDS), "the write passed the check");

      AuthorizationPolicy.Builder revoked = granted.toBuilder().clearBindings();
      granted.getBindingsList().stream()
          .filter(b -> !b.getName().equals("racer"))
          .forEach(revoked::addBindings);
      setPolicy(revoked.build());
      release.countDown();

      ExecutionException refused =
          assertThrows(ExecutionException.class, () -> write.get(30, TimeUnit.SECONDS));
      StatusRuntimeException status = (StatusRuntimeException) refused.getCause();
      assertEquals(Status.Code.PERMISSION_DENIED, status.getStatus().getCode(), status::toString);
      assertTrue(
          status.getStatus().getDescription().contains("checked when the command was applied"),
          status.getStatus().getDescription());
      assertEquals(1, adminGet(name).getVersionsCount(), "the rotation did not happen");
      AuditRecord audited =
          awaitAudit(
              r ->
                  r.getAction().equals("ROTATE_KEY")
                      && r.getKeyName().equals(name)
                      && r.getResultReason().equals("PERMISSION_DENIED"),
              "the refused rotation in the audit chain");
      assertEquals("racer", audited.getPrincipal());
    } finally {
      release.countDown();
      blocking.shutdownNow();
    }
  }
}
