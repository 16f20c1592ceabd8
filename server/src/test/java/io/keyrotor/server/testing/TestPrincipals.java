package io.keyrotor.server.testing;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.stub.AbstractStub;
import io.keyrotor.server.access.Caller;
import io.keyrotor.server.access.Principal;

/**
 * TEST ONLY: how the server's tests give a call a principal until client certificates do. {@link
 * #interceptor()} is a ServerInterceptor that copies the principal named by the {@value #HEADER}
 * metadata header into {@link Caller#PRINCIPAL}, as the authentication interceptor will from the
 * client certificate; a call without the header is {@value #DEFAULT} (the administrator of the test
 * clusters' bootstrap policy), and the header value {@value #NONE} leaves the call without a
 * principal. {@link #as} makes a stub send the header.
 *
 * <p>The one place to replace with real certificates: tests that need another principal call {@link
 * #as}; nothing else knows how principals travel.
 */
public final class TestPrincipals {
  /** The metadata header that names the caller's principal, in tests only. */
  public static final String HEADER = "x-keyrotor-test-principal";

  /** The principal of a call without the header. */
  public static final String DEFAULT = "admin";

  /** The header value that leaves the call without a principal (UNAUTHENTICATED). */
  public static final String NONE = "-";

  private static final Metadata.Key<String> KEY =
      Metadata.Key.of(HEADER, Metadata.ASCII_STRING_MARSHALLER);

  private TestPrincipals() {}

  /** The server side: the header's principal into the call's context. */
  public static ServerInterceptor interceptor() {
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(
          ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        String name = headers.get(KEY);
        if (name == null) {
          name = DEFAULT;
        }
        if (name.equals(NONE)) {
          return next.startCall(call, headers);
        }
        Context context = Context.current().withValue(Caller.PRINCIPAL, new Principal(name));
        return Contexts.interceptCall(context, call, headers, next);
      }
    };
  }

  /** {@code stub} calling as {@code principal} ({@value #NONE}: as nobody). */
  public static <S extends AbstractStub<S>> S as(S stub, String principal) {
    return stub.withInterceptors(
        new ClientInterceptor() {
          @Override
          public <Q, R> ClientCall<Q, R> interceptCall(
              MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
            return new ForwardingClientCall.SimpleForwardingClientCall<>(
                next.newCall(method, options)) {
              @Override
              public void start(Listener<R> listener, Metadata headers) {
                headers.put(KEY, principal);
                super.start(listener, headers);
              }
            };
          }
        });
  }

  /** Runs {@code work} in a context whose caller is {@code principal} (in-process calls). */
  public static void runAs(String principal, Runnable work) {
    Context.current().withValue(Caller.PRINCIPAL, new Principal(principal)).run(work);
  }
}
