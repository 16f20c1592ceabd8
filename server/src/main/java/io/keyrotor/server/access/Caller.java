package io.keyrotor.server.access;

import io.grpc.Context;
import java.util.Optional;

/**
 * The authenticated caller of the current gRPC call. The authentication interceptor puts the {@link
 * Principal} of the client certificate into the call's {@link Context} under {@link #PRINCIPAL};
 * authorisation and the write path read it from there, on the thread that handles the call (before
 * any asynchronous step).
 */
public final class Caller {
  /** The principal of the current call, set by the authentication interceptor. */
  public static final Context.Key<Principal> PRINCIPAL = Context.key("keyrotor-principal");

  private Caller() {}

  /** The principal of the current call, if an authentication interceptor set one. */
  public static Optional<Principal> current() {
    return Optional.ofNullable(PRINCIPAL.get());
  }
}
