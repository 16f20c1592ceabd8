package io.keyrotor.server.tracing;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Starts a SERVER span for every RPC, child of the trace context the caller sent in its W3C {@code
 * traceparent} metadata (a new trace when it sent none), and makes it current while the call's
 * handlers run, so the write path's spans hang under it. Attributes: the RPC system, service and
 * method, the key name where the request has one ({@code name} or {@code key_name} of a KeyService
 * request), and the gRPC status code. Never request or response bytes: no key material, plaintext,
 * ciphertext or encryption context.
 */
@SuppressWarnings("try") // each Scope is held only to be closed
final class RpcSpans implements ServerInterceptor {
  static final AttributeKey<String> RPC_SYSTEM = AttributeKey.stringKey("rpc.system");
  static final AttributeKey<String> RPC_SERVICE = AttributeKey.stringKey("rpc.service");
  static final AttributeKey<String> RPC_METHOD = AttributeKey.stringKey("rpc.method");
  static final AttributeKey<Long> RPC_STATUS = AttributeKey.longKey("rpc.grpc.status_code");
  static final AttributeKey<String> KEY_NAME = AttributeKey.stringKey("keyrotor.key.name");

  /** The only service whose requests' {@code name} and {@code key_name} are key names. */
  private static final String KEY_SERVICE = "keyrotor.v1.KeyService";

  private static final List<String> KEY_NAME_FIELDS = List.of("name", "key_name");

  private static final TextMapGetter<Metadata> METADATA =
      (carrier, key) ->
          carrier == null || key.endsWith(Metadata.BINARY_HEADER_SUFFIX)
              ? null
              : carrier.get(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER));

  private final Tracer tracer;

  RpcSpans(Tracer tracer) {
    this.tracer = tracer;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    Context parent =
        W3CTraceContextPropagator.getInstance().extract(Context.root(), headers, METADATA);
    String fullName = call.getMethodDescriptor().getFullMethodName();
    String service = call.getMethodDescriptor().getServiceName();
    Span span =
        tracer
            .spanBuilder(fullName)
            .setParent(parent)
            .setSpanKind(SpanKind.SERVER)
            .setAttribute(RPC_SYSTEM, "grpc")
            .setAttribute(RPC_SERVICE, service == null ? "" : service)
            .setAttribute(RPC_METHOD, call.getMethodDescriptor().getBareMethodName())
            .startSpan();
    Context traced = parent.with(span);
    AtomicBoolean ended = new AtomicBoolean();
    ServerCall<Q, R> closing =
        new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
          @Override
          public void close(Status status, Metadata trailers) {
            span.setAttribute(RPC_STATUS, (long) status.getCode().value());
            if (!status.isOk()) {
              // The code only: a status description may quote the request.
              span.setStatus(StatusCode.ERROR, status.getCode().name());
            }
            try {
              super.close(status, trailers);
            } finally {
              end(span, ended);
            }
          }
        };
    ServerCall.Listener<Q> delegate;
    try (Scope unused = traced.makeCurrent()) {
      delegate = next.startCall(closing, headers);
    }
    boolean keyService = KEY_SERVICE.equals(service);
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(delegate) {
      @Override
      public void onMessage(Q message) {
        if (keyService) {
          String keyName = keyName(message);
          if (keyName != null) {
            span.setAttribute(KEY_NAME, keyName);
          }
        }
        try (Scope unused = traced.makeCurrent()) {
          super.onMessage(message);
        }
      }

      @Override
      public void onHalfClose() {
        try (Scope unused = traced.makeCurrent()) {
          super.onHalfClose();
        }
      }

      @Override
      public void onCancel() {
        try (Scope unused = traced.makeCurrent()) {
          super.onCancel();
        } finally {
          span.setStatus(StatusCode.ERROR, "CANCELLED");
          end(span, ended);
        }
      }

      @Override
      public void onComplete() {
        try (Scope unused = traced.makeCurrent()) {
          super.onComplete();
        }
      }

      @Override
      public void onReady() {
        try (Scope unused = traced.makeCurrent()) {
          super.onReady();
        }
      }
    };
  }

  /**
   * Puts the key name of each request on the current RPC span: for a service whose requests reach
   * the server-wide interceptor unparsed (behind {@code MalformedRequests}), installed inside the
   * parsing, where the messages are typed.
   */
  static ServerInterceptor keyNames() {
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(
          ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(
            next.startCall(call, headers)) {
          @Override
          public void onMessage(Q message) {
            Span span = Span.current();
            String keyName = span.isRecording() ? keyName(message) : null;
            if (keyName != null) {
              span.setAttribute(KEY_NAME, keyName);
            }
            super.onMessage(message);
          }
        };
      }
    };
  }

  /** The request's key name, if it is a protobuf message with a non-empty one. */
  static String keyName(Object message) {
    if (!(message instanceof Message request)) {
      return null;
    }
    for (String field : KEY_NAME_FIELDS) {
      FieldDescriptor descriptor = request.getDescriptorForType().findFieldByName(field);
      if (descriptor != null
          && !descriptor.isRepeated()
          && descriptor.getJavaType() == FieldDescriptor.JavaType.STRING) {
        String value = (String) request.getField(descriptor);
        if (!value.isEmpty()) {
          return value;
        }
      }
    }
    return null;
  }

  private static void end(Span span, AtomicBoolean ended) {
    if (ended.compareAndSet(false, true)) {
      span.end();
    }
  }
}
