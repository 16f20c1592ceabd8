package io.keyrotor.server.tracing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnknownFieldSet;
import com.sun.net.httpserver.HttpServer;
import io.keyrotor.server.config.TracingSettings;
import io.opentelemetry.api.trace.Span;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * A node's tracing built from {@code tracing.otlp.endpoint} exports its spans over OTLP/HTTP to a
 * receiver on a real socket: the receiver (the JDK's HTTP server) reads the protobuf
 * ExportTraceServiceRequest that arrives at {@code /v1/traces} and finds the span's name, its trace
 * id, and the node's id as the service instance.
 */
class OtlpExportTest {
  @Test
  void spans_reachTheOtlpHttpReceiver() throws Exception {
    List<byte[]> requests = new CopyOnWriteArrayList<>();
    List<String> contentTypes = new CopyOnWriteArrayList<>();
    HttpServer receiver =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    receiver.createContext(
        "/v1/traces",
        exchange -> {
          requests.add(exchange.getRequestBody().readAllBytes());
          contentTypes.add(exchange.getRequestHeaders().getFirst("Content-Type"));
          exchange.getResponseHeaders().add("Content-Type", "application/x-protobuf");
          exchange.sendResponseHeaders(200, -1);
          exchange.close();
        });
    receiver.start();
    String traceId;
    try {
      TracingSettings settings =
          new TracingSettings(
              true,
              Optional.of(
                  URI.create("http://127.0.0.1:" + receiver.getAddress().getPort() + "/v1/traces")),
              false,
              1.0);
      try (NodeTracing tracing = NodeTracing.create(settings, "n7", "eu")) {
        assertTrue(tracing.enabled());
        Span span = tracing.tracer().spanBuilder("keyrotor.test-span").startSpan();
        traceId = span.getSpanContext().getTraceId();
        span.end();
      } // closing flushes the batch to the receiver
    } finally {
      receiver.stop(0);
    }
    assertEquals(1, requests.size(), "one export request");
    assertEquals("application/x-protobuf", contentTypes.get(0));
    List<ByteString> values = new ArrayList<>();
    collect(UnknownFieldSet.parseFrom(requests.get(0)), values);
    assertTrue(
        values.contains(ByteString.copyFromUtf8("keyrotor.test-span")), "the span's name arrived");
    assertTrue(
        values.contains(ByteString.fromHex(traceId)), "the span's trace id arrived: " + traceId);
    assertTrue(values.contains(ByteString.copyFromUtf8("n7")), "the node id is the instance");
  }

  @Test
  void off_makesNoSpans() {
    try (NodeTracing tracing = NodeTracing.create(TracingSettings.defaults(), "n1", "eu")) {
      assertFalse(tracing.enabled());
      Span span = tracing.tracer().spanBuilder("x").startSpan();
      assertFalse(span.getSpanContext().isValid());
      span.end();
    }
  }

  /** Every length-delimited value of {@code set}, nested messages' too, parsed without a schema. */
  private static void collect(UnknownFieldSet set, List<ByteString> into) {
    for (UnknownFieldSet.Field field : set.asMap().values()) {
      for (ByteString value : field.getLengthDelimitedList()) {
        into.add(value);
        try {
          collect(UnknownFieldSet.parseFrom(value), into);
        } catch (InvalidProtocolBufferException notAMessage) {
          // a string or bytes value
        }
      }
    }
  }
}
