package io.keyrotor.server.tracing;

import io.grpc.Metadata;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapSetter;
import java.util.List;
import java.util.Map;

/**
 * The HTTP/JSON gateway's spans: a SERVER span per routed request, named {@code HTTP <method>
 * <route template>} (the template, never the request's path, so a key name in the path does not
 * make a span name per key), child of the W3C {@code traceparent} the caller sent (a new trace when
 * it sent none); and the propagation of that span's context onto the in-process gRPC call, so the
 * RPC's own server span, propose, commit, apply and data-plane spans hang under it. Attributes: the
 * HTTP method, the route and the response status. Never a body, a query or a header value.
 */
public final class HttpSpans {
  static final AttributeKey<String> HTTP_METHOD = AttributeKey.stringKey("http.request.method");
  static final AttributeKey<String> HTTP_ROUTE = AttributeKey.stringKey("http.route");
  static final AttributeKey<Long> HTTP_STATUS = AttributeKey.longKey("http.response.status_code");

  /** The JDK server's request headers (case-insensitive on get), first value of a name. */
  private static final TextMapGetter<Map<String, List<String>>> HEADERS =
      (carrier, key) -> {
        List<String> values = carrier == null ? null : carrier.get(key);
        return values == null || values.isEmpty() ? null : values.get(0);
      };

  private static final TextMapSetter<Metadata> METADATA =
      (carrier, key, value) -> {
        if (carrier != null) {
          carrier.put(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER), value);
        }
      };

  private final Tracer tracer;
  private final boolean enabled;

  HttpSpans(Tracer tracer, boolean enabled) {
    this.tracer = tracer;
    this.enabled = enabled;
  }

  /**
   * Starts the server span of a request routed to {@code routeTemplate}, child of the trace context
   * in {@code headers}; an invalid (non-recording) span when tracing is off.
   */
  public Span start(String method, String routeTemplate, Map<String, List<String>> headers) {
    if (!enabled) {
      return Span.getInvalid();
    }
    Context parent =
        W3CTraceContextPropagator.getInstance().extract(Context.root(), headers, HEADERS);
    return tracer
        .spanBuilder("HTTP " + method + " " + routeTemplate)
        .setParent(parent)
        .setSpanKind(SpanKind.SERVER)
        .setAttribute(HTTP_METHOD, method)
        .setAttribute(HTTP_ROUTE, routeTemplate)
        .startSpan();
  }

  /** Ends {@code span} with the HTTP status the request was answered (an error from 500 on). */
  public static void end(Span span, int httpStatus) {
    if (httpStatus > 0) {
      span.setAttribute(HTTP_STATUS, (long) httpStatus);
    }
    if (httpStatus >= 500 || httpStatus <= 0) {
      span.setStatus(StatusCode.ERROR, httpStatus <= 0 ? "no answer" : "HTTP " + httpStatus);
    }
    span.end();
  }

  /** Writes the current trace context into {@code headers} of an outgoing gRPC call. */
  public static void inject(Metadata headers) {
    if (Span.current().getSpanContext().isValid()) {
      W3CTraceContextPropagator.getInstance().inject(Context.current(), headers, METADATA);
    }
  }
}
