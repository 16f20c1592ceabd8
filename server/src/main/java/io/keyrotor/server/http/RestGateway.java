package io.keyrotor.server.http;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.google.protobuf.Any;
import com.google.protobuf.Descriptors;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import com.google.rpc.DebugInfo;
import com.google.rpc.ErrorInfo;
import com.google.rpc.Help;
import com.google.rpc.LocalizedMessage;
import com.google.rpc.PreconditionFailure;
import com.google.rpc.QuotaFailure;
import com.google.rpc.RequestInfo;
import com.google.rpc.ResourceInfo;
import com.google.rpc.RetryInfo;
import com.sun.net.httpserver.HttpExchange;
import io.grpc.CallOptions;
import io.grpc.Contexts;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.protobuf.ProtoMethodDescriptorSupplier;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ClientCalls;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.server.access.Caller;
import io.keyrotor.server.access.Principal;
import io.keyrotor.server.api.ApiErrors;
import io.keyrotor.server.audit.RequestIds;
import io.keyrotor.server.tracing.HttpSpans;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Scope;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * The HTTP/JSON gateway to the key API on the node's HTTPS port: gRPC-JSON transcoding driven by
 * the {@code google.api.http} options of the RPCs ({@link RestRoute}), with protobuf's own JSON
 * mapping ({@link JsonFormat}), and the OpenAPI document of the same routes at {@code
 * /openapi.json} ({@link OpenApiDocument}).
 *
 * <p>A request becomes the RPC's request message (body, then path fields, then query parameters,
 * merged through JsonFormat so the JSON mapping is protobuf's), and the RPC is called on an
 * in-process gRPC server holding the same service implementation behind the same interceptors as
 * the gRPC port (integrity gate, request ids, metrics) except TLS authentication, which the HTTPS
 * listener has already done: {@link #callerInterceptor} takes the principal of the caller's client
 * certificate from the in-process call. Authorisation, quotas, audit and errors are therefore the
 * gRPC port's. A failed call answers the HTTP status of its gRPC code (Google's mapping) and a JSON
 * body {@code {"error": {"code", "message", "status", "details"}}} whose details are the
 * google.rpc.Status details (ErrorInfo with the reason, RetryInfo, BadRequest...).
 *
 * <p>Why not a transcoding library: the one for Java that resolves from the Maven registry
 * (Armeria's gRPC module) brings its own HTTP server; adopting it means moving the HTTPS port, its
 * metrics and status page off the JDK server. This gateway keeps the listener and only reads the
 * options and calls the service, with no hand-written JSON mapping.
 *
 * <p>About 500 lines because the request mapping, the in-process call and the error answer are one
 * exchange, read top to bottom.
 */
public final class RestGateway implements AutoCloseable {
  /** The in-process call's principal; only this gateway reaches the in-process server. */
  private static final Metadata.Key<String> PRINCIPAL =
      Metadata.Key.of("keyrotor-gateway-principal", Metadata.ASCII_STRING_MARSHALLER);

  /** How large a request body may be (the gRPC port's default message limit is 4 MiB). */
  static final int MAX_BODY_BYTES = 4 * 1024 * 1024;

  /** How long a call may take before the gateway gives up on it (504). */
  private static final long DEADLINE_SECONDS = 60;

  private static final JsonFormat.TypeRegistry DETAIL_TYPES =
      JsonFormat.TypeRegistry.newBuilder()
          .add(
              List.of(
                  ErrorInfo.getDescriptor(),
                  RetryInfo.getDescriptor(),
                  BadRequest.getDescriptor(),
                  PreconditionFailure.getDescriptor(),
                  QuotaFailure.getDescriptor(),
                  ResourceInfo.getDescriptor(),
                  RequestInfo.getDescriptor(),
                  Help.getDescriptor(),
                  LocalizedMessage.getDescriptor(),
                  DebugInfo.getDescriptor()))
          .build();

  private static final JsonFormat.Printer PRINTER =
      JsonFormat.printer().usingTypeRegistry(DETAIL_TYPES).omittingInsignificantWhitespace();
  private static final JsonFormat.Parser PARSER = JsonFormat.parser();

  private final Server server;
  private final ManagedChannel channel;
  private final List<RestRoute> routes;
  private final Map<String, MethodDescriptor<Message, Message>> calls;
  private final String openApi;
  private final HttpSpans spans;

  private RestGateway(
      Server server,
      ManagedChannel channel,
      List<RestRoute> routes,
      Map<String, MethodDescriptor<Message, Message>> calls,
      String openApi,
      HttpSpans spans) {
    this.server = server;
    this.channel = channel;
    this.routes = routes;
    this.calls = calls;
    this.openApi = openApi;
    this.spans = spans;
  }

  /**
   * Serves the mapped RPCs of {@code services}, each already behind its interceptors, the last of
   * them (to run first after metrics) being {@link #callerInterceptor}.
   *
   * @param executor where the in-process server runs the calls (the node's API pool)
   * @param spans the server span of each routed request, propagated onto its in-process call
   */
  public static RestGateway start(
      List<ServerServiceDefinition> services, Executor executor, HttpSpans spans)
      throws IOException {
    String name = "keyrotor-rest-" + UUID.randomUUID();
    InProcessServerBuilder builder = InProcessServerBuilder.forName(name).executor(executor);
    List<Descriptors.ServiceDescriptor> descriptors = new ArrayList<>();
    Map<String, MethodDescriptor<Message, Message>> calls = new HashMap<>();
    for (ServerServiceDefinition service : services) {
      builder.addService(service);
      Object schema = service.getServiceDescriptor().getSchemaDescriptor();
      if (schema instanceof io.grpc.protobuf.ProtoServiceDescriptorSupplier supplier) {
        descriptors.add(supplier.getServiceDescriptor());
      }
      for (MethodDescriptor<?, ?> method : service.getServiceDescriptor().getMethods()) {
        if (method.getSchemaDescriptor() instanceof ProtoMethodDescriptorSupplier supplier) {
          calls.put(supplier.getMethodDescriptor().getFullName(), clientSide(method, supplier));
        }
      }
    }
    Server server = builder.build().start();
    ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    return new RestGateway(
        server,
        channel,
        RestRoute.of(descriptors),
        Map.copyOf(calls),
        OpenApiDocument.generate(descriptors),
        spans);
  }

  /**
   * The client side of {@code method}: the service definition's request marshaller may take raw
   * bytes (MalformedRequests parses them itself), so requests are written from their descriptor as
   * DynamicMessage (the same bytes) and answers read with the definition's response marshaller.
   */
  @SuppressWarnings("unchecked")
  private static MethodDescriptor<Message, Message> clientSide(
      MethodDescriptor<?, ?> method, ProtoMethodDescriptorSupplier supplier) {
    Message requestPrototype =
        com.google.protobuf.DynamicMessage.getDefaultInstance(
            supplier.getMethodDescriptor().getInputType());
    return MethodDescriptor.<Message, Message>newBuilder()
        .setType(method.getType())
        .setFullMethodName(method.getFullMethodName())
        .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(requestPrototype))
        .setResponseMarshaller(
            (MethodDescriptor.Marshaller<Message>) method.getResponseMarshaller())
        .setSchemaDescriptor(supplier)
        .build();
  }

  /**
   * The interceptor that stands for TLS authentication on the in-process server: it puts the
   * principal the gateway authenticated into {@link Caller#PRINCIPAL}, and refuses a call without
   * one.
   */
  public static ServerInterceptor callerInterceptor() {
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(
          ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        String name = headers.get(PRINCIPAL);
        if (name == null || name.isEmpty()) {
          StatusRuntimeException refused =
              ApiErrors.unauthenticated("the gateway's call names no authenticated principal");
          call.close(refused.getStatus(), refused.getTrailers());
          return new ServerCall.Listener<>() {};
        }
        return Contexts.interceptCall(
            io.grpc.Context.current().withValue(Caller.PRINCIPAL, new Principal(name)),
            call,
            headers,
            next);
      }
    };
  }

  /** Whether {@code path} is the gateway's: the API under {@code /v1} or the OpenAPI document. */
  static boolean serves(String path) {
    return path.equals("/openapi.json") || path.startsWith("/v1/") || path.startsWith("/v1:");
  }

  /** The OpenAPI document this gateway serves. */
  String openApi() {
    return openApi;
  }

  /** Answers one request of {@code principal} (already authenticated by its client certificate). */
  @SuppressWarnings("try") // the Scope is held only to be closed
  void handle(HttpExchange exchange, Principal principal) throws IOException {
    String path = exchange.getRequestURI().getRawPath();
    String method = exchange.getRequestMethod();
    if (path.equals("/openapi.json")) {
      if (!"GET".equals(method) && !"HEAD".equals(method)) {
        exchange.getResponseHeaders().set("Allow", "GET, HEAD");
        sendError(exchange, 405, routeNotFound(method, path));
        return;
      }
      HttpEndpoint.send(exchange, 200, "application/json", openApi);
      return;
    }
    List<String> allowed = new ArrayList<>();
    for (RestRoute route : routes) {
      Optional<Map<String, String>> values = route.match(path);
      if (values.isEmpty()) {
        continue;
      }
      if (!route.httpMethod().equals(method)) {
        allowed.add(route.httpMethod());
        continue;
      }
      Span span = spans.start(method, route.template(), exchange.getRequestHeaders());
      try (Scope unused = span.makeCurrent()) {
        call(exchange, principal, route, values.get());
      } catch (RuntimeException e) {
        sendError(exchange, ApiErrors.internal(e));
      } finally {
        HttpSpans.end(span, exchange.getResponseCode());
      }
      return;
    }
    if (!allowed.isEmpty()) {
      exchange.getResponseHeaders().set("Allow", String.join(", ", allowed));
      sendError(exchange, 405, routeNotFound(method, path));
      return;
    }
    sendError(exchange, 404, routeNotFound(method, path));
  }

  private void call(
      HttpExchange exchange, Principal principal, RestRoute route, Map<String, String> pathValues)
      throws IOException {
    MethodDescriptor<Message, Message> rpc = calls.get(route.method().getFullName());
    Message request;
    try {
      request = request(exchange, route, pathValues, rpc);
    } catch (StatusRuntimeException invalid) {
      sendError(exchange, invalid);
      return;
    }
    Metadata headers = new Metadata();
    headers.put(PRINCIPAL, principal.name());
    String requestId = exchange.getRequestHeaders().getFirst("X-Request-Id");
    if (requestId != null) {
      headers.put(RequestIds.HEADER, requestId);
    }
    HttpSpans.inject(headers);
    Message response;
    try {
      response =
          ClientCalls.blockingUnaryCall(
              io.grpc.ClientInterceptors.intercept(
                  channel, io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(headers)),
              rpc,
              CallOptions.DEFAULT.withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS),
              request);
    } catch (StatusRuntimeException failed) {
      sendError(exchange, failed);
      return;
    }
    HttpEndpoint.send(exchange, 200, "application/json", PRINTER.print(response) + "\n");
  }

  /** The request message: the body, then the path's fields, then the query's, through JSON. */
  private static Message request(
      HttpExchange exchange,
      RestRoute route,
      Map<String, String> pathValues,
      MethodDescriptor<Message, Message> rpc)
      throws IOException {
    JsonObject json = new JsonObject();
    if (!route.body().isEmpty()) {
      byte[] bytes;
      try (InputStream in = exchange.getRequestBody()) {
        bytes = in.readNBytes(MAX_BODY_BYTES + 1);
      }
      if (bytes.length > MAX_BODY_BYTES) {
        throw invalid("the request body is over " + MAX_BODY_BYTES + " bytes");
      }
      String text = new String(bytes, StandardCharsets.UTF_8).strip();
      if (!text.isEmpty()) {
        JsonElement body;
        try {
          body = JsonParser.parseString(text);
        } catch (JsonParseException e) {
          throw invalid("the request body is not JSON: " + e.getMessage());
        }
        if ("*".equals(route.body())) {
          if (!body.isJsonObject()) {
            throw invalid("the request body must be a JSON object");
          }
          json = body.getAsJsonObject();
        } else {
          put(json, route.method().getInputType(), route.body(), body);
        }
      }
    }
    for (Map.Entry<String, String> value : pathValues.entrySet()) {
      put(json, route.method().getInputType(), value.getKey(), new JsonPrimitive(value.getValue()));
    }
    String query = exchange.getRequestURI().getRawQuery();
    if (query != null && !query.isEmpty()) {
      Map<String, JsonArray> repeated = new HashMap<>();
      for (String pair : query.split("&", -1)) {
        if (pair.isEmpty()) {
          continue;
        }
        int equals = pair.indexOf('=');
        String name = decodeQuery(equals < 0 ? pair : pair.substring(0, equals));
        String value = equals < 0 ? "" : decodeQuery(pair.substring(equals + 1));
        Descriptors.FieldDescriptor field;
        try {
          field = RestRoute.fieldOf(route.method().getInputType(), name);
        } catch (IllegalArgumentException e) {
          throw invalid("unknown query parameter " + name + ": " + e.getMessage());
        }
        if (field.isMapField()
            || (field.getJavaType() == Descriptors.FieldDescriptor.JavaType.MESSAGE
                && !field.getMessageType().getFullName().startsWith("google.protobuf."))) {
          throw invalid("query parameter " + name + " is not a scalar field; send it in a body");
        }
        if (field.isRepeated()) {
          JsonArray values = repeated.computeIfAbsent(name, n -> new JsonArray());
          values.add(value);
          put(json, route.method().getInputType(), name, values);
        } else {
          put(json, route.method().getInputType(), name, new JsonPrimitive(value));
        }
      }
    }
    Message.Builder builder =
        ((MethodDescriptor.PrototypeMarshaller<Message>) rpc.getRequestMarshaller())
            .getMessagePrototype()
            .newBuilderForType();
    try {
      PARSER.merge(json.toString(), builder);
    } catch (InvalidProtocolBufferException e) {
      throw invalid(
          "the request does not match "
              + route.method().getInputType().getFullName()
              + ": "
              + e.getMessage());
    }
    return builder.build();
  }

  /**
   * Sets the field at dotted {@code path} of {@code root} (a JSON object for {@code type}) to
   * {@code value}, replacing what the body held for it under its proto or its JSON name.
   */
  private static void put(
      JsonObject root, Descriptors.Descriptor type, String path, JsonElement value) {
    String[] names = path.split("\\.", -1);
    JsonObject object = root;
    Descriptors.Descriptor current = type;
    for (int i = 0; i < names.length; i++) {
      Descriptors.FieldDescriptor field = current.findFieldByName(names[i]);
      if (i == names.length - 1) {
        object.remove(field.getJsonName());
        object.remove(field.getName());
        object.add(field.getName(), value);
        return;
      }
      JsonElement child = object.get(field.getName());
      if (child == null) {
        child = object.remove(field.getJsonName());
      }
      if (child == null || !child.isJsonObject()) {
        child = new JsonObject();
      }
      object.add(field.getName(), child);
      object = child.getAsJsonObject();
      current = field.getMessageType();
    }
  }

  private static String decodeQuery(String raw) {
    return RestRoute.PercentDecoding.decode(raw.replace('+', ' '))
        .orElseThrow(() -> invalid("the query string is not percent-encoded correctly"));
  }

  private static StatusRuntimeException invalid(String message) {
    return ApiErrors.error(Code.INVALID_ARGUMENT, ErrorReason.INVALID_ARGUMENT, message, Map.of());
  }

  private static StatusRuntimeException routeNotFound(String method, String path) {
    return ApiErrors.error(
        Code.NOT_FOUND,
        ErrorReason.HTTP_ROUTE_NOT_FOUND,
        "no RPC of this node is mapped to " + method + " " + path + " (see /openapi.json)",
        Map.of("method", method, "path", path));
  }

  private static void sendError(HttpExchange exchange, StatusRuntimeException e)
      throws IOException {
    sendError(exchange, httpStatus(e.getStatus().getCode()), e);
  }

  /** Answers {@code code} with the error envelope of {@code e}'s google.rpc.Status. */
  private static void sendError(HttpExchange exchange, int code, StatusRuntimeException e)
      throws IOException {
    com.google.rpc.Status status = StatusProto.fromThrowable(e);
    if (status == null) {
      status =
          com.google.rpc.Status.newBuilder()
              .setCode(e.getStatus().getCode().value())
              .setMessage(
                  e.getStatus().getDescription() == null ? "" : e.getStatus().getDescription())
              .build();
    }
    JsonObject error = new JsonObject();
    error.addProperty("code", code);
    error.addProperty("message", status.getMessage());
    Code rpcCode = Code.forNumber(status.getCode());
    error.addProperty("status", rpcCode == null ? "UNKNOWN" : rpcCode.name());
    JsonArray details = new JsonArray();
    for (Any detail : status.getDetailsList()) {
      try {
        details.add(JsonParser.parseString(PRINTER.print(detail)));
      } catch (InvalidProtocolBufferException unknownType) {
        JsonObject opaque = new JsonObject();
        opaque.addProperty("@type", detail.getTypeUrl());
        details.add(opaque);
      }
      if (detail.is(RetryInfo.class)) {
        RetryInfo retry = detail.unpack(RetryInfo.class);
        long seconds =
            retry.getRetryDelay().getSeconds() + (retry.getRetryDelay().getNanos() > 0 ? 1 : 0);
        exchange.getResponseHeaders().set("Retry-After", Long.toString(Math.max(1, seconds)));
      }
    }
    error.add("details", details);
    JsonObject envelope = new JsonObject();
    envelope.add("error", error);
    HttpEndpoint.send(exchange, code, "application/json", envelope + "\n");
  }

  /** The HTTP status of a gRPC code, as Google's APIs map them (google/rpc/code.proto). */
  static int httpStatus(Status.Code code) {
    return switch (code) {
      case OK -> 200;
      case CANCELLED -> 499;
      case INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE -> 400;
      case DEADLINE_EXCEEDED -> 504;
      case NOT_FOUND -> 404;
      case ALREADY_EXISTS, ABORTED -> 409;
      case PERMISSION_DENIED -> 403;
      case UNAUTHENTICATED -> 401;
      case RESOURCE_EXHAUSTED -> 429;
      case UNIMPLEMENTED -> 501;
      case UNAVAILABLE -> 503;
      case UNKNOWN, INTERNAL, DATA_LOSS -> 500;
    };
  }

  @Override
  public void close() {
    channel.shutdownNow();
    server.shutdownNow();
  }
}
