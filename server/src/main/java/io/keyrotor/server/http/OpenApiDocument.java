package io.keyrotor.server.http;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.protobuf.Descriptors;
import com.google.protobuf.Descriptors.FieldDescriptor;
import io.keyrotor.api.v1.KeyServiceProto;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Generates the OpenAPI 3.1 document of the HTTP/JSON gateway from the services' descriptors and
 * their {@code google.api.http} options ({@link RestRoute}): one operation per mapped RPC, a schema
 * per message in protobuf's JSON mapping (JSON field names; 64-bit integers and bytes as strings;
 * Timestamp and Duration as strings; enums by name), mutual TLS as the security scheme.
 *
 * <p>The node serves what this generates at {@code /openapi.json}; {@code docs/openapi.json} is its
 * checked-in copy, written by {@link #main} and compared by a test, so the copy cannot drift from
 * the proto.
 */
public final class OpenApiDocument {
  /** The services the gateway maps. */
  public static final List<Descriptors.ServiceDescriptor> SERVICES =
      List.of(KeyServiceProto.getDescriptor().findServiceByName("KeyService"));

  private static final String SCHEMAS = "#/components/schemas/";
  private static final String ERROR = "keyrotor.gateway.Error";

  private OpenApiDocument() {}

  /** Writes the document of {@link #SERVICES} to the file {@code args[0]}. */
  public static void main(String[] args) throws IOException {
    if (args.length != 1) {
      throw new IllegalArgumentException("usage: OpenApiDocument FILE");
    }
    Files.writeString(Path.of(args[0]), generate(SERVICES), StandardCharsets.UTF_8);
  }

  /** The document (pretty-printed JSON with a final newline) of the mapped RPCs of services. */
  public static String generate(List<Descriptors.ServiceDescriptor> services) {
    JsonObject document = new JsonObject();
    document.addProperty("openapi", "3.1.0");
    JsonObject info = new JsonObject();
    info.addProperty("title", "keyrotor key API");
    info.addProperty("version", "v1");
    info.addProperty(
        "description",
        "The keyrotor gRPC key API as HTTP/JSON on a node's HTTPS port, generated from the"
            + " google.api.http options of keyrotor/v1. Requests and responses use protobuf's JSON"
            + " mapping; every call presents a client certificate of the cluster's CA and is"
            + " authorised and audited as the gRPC call. Errors answer the HTTP status of the gRPC"
            + " code with {\"error\": {code, message, status, details}}, details being the"
            + " google.rpc.Status details (ErrorInfo.reason names the error).");
    document.add("info", info);
    JsonArray security = new JsonArray();
    JsonObject mtls = new JsonObject();
    mtls.add("mutualTLS", new JsonArray());
    security.add(mtls);
    document.add("security", security);

    Map<String, JsonObject> schemas = new TreeMap<>();
    Deque<Descriptors.Descriptor> pending = new ArrayDeque<>();
    JsonObject paths = new JsonObject();
    for (RestRoute route : RestRoute.of(services)) {
      JsonObject item =
          paths.has(route.template()) ? paths.getAsJsonObject(route.template()) : new JsonObject();
      item.add(route.httpMethod().toLowerCase(java.util.Locale.ROOT), operation(route, pending));
      paths.add(route.template(), item);
    }
    document.add("paths", paths);

    while (!pending.isEmpty()) {
      Descriptors.Descriptor message = pending.pop();
      if (!schemas.containsKey(message.getFullName())) {
        schemas.put(message.getFullName(), messageSchema(message, pending));
      }
    }
    JsonObject components = new JsonObject();
    JsonObject schemaObjects = new JsonObject();
    schemaObjects.add(ERROR, errorSchema());
    schemas.forEach(schemaObjects::add);
    components.add("schemas", schemaObjects);
    JsonObject schemes = new JsonObject();
    JsonObject scheme = new JsonObject();
    scheme.addProperty("type", "mutualTLS");
    scheme.addProperty(
        "description",
        "A client certificate issued by the cluster's CA; its principal (URI SAN, else CN) is"
            + " the caller the access policy authorises.");
    schemes.add("mutualTLS", scheme);
    components.add("securitySchemes", schemes);
    document.add("components", components);
    return new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(document)
        + "\n";
  }

  private static JsonObject operation(RestRoute route, Deque<Descriptors.Descriptor> pending) {
    Descriptors.MethodDescriptor method = route.method();
    JsonObject operation = new JsonObject();
    operation.addProperty("operationId", method.getService().getName() + "_" + method.getName());
    JsonArray tags = new JsonArray();
    tags.add(method.getService().getName());
    operation.add("tags", tags);
    operation.addProperty(
        "description",
        "The gRPC method " + method.getService().getFullName() + "/" + method.getName() + ".");
    JsonArray parameters = new JsonArray();
    List<String> pathFields = route.pathFields();
    for (String field : pathFields) {
      parameters.add(
          parameter(field, "path", true, RestRoute.fieldOf(method.getInputType(), field), pending));
    }
    if (route.body().isEmpty()) {
      for (FieldDescriptor field : method.getInputType().getFields()) {
        if (!pathFields.contains(field.getName()) && queryable(field)) {
          parameters.add(parameter(field.getName(), "query", false, field, pending));
        }
      }
    }
    if (!parameters.isEmpty()) {
      operation.add("parameters", parameters);
    }
    if (!route.body().isEmpty()) {
      JsonObject schema;
      if ("*".equals(route.body())) {
        schema = reference(method.getInputType(), pending);
      } else {
        schema = fieldSchema(RestRoute.fieldOf(method.getInputType(), route.body()), pending);
      }
      JsonObject body = new JsonObject();
      body.addProperty("required", true);
      body.add("content", json(schema));
      operation.add("requestBody", body);
    }
    JsonObject responses = new JsonObject();
    JsonObject ok = new JsonObject();
    ok.addProperty("description", method.getOutputType().getName());
    ok.add("content", json(reference(method.getOutputType(), pending)));
    responses.add("200", ok);
    JsonObject error = new JsonObject();
    error.addProperty(
        "description", "The call failed: the google.rpc.Status of the gRPC call, in an envelope.");
    JsonObject errorRef = new JsonObject();
    errorRef.addProperty("$ref", SCHEMAS + ERROR);
    error.add("content", json(errorRef));
    responses.add("default", error);
    operation.add("responses", responses);
    return operation;
  }

  private static boolean queryable(FieldDescriptor field) {
    if (field.isMapField()) {
      return false;
    }
    return field.getJavaType() != FieldDescriptor.JavaType.MESSAGE
        || field.getMessageType().getFullName().startsWith("google.protobuf.");
  }

  private static JsonObject parameter(
      String name,
      String in,
      boolean required,
      FieldDescriptor field,
      Deque<Descriptors.Descriptor> pending) {
    JsonObject parameter = new JsonObject();
    parameter.addProperty("name", name);
    parameter.addProperty("in", in);
    parameter.addProperty("required", required);
    parameter.add("schema", fieldSchema(field, pending));
    return parameter;
  }

  private static JsonObject json(JsonObject schema) {
    JsonObject media = new JsonObject();
    media.add("schema", schema);
    JsonObject content = new JsonObject();
    content.add("application/json", media);
    return content;
  }

  private static JsonObject messageSchema(
      Descriptors.Descriptor message, Deque<Descriptors.Descriptor> pending) {
    JsonObject schema = new JsonObject();
    schema.addProperty("type", "object");
    JsonObject properties = new JsonObject();
    for (FieldDescriptor field : message.getFields()) {
      properties.add(field.getJsonName(), fieldSchema(field, pending));
    }
    schema.add("properties", properties);
    return schema;
  }

  private static JsonObject fieldSchema(
      FieldDescriptor field, Deque<Descriptors.Descriptor> pending) {
    if (field.isMapField()) {
      JsonObject map = new JsonObject();
      map.addProperty("type", "object");
      map.add(
          "additionalProperties",
          singleSchema(field.getMessageType().findFieldByName("value"), pending));
      return map;
    }
    if (field.isRepeated()) {
      JsonObject array = new JsonObject();
      array.addProperty("type", "array");
      array.add("items", singleSchema(field, pending));
      return array;
    }
    return singleSchema(field, pending);
  }

  private static JsonObject singleSchema(
      FieldDescriptor field, Deque<Descriptors.Descriptor> pending) {
    return switch (field.getType()) {
      case DOUBLE -> typed("number", "double");
      case FLOAT -> typed("number", "float");
      case INT32, SINT32, SFIXED32 -> typed("integer", "int32");
      case UINT32, FIXED32 -> typed("integer", "uint32");
      case INT64, SINT64, SFIXED64 -> typed("string", "int64");
      case UINT64, FIXED64 -> typed("string", "uint64");
      case BOOL -> typed("boolean", null);
      case STRING -> typed("string", null);
      case BYTES -> typed("string", "byte");
      case ENUM -> {
        JsonObject schema = typed("string", null);
        JsonArray values = new JsonArray();
        field.getEnumType().getValues().forEach(value -> values.add(value.getName()));
        schema.add("enum", values);
        yield schema;
      }
      case MESSAGE, GROUP -> reference(field.getMessageType(), pending);
    };
  }

  private static JsonObject reference(
      Descriptors.Descriptor message, Deque<Descriptors.Descriptor> pending) {
    String name = message.getFullName();
    if (name.equals("google.protobuf.Timestamp")) {
      return typed("string", "date-time");
    }
    if (name.equals("google.protobuf.Duration")) {
      JsonObject duration = typed("string", null);
      duration.addProperty("pattern", "^-?[0-9]+(\\.[0-9]{1,9})?s$");
      return duration;
    }
    if (name.equals("google.protobuf.Empty")) {
      return typed("object", null);
    }
    pending.push(message);
    JsonObject ref = new JsonObject();
    ref.addProperty("$ref", SCHEMAS + message.getFullName());
    return ref;
  }

  private static JsonObject typed(String type, String format) {
    JsonObject schema = new JsonObject();
    schema.addProperty("type", type);
    if (format != null) {
      schema.addProperty("format", format);
    }
    return schema;
  }

  private static JsonObject errorSchema() {
    JsonObject error = new JsonObject();
    error.addProperty("type", "object");
    JsonObject properties = new JsonObject();
    properties.add("code", typed("integer", "int32"));
    properties.add("message", typed("string", null));
    properties.add("status", typed("string", null));
    JsonObject details = new JsonObject();
    details.addProperty("type", "array");
    JsonObject detail = typed("object", null);
    JsonObject type = new JsonObject();
    type.add("@type", typed("string", null));
    detail.add("properties", type);
    details.add("items", detail);
    properties.add("details", details);
    error.add("properties", properties);
    JsonObject envelope = new JsonObject();
    envelope.addProperty("type", "object");
    JsonObject outer = new JsonObject();
    outer.add("error", error);
    envelope.add("properties", outer);
    return envelope;
  }
}
