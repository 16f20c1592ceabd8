package io.keyrotor.server;

import static io.keyrotor.server.TestHttps.clientAs;
import static io.keyrotor.server.TestHttps.get;
import static io.keyrotor.server.TestHttps.post;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.keyrotor.api.v1.GetKeyRequest;
import io.keyrotor.api.v1.Key;
import io.keyrotor.server.http.OpenApiDocument;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The HTTP/JSON gateway on the HTTPS port of a 3-node cluster as scripts/cluster writes it
 * (DIR/http), over real mutual TLS with the JDK's HTTP client: the envelope round trip (create a
 * key, generate a data key, decrypt it, read the key back, also over gRPC), errors as HTTP statuses
 * with the google.rpc.Status details, the authorisation of the RPC, and the OpenAPI document.
 */
class RestGatewayIT extends ClusterTestBase {
  private Path tls;
  private List<String> urls;

  RestGatewayIT() {
    super(List.of("local"), Map.of());
  }

  @BeforeAll
  void readUrls() throws Exception {
    tls = cluster.directory.resolve("tls");
    urls = Files.readAllLines(cluster.directory.resolve("http"));
    assertEquals(3, urls.size(), "DIR/http lists every node");
  }

  /** The HTTPS base URL (ending in /) of the leader, which takes writes. */
  private String leader() {
    String id = cluster.leaderId();
    return urls.get(Integer.parseInt(id.substring(1)) - 1);
  }

  @Test
  void envelopeRoundTrip_overHttpJson() throws Exception {
    HttpClient admin = clientAs(tls, "admin");
    String base = leader();

    HttpResponse<String> created =
        post(admin, base + "v1/keys", "{\"name\": \"orders\", \"zone\": \"local\"}");
    assertEquals(200, created.statusCode(), created.body());
    assertEquals("orders", json(created).get("name").getAsString());

    HttpResponse<String> dataKey =
        post(admin, base + "v1/keys/orders:generateDataKey", "{\"context\": {\"tenant\": \"a\"}}");
    assertEquals(200, dataKey.statusCode(), dataKey.body());
    JsonObject generated = json(dataKey);
    byte[] plaintext = Base64.getDecoder().decode(generated.get("plaintext").getAsString());
    assertEquals(32, plaintext.length);
    String wrapped = generated.get("wrappedDataKey").getAsString();

    HttpResponse<String> decrypted =
        post(
            admin,
            base + "v1:decrypt",
            "{\"ciphertext\": \"" + wrapped + "\", \"context\": {\"tenant\": \"a\"}}");
    assertEquals(200, decrypted.statusCode(), decrypted.body());
    assertEquals(
        Base64.getEncoder().encodeToString(plaintext),
        json(decrypted).get("plaintext").getAsString());
    assertEquals("orders", json(decrypted).get("keyName").getAsString());

    HttpResponse<String> key = get(admin, base + "v1/keys/orders");
    assertEquals(200, key.statusCode(), key.body());
    assertEquals("orders", json(key).get("name").getAsString());
    assertEquals("local", json(key).get("zone").getAsString());
    // The same key over gRPC: the gateway wrote through the one write path.
    Key overGrpc =
        cluster
            .keys(cluster.leaderId())
            .getKey(GetKeyRequest.newBuilder().setName("orders").build());
    assertEquals("local", overGrpc.getZone());

    // The data-plane principal may decrypt but not create keys: the RPC's own authorisation.
    HttpClient service = clientAs(tls, "service");
    HttpResponse<String> serviceDecrypt =
        post(
            service,
            base + "v1:decrypt",
            "{\"ciphertext\": \"" + wrapped + "\", \"context\": {\"tenant\": \"a\"}}");
    assertEquals(200, serviceDecrypt.statusCode(), serviceDecrypt.body());
    HttpResponse<String> refused =
        post(service, base + "v1/keys", "{\"name\": \"not-mine\", \"zone\": \"local\"}");
    assertEquals(403, refused.statusCode(), refused.body());
    assertEquals("PERMISSION_DENIED", error(refused).get("status").getAsString());
    assertEquals("PERMISSION_DENIED", reason(refused));
    HttpResponse<String> absent = get(admin, base + "v1/keys/not-mine");
    assertEquals(404, absent.statusCode(), "nothing was created: " + absent.body());
    assertEquals("KEY_NOT_FOUND", reason(absent));
  }

  @Test
  void badRequests_areHttp400WithTheReason_andNothingIsCreated() throws Exception {
    HttpClient admin = clientAs(tls, "admin");
    String base = leader();

    HttpResponse<String> badName =
        post(admin, base + "v1/keys", "{\"name\": \"not a valid name\", \"zone\": \"local\"}");
    assertEquals(400, badName.statusCode(), badName.body());
    assertEquals("INVALID_ARGUMENT", error(badName).get("status").getAsString());
    assertEquals("INVALID_KEY_NAME", reason(badName));

    HttpResponse<String> notJson = post(admin, base + "v1/keys", "{name: ");
    assertEquals(400, notJson.statusCode(), notJson.body());
    assertEquals("INVALID_ARGUMENT", reason(notJson));

    HttpResponse<String> unknownField =
        post(admin, base + "v1/keys", "{\"name\": \"x1\", \"colour\": \"blue\"}");
    assertEquals(400, unknownField.statusCode(), unknownField.body());
    assertEquals("INVALID_ARGUMENT", reason(unknownField));
    assertEquals(404, get(admin, base + "v1/keys/x1").statusCode(), "x1 was not created");

    HttpResponse<String> noRoute = get(admin, base + "v1/nothing-here");
    assertEquals(404, noRoute.statusCode(), noRoute.body());
    assertEquals("HTTP_ROUTE_NOT_FOUND", reason(noRoute));
    HttpResponse<String> wrongMethod = get(admin, base + "v1:decrypt");
    assertEquals(405, wrongMethod.statusCode(), wrongMethod.body());
    assertEquals("POST", wrongMethod.headers().firstValue("Allow").orElse(""));
  }

  @Test
  void withoutAClientCertificate_theGatewayRefuses() throws Exception {
    HttpClient nobody = clientAs(tls, null);
    HttpResponse<String> refused =
        post(nobody, urls.get(0) + "v1/keys", "{\"name\": \"anon\", \"zone\": \"local\"}");
    assertEquals(401, refused.statusCode(), refused.body());
    assertTrue(refused.body().contains("no client certificate"), refused.body());
    assertEquals(401, get(nobody, urls.get(0) + "openapi.json").statusCode());
  }

  @Test
  void openApiDocument_isServed_andIsTheGeneratedOne() throws Exception {
    HttpResponse<String> document = get(clientAs(tls, "service"), urls.get(1) + "openapi.json");
    assertEquals(200, document.statusCode(), document.body());
    assertEquals("application/json", document.headers().firstValue("Content-Type").orElse(""));
    assertEquals(OpenApiDocument.generate(OpenApiDocument.SERVICES), document.body());
  }

  @Test
  void statusPageAndMetrics_stillNeedAnAdministrator() throws Exception {
    HttpResponse<String> metrics = get(clientAs(tls, "service"), urls.get(0) + "metrics");
    assertEquals(403, metrics.statusCode(), metrics.body());
    HttpResponse<String> page = get(clientAs(tls, "service"), urls.get(0));
    assertEquals(403, page.statusCode(), page.body());
  }

  private static JsonObject json(HttpResponse<String> response) {
    return JsonParser.parseString(response.body()).getAsJsonObject();
  }

  private static JsonObject error(HttpResponse<String> response) {
    assertEquals(
        "application/json", response.headers().firstValue("Content-Type").orElse(""), "error body");
    return json(response).getAsJsonObject("error");
  }

  /** The ErrorInfo reason of an error answer. */
  private static String reason(HttpResponse<String> response) {
    for (var detail : error(response).getAsJsonArray("details")) {
      JsonObject object = detail.getAsJsonObject();
      if (object.get("@type").getAsString().endsWith("google.rpc.ErrorInfo")) {
        assertEquals("keyrotor.io", object.get("domain").getAsString());
        return object.get("reason").getAsString();
      }
    }
    throw new AssertionError("no ErrorInfo in " + response.body());
  }
}
