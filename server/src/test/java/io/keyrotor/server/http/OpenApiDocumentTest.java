package io.keyrotor.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The checked-in OpenAPI document is what the proto's google.api.http options generate, and the
 * routes read from those options match the paths Google's conventions give the key API.
 */
class OpenApiDocumentTest {
  private static final Path CHECKED_IN = Path.of("..", "docs", "openapi.json");

  /**
   * With {@code -Dopenapi.write=true} the test writes the checked-in copy instead (after changing
   * an http option or a message) and still compares, so a run without it proves the copy current.
   */
  @Test
  void checkedInDocument_isWhatTheProtoGenerates() throws Exception {
    String generated = OpenApiDocument.generate(OpenApiDocument.SERVICES);
    if (Boolean.getBoolean("openapi.write")) {
      OpenApiDocument.main(new String[] {CHECKED_IN.toString()});
    }
    assertEquals(
        generated,
        Files.readString(CHECKED_IN, StandardCharsets.UTF_8),
        "docs/openapi.json differs from the proto's http options: regenerate it with"
            + " OpenApiDocument (server README, 'HTTP/JSON gateway')");
  }

  @Test
  void document_describesTheKeyApiPaths() {
    JsonObject document =
        JsonParser.parseString(OpenApiDocument.generate(OpenApiDocument.SERVICES))
            .getAsJsonObject();
    assertEquals("3.1.0", document.get("openapi").getAsString());
    JsonObject paths = document.getAsJsonObject("paths");
    assertTrue(paths.getAsJsonObject("/v1/keys").has("post"), "CreateKey");
    assertTrue(paths.getAsJsonObject("/v1/keys").has("get"), "ListKeys");
    assertTrue(paths.getAsJsonObject("/v1/keys/{name}").has("get"), "GetKey");
    assertTrue(paths.getAsJsonObject("/v1/keys/{key_name}:generateDataKey").has("post"));
    assertTrue(paths.getAsJsonObject("/v1:decrypt").has("post"), "Decrypt");
    assertFalse(paths.toString().contains("WatchKeyEvents"), "streaming RPCs are not mapped");
    JsonObject schemas = document.getAsJsonObject("components").getAsJsonObject("schemas");
    JsonObject dataKey =
        schemas
            .getAsJsonObject("keyrotor.v1.GenerateDataKeyResponse")
            .getAsJsonObject("properties");
    assertEquals("byte", dataKey.getAsJsonObject("wrappedDataKey").get("format").getAsString());
    assertEquals(
        "mutualTLS",
        document
            .getAsJsonObject("components")
            .getAsJsonObject("securitySchemes")
            .getAsJsonObject("mutualTLS")
            .get("type")
            .getAsString());
  }

  @Test
  void routes_matchPathsAndDecodeTheirFields() {
    List<RestRoute> routes = RestRoute.of(OpenApiDocument.SERVICES);
    RestRoute generate = route(routes, "GenerateDataKey");
    assertEquals(
        Optional.of(Map.of("key_name", "orders key")),
        generate.match("/v1/keys/orders%20key:generateDataKey"));
    assertEquals(Optional.empty(), generate.match("/v1/keys/orders:encrypt"));
    assertEquals(Optional.empty(), generate.match("/v1/keys/:generateDataKey"));
    assertEquals(Optional.empty(), generate.match("/v1/keys/a/b:generateDataKey"));
    RestRoute decrypt = route(routes, "Decrypt");
    assertEquals(Optional.of(Map.of()), decrypt.match("/v1:decrypt"));
    assertEquals(Optional.empty(), decrypt.match("/v1:decrypted"));
    RestRoute disable = route(routes, "DisableKeyVersion");
    assertEquals(
        Optional.of(Map.of("name", "k", "version", "3")),
        disable.match("/v1/keys/k/versions/3:disable"));
    assertEquals(Optional.empty(), route(routes, "GetKey").match("/v1/keys/bad%zzname"));
  }

  private static RestRoute route(List<RestRoute> routes, String method) {
    return routes.stream()
        .filter(r -> r.method().getName().equals(method))
        .findFirst()
        .orElseThrow();
  }
}
