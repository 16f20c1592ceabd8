package io.keyrotor.client;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapSetter;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A CLIENT span for every call the SDK makes (each attempt of a retried call is its own span),
 * child of the application's current span, with its W3C trace context ({@code traceparent}, {@code
 * tracestate}) on the call's metadata so the node's spans join the application's trace. Attributes:
 * the RPC system, service and method, and the gRPC status code; never a request or response. Uses
 * the OpenTelemetry API only: with {@link OpenTelemetry#noop()} (the default) it records and sends
 * nothing.
 */
final class ClientTracing implements ClientInterceptor {
  /** The instrumentation scope of the SDK's spans. */
  static final String SCOPE = "io.keyrotor.client";

  private static final AttributeKey<String> RPC_SYSTEM = AttributeKey.stringKey("rpc.system");
  private static final AttributeKey<String> RPC_SERVICE = AttributeKey.stringKey("rpc.service");
  private static final AttributeKey<String> RPC_METHOD = AttributeKey.stringKey("rpc.method");
  private static final AttributeKey<Long> RPC_STATUS = AttributeKey.longKey("rpc.grpc.status_code");

  private static final TextMapSetter<Metadata> METADATA =
      (carrier, key, value) ->
          carrier.put(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER), value);

  private final Tracer tracer;

  ClientTracing(OpenTelemetry openTelemetry) {
    this.tracer = openTelemetry.getTracer(SCOPE);
  }

  @Override
  public <Q, R> ClientCall<Q, R> interceptCall(
      MethodDescriptor<Q, R> method, CallOptions callOptions, Channel next) {
    Context parent = Context.current();
    String service = method.getServiceName();
    Span span =
        tracer
            .spanBuilder(method.getFullMethodName())
            .setParent(parent)
            .setSpanKind(SpanKind.CLIENT)
            .setAttribute(RPC_SYSTEM, "grpc")
            .setAttribute(RPC_SERVICE, service == null ? "" : service)
            .setAttribute(RPC_METHOD, method.getBareMethodName())
            .startSpan();
    Context traced = parent.with(span);
    AtomicBoolean ended = new AtomicBoolean();
    return new ForwardingClientCall.SimpleForwardingClientCall<>(
        next.newCall(method, callOptions)) {
      @Override
      public void start(Listener<R> responseListener, Metadata headers) {
        W3CTraceContextPropagator.getInstance().inject(traced, headers, METADATA);
        try {
          super.start(
              new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(
                  responseListener) {
                @Override
                public void onClose(Status status, Metadata trailers) {
                  end(span, ended, status);
                  super.onClose(status, trailers);
                }
              },
              headers);
        } catch (RuntimeException e) {
          end(span, ended, Status.fromThrowable(e));
          throw e;
        }
      }

      @Override
      public void cancel(String message, Throwable cause) {
        try {
          super.cancel(message, cause);
        } finally {
          end(span, ended, Status.CANCELLED);
        }
      }
    };
  }

  private static void end(Span span, AtomicBoolean ended, Status status) {
    if (!ended.compareAndSet(false, true)) {
      return;
    }
    span.setAttribute(RPC_STATUS, (long) status.getCode().value());
    if (!status.isOk()) {
      // The code only: a status description may quote the request.
      span.setStatus(StatusCode.ERROR, status.getCode().name());
    }
    span.end();
  }
}
