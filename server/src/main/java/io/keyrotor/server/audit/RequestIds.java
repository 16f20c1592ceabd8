package io.keyrotor.server.audit;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;

/**
 * The request id a caller may send in the {@code x-request-id} header, kept in the call's context
 * so the data audit record names it (cut to {@value #MAX_LENGTH} characters; never required).
 */
public final class RequestIds {
  public static final Metadata.Key<String> HEADER =
      Metadata.Key.of("x-request-id", Metadata.ASCII_STRING_MARSHALLER);

  static final int MAX_LENGTH = 128;

  private static final Context.Key<String> REQUEST_ID = Context.key("keyrotor-request-id");

  private RequestIds() {}

  /** The current call's request id, or "". */
  public static String current() {
    String id = REQUEST_ID.get();
    return id == null ? "" : id;
  }

  /** Puts the header's value (if any) in the call's context. */
  public static ServerInterceptor interceptor() {
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(
          ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        String id = headers.get(HEADER);
        if (id == null || id.isEmpty()) {
          return next.startCall(call, headers);
        }
        String kept = id.length() <= MAX_LENGTH ? id : id.substring(0, MAX_LENGTH);
        return Contexts.interceptCall(
            Context.current().withValue(REQUEST_ID, kept), call, headers, next);
      }
    };
  }
}
