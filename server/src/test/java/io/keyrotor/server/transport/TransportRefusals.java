package io.keyrotor.server.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.keyrotor.tls.IssuedCertificate;

/**
 * What a node answers a caller whose certificate it does not accept, checked the same way against
 * one transport in-process and against a whole cluster: UNAUTHENTICATED with a message that tells
 * the caller what to present instead.
 */
public final class TransportRefusals {
  private TransportRefusals() {}

  /** The refusal of a caller that presented no client certificate. */
  public static void assertNoClientCertificate(StatusRuntimeException e) {
    assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
    assertEquals(
        "no client certificate: this node requires mutual TLS; present a certificate issued by"
            + " the cluster's CA (for a local cluster: DIR/tls/admin.pem and admin-key.pem)",
        e.getStatus().getDescription());
  }

  /** The refusal of CN=admin's certificate issued by the development CA named {@code caName}. */
  public static void assertAdminOfAnotherCa(StatusRuntimeException e, String caName) {
    assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
    assertTrue(
        e.getStatus()
            .getDescription()
            .startsWith(
                "the client certificate CN=admin,O=keyrotor (issuer CN="
                    + caName
                    + ",O=keyrotor development CA) is not a client certificate of a CA this node"
                    + " trusts: "),
        e.getStatus().getDescription());
  }

  /** The refusal of CN=admin's certificate {@code expired}, past its validity. */
  public static void assertAdminExpired(StatusRuntimeException e, IssuedCertificate expired) {
    assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
    assertEquals(
        "the client certificate CN=admin,O=keyrotor expired at "
            + expired.certificate().getNotAfter().toInstant()
            + "; renew it",
        e.getStatus().getDescription());
  }
}
