package io.keyrotor.server.testing;

import io.grpc.Context;
import io.keyrotor.server.access.Caller;
import io.keyrotor.server.access.Principal;

/**
 * In-process calls only: runs code that calls a service object or an authorizer directly (no
 * channel, no socket, no TLS) in a gRPC {@link Context} whose {@link Caller#PRINCIPAL} is a given
 * principal, the context such a call has once the node's authentication accepted a client
 * certificate. It is not how a principal reaches a node: calls over the network present a client
 * certificate of the test cluster's CA (LocalTestCluster#keysAs, #adminAs).
 */
public final class InProcessCaller {
  /** The administrator of the test clusters' bootstrap policy. */
  public static final String ADMIN = "admin";

  private InProcessCaller() {}

  /** Runs {@code work} in a context whose caller is {@code principal}. */
  public static void runAs(String principal, Runnable work) {
    Context.current().withValue(Caller.PRINCIPAL, new Principal(principal)).run(work);
  }
}
