package io.keyrotor.server;

import static io.keyrotor.consensus.testing.Replicas.waitUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.keyrotor.api.v1.CreateKeyRequest;
import io.keyrotor.api.v1.GenerateDataKeyRequest;
import io.keyrotor.api.v1.GenerateDataKeyResponse;
import io.keyrotor.client.KeyrotorClient;
import io.keyrotor.client.KeyrotorException;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tracing end to end on a real 3-node cluster (mutual TLS, Ratis, RocksDB, software HSM): the Java
 * SDK with an OpenTelemetry SDK of the application's sends its W3C trace context on the gRPC
 * metadata; the nodes, tracing into an in-memory exporter, continue the same trace from the server
 * span through propose, Raft commit and apply, with the HSM calls that minted the KEK; and the
 * spans of a data key carry no key or context bytes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TracingIT {
  private static final Duration WAIT = Duration.ofSeconds(90);
  private static final AttributeKey<String> KEY_NAME = AttributeKey.stringKey("keyrotor.key.name");
  private static final AttributeKey<Long> STATUS = AttributeKey.longKey("rpc.grpc.status_code");

  private final InMemorySpanExporter nodeSpans = InMemorySpanExporter.create();
  private final InMemorySpanExporter clientSpans = InMemorySpanExporter.create();
  private SdkTracerProvider nodeProvider;
  private SdkTracerProvider clientProvider;
  private OpenTelemetrySdk application;
  private LocalTestCluster cluster;

  @BeforeAll
  void startCluster(@TempDir Path directory) throws Exception {
    nodeProvider =
        SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(nodeSpans)).build();
    clientProvider =
        SdkTracerProvider.builder()
            .addSpanProcessor(SimpleSpanProcessor.create(clientSpans))
            .build();
    application = OpenTelemetrySdk.builder().setTracerProvider(clientProvider).build();
    cluster = new LocalTestCluster(directory.resolve("cluster"), 3, List.of("local"));
    cluster.openTelemetry = OpenTelemetrySdk.builder().setTracerProvider(nodeProvider).build();
    cluster.startAll();
  }

  @AfterAll
  void stopCluster() {
    if (cluster != null) {
      cluster.close();
      assertTrue(cluster.fatalErrors.isEmpty(), () -> "fatal errors: " + cluster.fatalErrors);
    }
    if (nodeProvider != null) {
      nodeProvider.close();
    }
    if (clientProvider != null) {
      clientProvider.close();
    }
  }

  private KeyrotorClient sdk() {
    List<String> endpoints = new ArrayList<>(List.of(cluster.apiAddress(cluster.leaderId())));
    cluster.followerIds().forEach(id -> endpoints.add(cluster.apiAddress(id)));
    return KeyrotorClient.builder()
        .endpoints(endpoints)
        .channelCredentials(cluster.credentialsAs("admin"))
        .deadline(Duration.ofSeconds(60))
        .attemptTimeout(Duration.ofSeconds(30))
        .openTelemetry(application)
        .build();
  }

  @Test
  void createKey_oneTraceFromTheSdkThroughProposeCommitAndApply() {
    String key = "traced-" + UUID.randomUUID().toString().substring(0, 8);
    try (KeyrotorClient sdk = sdk()) {
      sdk.createKey(CreateKeyRequest.newBuilder().setName(key).build());
    }
    SpanData client =
        clientSpans.getFinishedSpanItems().stream()
            .filter(s -> s.getName().equals("keyrotor.v1.KeyService/CreateKey"))
            .filter(s -> Long.valueOf(0).equals(s.getAttributes().get(STATUS)))
            .reduce((first, second) -> second)
            .orElseThrow(
                () -> new AssertionError("no client span: " + clientSpans.getFinishedSpanItems()));
    assertEquals(SpanKind.CLIENT, client.getKind());
    String traceId = client.getTraceId();

    // The apply span is recorded when the proposing node applies the entry.
    waitUntil(() -> find(traceId, "keyrotor.apply").isPresent(), WAIT, "the apply span of " + key);
    SpanData server =
        inTrace(traceId).stream()
            .filter(s -> s.getName().equals("keyrotor.v1.KeyService/CreateKey"))
            .filter(s -> s.getParentSpanId().equals(client.getSpanId()))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no server span under the client's"));
    assertEquals(SpanKind.SERVER, server.getKind());
    assertEquals(key, server.getAttributes().get(KEY_NAME));
    assertEquals(0L, server.getAttributes().get(STATUS));
    SpanData propose = find(traceId, "keyrotor.propose").orElseThrow();
    SpanData commit = find(traceId, "keyrotor.raft.commit").orElseThrow();
    SpanData apply = find(traceId, "keyrotor.apply").orElseThrow();
    assertEquals(server.getSpanId(), propose.getParentSpanId());
    assertEquals(propose.getSpanId(), commit.getParentSpanId());
    assertEquals(commit.getSpanId(), apply.getParentSpanId());
    assertEquals(
        "CREATE_KEY", apply.getAttributes().get(AttributeKey.stringKey("keyrotor.command")));
    assertEquals("OK", apply.getAttributes().get(AttributeKey.stringKey("keyrotor.outcome")));
    assertTrue(
        apply.getAttributes().get(AttributeKey.longKey("keyrotor.raft.log_index")) > 0,
        "the apply span names the log index");
    // The KEK was minted on the HSM executor inside the same trace, under the server span.
    SpanData wrap = find(traceId, "hsm.wrap").orElseThrow(() -> new AssertionError(names(traceId)));
    assertEquals(server.getSpanId(), wrap.getParentSpanId());
  }

  @Test
  void refusedCall_isAnErrorSpan_withoutProposal() {
    try (KeyrotorClient sdk = sdk()) {
      KeyrotorException refused =
          org.junit.jupiter.api.Assertions.assertThrows(
              KeyrotorException.class,
              () -> sdk.createKey(CreateKeyRequest.newBuilder().setName("bad name!").build()));
      assertEquals(Status.Code.INVALID_ARGUMENT, refused.code());
    }
    SpanData client =
        clientSpans.getFinishedSpanItems().stream()
            .filter(s -> s.getStatus().getStatusCode() == StatusCode.ERROR)
            .filter(s -> s.getName().equals("keyrotor.v1.KeyService/CreateKey"))
            .reduce((first, second) -> second)
            .orElseThrow();
    String traceId = client.getTraceId();
    waitUntil(
        () -> find(traceId, "keyrotor.v1.KeyService/CreateKey").isPresent(),
        WAIT,
        "the refused call's server span");
    SpanData server = find(traceId, "keyrotor.v1.KeyService/CreateKey").orElseThrow();
    assertEquals((long) Status.Code.INVALID_ARGUMENT.value(), server.getAttributes().get(STATUS));
    assertEquals(StatusCode.ERROR, server.getStatus().getStatusCode());
    assertFalse(find(traceId, "keyrotor.propose").isPresent(), "nothing was proposed");
  }

  @Test
  void generateDataKey_spansHoldNoKeyBytesAndNoContext() {
    String key = "traced-data-" + UUID.randomUUID().toString().substring(0, 8);
    String contextValue = "tenant-" + UUID.randomUUID();
    GenerateDataKeyResponse dataKey;
    try (KeyrotorClient sdk = sdk()) {
      sdk.createKey(CreateKeyRequest.newBuilder().setName(key).build());
      dataKey =
          sdk.generateDataKey(
              GenerateDataKeyRequest.newBuilder()
                  .setKeyName(key)
                  .putContext("tenant", contextValue)
                  .build());
    }
    SpanData client =
        clientSpans.getFinishedSpanItems().stream()
            .filter(s -> s.getName().equals("keyrotor.v1.KeyService/GenerateDataKey"))
            .filter(s -> Long.valueOf(0).equals(s.getAttributes().get(STATUS)))
            .reduce((first, second) -> second)
            .orElseThrow();
    String traceId = client.getTraceId();
    waitUntil(
        () -> find(traceId, "keyrotor.v1.KeyService/GenerateDataKey").isPresent(),
        WAIT,
        "the data key's server span");
    SpanData server = find(traceId, "keyrotor.v1.KeyService/GenerateDataKey").orElseThrow();
    assertEquals(client.getSpanId(), server.getParentSpanId());
    assertEquals(key, server.getAttributes().get(KEY_NAME));

    byte[] plaintext = dataKey.getPlaintext().toByteArray();
    byte[] wrapped = dataKey.getWrappedDataKey().toByteArray();
    assertEquals(32, plaintext.length);
    List<String> secrets =
        List.of(
            Base64.getEncoder().encodeToString(plaintext),
            Base64.getUrlEncoder().withoutPadding().encodeToString(plaintext),
            HexFormat.of().formatHex(plaintext),
            new String(plaintext, StandardCharsets.ISO_8859_1),
            Base64.getEncoder().encodeToString(wrapped),
            HexFormat.of().formatHex(wrapped),
            contextValue);
    List<SpanData> everySpan = new ArrayList<>(clientSpans.getFinishedSpanItems());
    everySpan.addAll(nodeSpans.getFinishedSpanItems());
    for (SpanData span : everySpan) {
      String text =
          span.getName()
              + " "
              + span.getAttributes()
              + " "
              + span.getStatus()
              + " "
              + span.getEvents()
              + " "
              + span.getLinks();
      for (String secret : secrets) {
        assertFalse(text.contains(secret), "span " + span.getName() + " holds key or context data");
      }
    }
  }

  private List<SpanData> inTrace(String traceId) {
    return nodeSpans.getFinishedSpanItems().stream()
        .filter(s -> s.getTraceId().equals(traceId))
        .toList();
  }

  private Optional<SpanData> find(String traceId, String name) {
    return inTrace(traceId).stream().filter(s -> s.getName().equals(name)).findFirst();
  }

  private String names(String traceId) {
    return "spans of the trace: " + inTrace(traceId).stream().map(SpanData::getName).toList();
  }
}
