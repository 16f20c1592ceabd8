package io.keyrotor.server.tracing;

import io.grpc.ServerInterceptor;
import io.keyrotor.consensus.KeyrotorStateMachine;
import io.keyrotor.server.config.TracingSettings;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.exporter.logging.LoggingSpanExporter;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A node's tracing: the tracer its spans come from, the gRPC interceptor that starts a span per
 * RPC, and the propose, commit and apply spans of the write path ({@link ProposalSpans}). Built
 * from {@link TracingSettings} (OTLP/HTTP when an endpoint is set, the log when {@code
 * tracing.log}), or around an {@link OpenTelemetry} its embedder owns (tests, applications that
 * host a node). When tracing is off every part is a no-op and the interceptor is not installed.
 */
public final class NodeTracing implements AutoCloseable {
  /** The instrumentation scope of every span a node makes. */
  public static final String SCOPE = "io.keyrotor.server";

  /** How long closing waits for buffered spans to reach the exporter. */
  private static final Duration FLUSH_TIMEOUT = Duration.ofSeconds(5);

  private final boolean enabled;
  private final Tracer tracer;
  private final SdkTracerProvider ownedProviderOrNull;
  private final ProposalSpans proposals;
  private final HttpSpans http;

  private NodeTracing(boolean enabled, Tracer tracer, SdkTracerProvider ownedProviderOrNull) {
    this.enabled = enabled;
    this.tracer = tracer;
    this.ownedProviderOrNull = ownedProviderOrNull;
    this.proposals = new ProposalSpans(tracer, enabled);
    this.http = new HttpSpans(tracer, enabled);
  }

  /** No spans at all. */
  public static NodeTracing off() {
    return new NodeTracing(false, OpenTelemetry.noop().getTracer(SCOPE), null);
  }

  /** Spans made by {@code openTelemetry}, which its owner flushes and closes. */
  public static NodeTracing using(OpenTelemetry openTelemetry) {
    return new NodeTracing(true, openTelemetry.getTracer(SCOPE), null);
  }

  /**
   * The node's own OpenTelemetry SDK as {@code settings} say; the node closes it (flushing what is
   * buffered) when it stops.
   */
  public static NodeTracing create(TracingSettings settings, String nodeId, String region) {
    if (!settings.enabled()) {
      return off();
    }
    List<SpanProcessor> processors = new ArrayList<>();
    settings
        .otlpEndpoint()
        .ifPresent(
            endpoint ->
                processors.add(
                    BatchSpanProcessor.builder(
                            OtlpHttpSpanExporter.builder()
                                .setEndpoint(endpoint.toString())
                                .setTimeout(Duration.ofSeconds(10))
                                .build())
                        .build()));
    if (settings.log()) {
      processors.add(SimpleSpanProcessor.create(LoggingSpanExporter.create()));
    }
    SdkTracerProvider provider =
        SdkTracerProvider.builder()
            .setResource(
                Resource.getDefault()
                    .merge(
                        Resource.create(
                            Attributes.of(
                                AttributeKey.stringKey("service.name"),
                                "keyrotor-node",
                                AttributeKey.stringKey("service.instance.id"),
                                nodeId,
                                AttributeKey.stringKey("keyrotor.region"),
                                region))))
            .setSampler(Sampler.parentBased(Sampler.traceIdRatioBased(settings.sampleRatio())))
            .addSpanProcessor(SpanProcessor.composite(processors))
            .build();
    OpenTelemetrySdk sdk = OpenTelemetrySdk.builder().setTracerProvider(provider).build();
    return new NodeTracing(true, sdk.getTracer(SCOPE), provider);
  }

  /** Whether this node records spans. */
  public boolean enabled() {
    return enabled;
  }

  public Tracer tracer() {
    return tracer;
  }

  /** The server span of every RPC, with the caller's trace context as its parent. */
  public ServerInterceptor interceptor() {
    return new RpcSpans(tracer);
  }

  /**
   * Puts KeyService request key names on the RPC span; installed on the typed service, inside the
   * parsing of requests.
   */
  public ServerInterceptor keyNames() {
    return RpcSpans.keyNames();
  }

  /** The propose, commit and apply spans of the write path. */
  public ProposalSpans proposals() {
    return proposals;
  }

  /** The server spans of the HTTP/JSON gateway and their propagation onto its gRPC calls. */
  public HttpSpans http() {
    return http;
  }

  /** Ends the commit span and records the apply span of commands this node proposed. */
  public KeyrotorStateMachine.ApplyListener applyListener() {
    return proposals;
  }

  /** Flushes buffered spans (bounded) and closes the SDK this node built, if it built one. */
  @Override
  public void close() {
    if (ownedProviderOrNull != null) {
      ownedProviderOrNull.shutdown().join(FLUSH_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    }
  }
}
