package io.keyrotor.server.http;

import com.google.api.AnnotationsProto;
import com.google.api.HttpRule;
import com.google.protobuf.Descriptors;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One RPC's HTTP mapping, read from its {@code google.api.http} option: the HTTP method, the path
 * template ({@code /v1/keys/{name}:generateDataKey}) and which part of the request message the body
 * holds. The gateway routes by it and the OpenAPI document describes it, so both follow the proto
 * and nothing else.
 *
 * <p>Templates are the subset of Google's syntax the keyrotor protos use: literal segments, {@code
 * {field}} (one segment, also written {@code {field=*}}) and a final {@code :verb}. A template
 * outside it fails when the routes are built, so the build's tests catch it.
 *
 * @param httpMethod GET, POST, PUT, PATCH or DELETE
 * @param template the path template as written in the proto
 * @param body {@code *} (the whole request message), a field name, or empty (no body)
 */
record RestRoute(
    Descriptors.MethodDescriptor method,
    String httpMethod,
    String template,
    List<String> segments,
    String verb,
    String body) {

  /** The route of {@code method}, if it is unary and carries a {@code google.api.http} option. */
  static Optional<RestRoute> of(Descriptors.MethodDescriptor method) {
    if (method.isClientStreaming()
        || method.isServerStreaming()
        || !method.getOptions().hasExtension(AnnotationsProto.http)) {
      return Optional.empty();
    }
    HttpRule rule = method.getOptions().getExtension(AnnotationsProto.http);
    String httpMethod;
    String template;
    switch (rule.getPatternCase()) {
      case GET -> {
        httpMethod = "GET";
        template = rule.getGet();
      }
      case POST -> {
        httpMethod = "POST";
        template = rule.getPost();
      }
      case PUT -> {
        httpMethod = "PUT";
        template = rule.getPut();
      }
      case PATCH -> {
        httpMethod = "PATCH";
        template = rule.getPatch();
      }
      case DELETE -> {
        httpMethod = "DELETE";
        template = rule.getDelete();
      }
      default ->
          throw new IllegalArgumentException(
              method.getFullName() + ": google.api.http without a supported method");
    }
    if (!template.startsWith("/")) {
      throw new IllegalArgumentException(method.getFullName() + ": " + template + " is not /...");
    }
    String path = template.substring(1);
    String verb = "";
    int lastSlash = path.lastIndexOf('/');
    int colon = path.indexOf(':', Math.max(lastSlash, path.lastIndexOf('}')) + 1);
    if (colon >= 0) {
      verb = path.substring(colon + 1);
      path = path.substring(0, colon);
    }
    List<String> segments = new ArrayList<>();
    for (String segment : path.split("/", -1)) {
      if (segment.startsWith("{")) {
        if (!segment.endsWith("}")) {
          throw unsupported(method, template);
        }
        String field = segment.substring(1, segment.length() - 1);
        if (field.endsWith("=*")) {
          field = field.substring(0, field.length() - 2);
        }
        if (field.isEmpty() || !field.matches("[a-z_][a-z0-9_.]*")) {
          throw unsupported(method, template);
        }
        fieldOf(method.getInputType(), field); // fails on a field the request does not have
        segments.add("{" + field + "}");
      } else if (segment.isEmpty() || segment.contains("{") || segment.contains("}")) {
        throw unsupported(method, template);
      } else {
        segments.add(segment);
      }
    }
    if (!rule.getBody().isEmpty() && !"*".equals(rule.getBody())) {
      fieldOf(method.getInputType(), rule.getBody());
    }
    return Optional.of(
        new RestRoute(method, httpMethod, template, List.copyOf(segments), verb, rule.getBody()));
  }

  /** The routes of every mapped RPC of {@code services}, in declaration order. */
  static List<RestRoute> of(List<Descriptors.ServiceDescriptor> services) {
    List<RestRoute> routes = new ArrayList<>();
    for (Descriptors.ServiceDescriptor service : services) {
      for (Descriptors.MethodDescriptor method : service.getMethods()) {
        of(method).ifPresent(routes::add);
      }
    }
    return List.copyOf(routes);
  }

  /** The names of the request fields the path binds, in template order. */
  List<String> pathFields() {
    List<String> fields = new ArrayList<>();
    for (String segment : segments) {
      if (segment.startsWith("{")) {
        fields.add(segment.substring(1, segment.length() - 1));
      }
    }
    return fields;
  }

  /**
   * The values of the path's fields if {@code rawPath} (percent-encoded, as received) matches this
   * route's template; each value is decoded.
   */
  Optional<Map<String, String>> match(String rawPath) {
    if (!rawPath.startsWith("/")) {
      return Optional.empty();
    }
    String path = rawPath.substring(1);
    if (!verb.isEmpty()) {
      if (!path.endsWith(":" + verb)) {
        return Optional.empty();
      }
      path = path.substring(0, path.length() - verb.length() - 1);
    }
    String[] parts = path.split("/", -1);
    if (parts.length != segments.size()) {
      return Optional.empty();
    }
    Map<String, String> values = new LinkedHashMap<>();
    for (int i = 0; i < parts.length; i++) {
      String segment = segments.get(i);
      if (segment.startsWith("{")) {
        if (parts[i].isEmpty()) {
          return Optional.empty();
        }
        Optional<String> value = PercentDecoding.decode(parts[i]);
        if (value.isEmpty()) {
          return Optional.empty();
        }
        values.put(segment.substring(1, segment.length() - 1), value.get());
      } else if (!segment.equals(parts[i])) {
        return Optional.empty();
      }
    }
    return Optional.of(values);
  }

  /** The field at dotted {@code path} of {@code message}. */
  static Descriptors.FieldDescriptor fieldOf(Descriptors.Descriptor message, String path) {
    Descriptors.Descriptor current = message;
    Descriptors.FieldDescriptor field = null;
    for (String name : path.split("\\.", -1)) {
      if (current == null) {
        throw new IllegalArgumentException(path + " is not a field of " + message.getFullName());
      }
      field = current.findFieldByName(name);
      if (field == null) {
        throw new IllegalArgumentException(path + " is not a field of " + message.getFullName());
      }
      current =
          field.getJavaType() == Descriptors.FieldDescriptor.JavaType.MESSAGE
              ? field.getMessageType()
              : null;
    }
    return field;
  }

  private static IllegalArgumentException unsupported(
      Descriptors.MethodDescriptor method, String template) {
    return new IllegalArgumentException(
        method.getFullName()
            + ": path template "
            + template
            + " is outside the supported subset (literals, {field}, a final :verb)");
  }

  /** Strict percent-decoding of one path segment or query value ({@code +} stays a plus). */
  static final class PercentDecoding {
    private PercentDecoding() {}

    static Optional<String> decode(String raw) {
      if (raw.indexOf('%') < 0) {
        return Optional.of(raw);
      }
      java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream(raw.length());
      for (int i = 0; i < raw.length(); i++) {
        char c = raw.charAt(i);
        if (c == '%') {
          if (i + 2 >= raw.length()) {
            return Optional.empty();
          }
          int high = Character.digit(raw.charAt(i + 1), 16);
          int low = Character.digit(raw.charAt(i + 2), 16);
          if (high < 0 || low < 0) {
            return Optional.empty();
          }
          bytes.write(high * 16 + low);
          i += 2;
        } else {
          byte[] encoded = String.valueOf(c).getBytes(java.nio.charset.StandardCharsets.UTF_8);
          bytes.write(encoded, 0, encoded.length);
        }
      }
      return Optional.of(bytes.toString(java.nio.charset.StandardCharsets.UTF_8));
    }
  }
}
