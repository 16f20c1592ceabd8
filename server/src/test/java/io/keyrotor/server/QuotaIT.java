package io.keyrotor.server;

import static io.keyrotor.server.KeyRequests.decryption;
import static io.keyrotor.server.KeyRequests.encryption;
import static io.keyrotor.server.KeyRequests.newKey;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.rpc.RetryInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.keyrotor.api.v1.AuthorizationPolicy;
import io.keyrotor.api.v1.EncryptRequest;
import io.keyrotor.api.v1.GetNodeStatusRequest;
import io.keyrotor.api.v1.KeyServiceGrpc;
import io.keyrotor.api.v1.NodeStatus;
import io.keyrotor.api.v1.Permission;
import io.keyrotor.api.v1.Quota;
import io.keyrotor.api.v1.SetPolicyRequest;
import io.keyrotor.api.v1.ThrottledPrincipal;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Quotas on a real 3-node cluster over mutual TLS: a principal over its quota is refused
 * RESOURCE_EXHAUSTED QUOTA_EXCEEDED with the time until its next token as RetryInfo, calls the
 * quota does not cover and other principals go on, the node's status names who is throttled, a
 * policy without the quota lifts it, and a malformed quota is refused with the policy unchanged.
 */
class QuotaIT extends ClusterTestBase {
  QuotaIT() {
    super(List.of("eu"), FOLLOWERS_READ_INDEX);
  }

  private static EncryptRequest encrypt(String key) {
    return encryption(key, "p");
  }

  @Test
  void principalOverItsQuota_refusedWithRetryDelay_othersServed_statusNamesIt_liftedByPolicy() {
    String name = unique("quota");
    String leader = cluster.leaderId();
    cluster.keysAs(leader, "admin").createKey(newKey(name));
    AuthorizationPolicy original = cluster.policy(leader);
    // One token per 1,000 s: no refill can happen while the test runs.
    Quota quota =
        Quota.newBuilder()
            .setName("service-encrypt")
            .setPrincipal("serv*")
            .addPermissions(Permission.PERMISSION_ENCRYPT)
            .setRequestsPerSecond(0.001)
            .setBurst(2)
            .build();
    cluster.setPolicy(leader, original.toBuilder().addQuotas(quota).build());
    KeyServiceGrpc.KeyServiceBlockingStub service = cluster.keysAs(leader, "service");

    ByteString ciphertext = service.encrypt(encrypt(name)).getCiphertext();
    service.encrypt(encrypt(name));
    StatusRuntimeException refused =
        assertThrows(StatusRuntimeException.class, () -> service.encrypt(encrypt(name)));

    assertEquals(Status.Code.RESOURCE_EXHAUSTED, refused.getStatus().getCode(), refused::toString);
    assertEquals("QUOTA_EXCEEDED", GrpcErrors.reason(refused));
    assertEquals("service-encrypt", GrpcErrors.metadata(refused).get("quota"));
    String message = refused.getStatus().getDescription();
    assertTrue(message.contains("\"service\"") && message.contains("service-encrypt"), message);
    Duration retry = retryDelay(refused);
    assertTrue(
        retry.compareTo(Duration.ofSeconds(900)) > 0
            && retry.compareTo(Duration.ofSeconds(1000)) <= 0,
        "retry delay " + retry);

    // The quota covers ENCRYPT only, and each principal has its own bucket.
    assertEquals("p", service.decrypt(decryption(ciphertext)).getPlaintext().toStringUtf8());
    cluster.keysAs(leader, "admin").encrypt(encrypt(name));

    NodeStatus status =
        cluster.adminAs(leader, "admin").getNodeStatus(GetNodeStatusRequest.getDefaultInstance());
    assertEquals(1, status.getThrottledCount(), status::toString);
    ThrottledPrincipal throttled = status.getThrottled(0);
    assertEquals("service", throttled.getPrincipal());
    assertEquals("service-encrypt", throttled.getQuota());
    assertEquals(1, throttled.getRefused());
    assertTrue(throttled.getLastRefused().getSeconds() > 0, throttled::toString);

    AuthorizationPolicy current = cluster.policy(leader);
    cluster.setPolicy(leader, current.toBuilder().clearQuotas().build());
    service.encrypt(encrypt(name));
    service.encrypt(encrypt(name));
    service.encrypt(encrypt(name));
  }

  @Test
  void malformedQuota_refusedAndThePolicyUnchanged() {
    String leader = cluster.leaderId();
    AuthorizationPolicy before = cluster.policy(leader);
    for (Quota bad :
        List.of(
            Quota.newBuilder().setName("zero").setPrincipal("*").build(),
            Quota.newBuilder().setName("nameless-principal").setRequestsPerSecond(1).build(),
            Quota.newBuilder().setPrincipal("*").setRequestsPerSecond(1).build(),
            Quota.newBuilder()
                .setName("too-fast")
                .setPrincipal("*")
                .setRequestsPerSecond(2_000_000)
                .build())) {
      StatusRuntimeException e =
          assertThrows(
              StatusRuntimeException.class,
              () ->
                  cluster
                      .adminAs(leader, "admin")
                      .setPolicy(
                          SetPolicyRequest.newBuilder()
                              .setPolicy(before.toBuilder().addQuotas(bad))
                              .setExpectedVersion(before.getVersion())
                              .build()));
      assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e::toString);
      assertEquals("INVALID_ACCESS_POLICY", GrpcErrors.reason(e));
      assertTrue(e.getStatus().getDescription().contains("quota"), e::toString);
    }
    assertEquals(before.getVersion(), cluster.policy(leader).getVersion());
  }

  private static Duration retryDelay(StatusRuntimeException e) {
    com.google.rpc.Status status = StatusProto.fromThrowable(e);
    for (var detail : status.getDetailsList()) {
      if (detail.is(RetryInfo.class)) {
        try {
          com.google.protobuf.Duration d = detail.unpack(RetryInfo.class).getRetryDelay();
          return Duration.ofSeconds(d.getSeconds(), d.getNanos());
        } catch (com.google.protobuf.InvalidProtocolBufferException x) {
          throw new AssertionError(x);
        }
      }
    }
    throw new AssertionError("no RetryInfo in " + e);
  }
}
