package io.keyrotor.server;

import static io.keyrotor.consensus.testing.Replicas.waitUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.keyrotor.api.v1.CreateKeyRequest;
import io.keyrotor.api.v1.DecryptRequest;
import io.keyrotor.api.v1.EncryptRequest;
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
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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
 * span through propose, Raft commit and apply, with the HSM calls that minted the KEK; a Decrypt's
 * KEK lookup (and the HSM unwrap of a cache miss) are spans of its call; a call through the
 * HTTP/JSON gateway is a server span continuing the caller's {@code traceparent}, with the RPC's
 * span under it; and the spans of a data key carry no key or context bytes.
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

  @Test
  void decrypt_throughTheSdk_hasTheKekLookupAndTheUnwrapOfAMiss() {
    String key = "traced-decrypt-" + UUID.randomUUID().toString().substring(0, 8);
    ByteString payload = ByteString.copyFromUtf8("a traced payload");
    try (KeyrotorClient sdk = sdk()) {
      sdk.createKey(CreateKeyRequest.newBuilder().setName(key).build());
      ByteString ciphertext =
          sdk.encrypt(EncryptRequest.newBuilder().setKeyName(key).setPlaintext(payload).build())
              .getCiphertext();
      assertEquals(
          payload,
          sdk.decrypt(DecryptRequest.newBuilder().setCiphertext(ciphertext).build())
              .getPlaintext());
    }
    List<SpanData> lookups = new ArrayList<>();
    for (String method : List.of("Encrypt", "Decrypt")) {
      String name = "keyrotor.v1.KeyService/" + method;
      SpanData client =
          clientSpans.getFinishedSpanItems().stream()
              .filter(s -> s.getName().equals(name))
              .filter(s -> Long.valueOf(0).equals(s.getAttributes().get(STATUS)))
              .reduce((first, second) -> second)
              .orElseThrow(() -> new AssertionError("no client span of " + method));
      String traceId = client.getTraceId();
      waitUntil(() -> find(traceId, name).isPresent(), WAIT, "the server span of " + method);
      SpanData server = find(traceId, name).orElseThrow();
      SpanData lookup =
          find(traceId, "keyrotor.kek.lookup")
              .orElseThrow(() -> new AssertionError(method + ": " + names(traceId)));
      assertEquals(server.getSpanId(), lookup.getParentSpanId(), method);
      assertEquals(key, lookup.getAttributes().get(KEY_NAME), method);
      assertEquals(
          1L, lookup.getAttributes().get(AttributeKey.longKey("keyrotor.key.version")), method);
      assertEquals("default", lookup.getAttributes().get(AttributeKey.stringKey("keyrotor.zone")));
      Boolean hit = lookup.getAttributes().get(AttributeKey.booleanKey("keyrotor.kek.cache_hit"));
      assertTrue(hit != null, method + ": the lookup says whether the cache held the key");
      Optional<SpanData> unwrap = find(traceId, "hsm.unwrap");
      if (hit) {
        assertFalse(unwrap.isPresent(), method + ": a cache hit asks no HSM");
      } else {
        assertEquals(lookup.getSpanId(), unwrap.orElseThrow().getParentSpanId(), method);
      }
      lookups.add(lookup);
    }
    // The key's first use on a node misses the cache: its unwrap is in one of the two traces.
    assertTrue(
        lookups.stream()
            .anyMatch(
                l ->
                    Boolean.FALSE.equals(
                        l.getAttributes().get(AttributeKey.booleanKey("keyrotor.kek.cache_hit")))),
        "a lookup that missed and unwrapped");
  }

  @Test
  void restCall_isAServerSpan_underTheCallersTraceparent() throws Exception {
    String key = "traced-rest-" + UUID.randomUUID().toString().substring(0, 8);
    try (KeyrotorClient sdk = sdk()) {
      sdk.createKey(CreateKeyRequest.newBuilder().setName(key).build());
    }
    String traceId = UUID.randomUUID().toString().replace("-", "");
    String callerSpanId = "00f067aa0ba902b7";
    List<String> urls = Files.readAllLines(cluster.directory.resolve("http"));
    HttpClient client = TestHttps.clientAs(cluster.directory.resolve("tls"), "admin");
    HttpResponse<String> answer =
        client.send(
            HttpRequest.newBuilder(URI.create(urls.get(0) + "v1/keys/" + key))
                .header("traceparent", "00-" + traceId + "-" + callerSpanId + "-01")
                .timeout(WAIT)
                .GET()
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(200, answer.statusCode(), answer.body());

    waitUntil(
        () -> find(traceId, "keyrotor.v1.KeyService/GetKey").isPresent(),
        WAIT,
        "the RPC span of the REST call");
    SpanData http =
        inTrace(traceId).stream()
            .filter(s -> s.getName().startsWith("HTTP GET "))
            .findFirst()
            .orElseThrow(() -> new AssertionError(names(traceId)));
    assertEquals(SpanKind.SERVER, http.getKind());
    assertEquals(callerSpanId, http.getParentSpanId());
    assertEquals("GET", http.getAttributes().get(AttributeKey.stringKey("http.request.method")));
    String route = http.getAttributes().get(AttributeKey.stringKey("http.route"));
    assertEquals("HTTP GET " + route, http.getName());
    assertFalse(http.getName().contains(key), "the span is named by the route, not the path");
    assertEquals(200L, http.getAttributes().get(AttributeKey.longKey("http.response.status_code")));
    SpanData rpc = find(traceId, "keyrotor.v1.KeyService/GetKey").orElseThrow();
    assertEquals(http.getSpanId(), rpc.getParentSpanId());
    assertEquals(SpanKind.SERVER, rpc.getKind());
    assertEquals(key, rpc.getAttributes().get(KEY_NAME));
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
