package io.keyrotor.server.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Optional;
import java.util.Properties;

/**
 * Tracing ({@code tracing.*}): OpenTelemetry spans for each RPC, the write path's propose, Raft
 * commit and apply, and HSM wrap and unwrap, with the caller's W3C trace context taken from the
 * gRPC metadata. Off unless a destination is configured, so a node that nobody traces pays nothing.
 *
 * <ul>
 *   <li>{@code tracing.otlp.endpoint} (none by default): an OTLP/HTTP receiver (protobuf, usually
 *       port 4318), {@code http://collector:4318} or {@code https://...}; {@code /v1/traces} is
 *       added when the address has no path;
 *   <li>{@code tracing.log} (default false): true logs each finished span (logger {@code
 *       io.opentelemetry.exporter.logging}), for tests and a first look;
 *   <li>{@code tracing.enabled} (default: true when either of the above is set): false turns
 *       tracing off whatever else is set; true without a destination is refused;
 *   <li>{@code tracing.sample-ratio} (default 1.0, 0-1): the share of traces this node starts that
 *       are recorded; a call that arrives with a trace context follows the caller's decision.
 * </ul>
 *
 * @param enabled whether the node records spans at all
 * @param otlpEndpoint where spans are exported over OTLP/HTTP, if anywhere
 * @param log whether finished spans are logged
 * @param sampleRatio the share of new traces recorded
 */
public record TracingSettings(
    boolean enabled, Optional<URI> otlpEndpoint, boolean log, double sampleRatio) {

  public TracingSettings {
    if (sampleRatio < 0 || sampleRatio > 1 || Double.isNaN(sampleRatio)) {
      throw new IllegalArgumentException("sample ratio must be 0-1, got " + sampleRatio);
    }
  }

  /** Off: no spans, no exporter. */
  public static TracingSettings defaults() {
    return new TracingSettings(false, Optional.empty(), false, 1.0);
  }

  /** The {@code tracing.*} lines of {@code p} (defaults where absent). */
  static TracingSettings parse(Properties p, String source) throws ConfigException {
    Optional<URI> endpoint = endpoint(p, source);
    boolean log = bool(p, source, "tracing.log", "false");
    boolean enabled =
        bool(p, source, "tracing.enabled", endpoint.isPresent() || log ? "true" : "false");
    if (enabled && endpoint.isEmpty() && !log) {
      throw new ConfigException(
          source
              + ": tracing.enabled=true needs somewhere to send spans: tracing.otlp.endpoint"
              + " (an OTLP/HTTP receiver) or tracing.log=true");
    }
    String ratioText = p.getProperty("tracing.sample-ratio", "1.0").trim();
    double ratio;
    try {
      ratio = Double.parseDouble(ratioText);
    } catch (NumberFormatException e) {
      ratio = Double.NaN;
    }
    if (!(ratio >= 0 && ratio <= 1)) {
      throw new ConfigException(
          source
              + ": tracing.sample-ratio must be a number from 0 to 1, got \""
              + ratioText
              + "\"");
    }
    return new TracingSettings(enabled, endpoint, log, ratio);
  }

  private static Optional<URI> endpoint(Properties p, String source) throws ConfigException {
    String text = p.getProperty("tracing.otlp.endpoint", "").trim();
    if (text.isEmpty()) {
      return Optional.empty();
    }
    URI uri;
    try {
      uri = new URI(text);
    } catch (URISyntaxException e) {
      uri = null;
    }
    if (uri == null
        || uri.getHost() == null
        || !("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))) {
      throw new ConfigException(
          source
              + ": tracing.otlp.endpoint must be an http:// or https:// address of an OTLP/HTTP"
              + " receiver (e.g. http://127.0.0.1:4318), got \""
              + text
              + "\"");
    }
    if (uri.getRawPath() == null || uri.getRawPath().isEmpty() || uri.getRawPath().equals("/")) {
      uri = uri.resolve("/v1/traces");
    }
    return Optional.of(uri);
  }

  private static boolean bool(Properties p, String source, String key, String fallback)
      throws ConfigException {
    String text = p.getProperty(key, fallback).trim();
    if (!text.equals("true") && !text.equals("false")) {
      throw new ConfigException(
          source + ": " + key + " must be true or false, got \"" + text + "\"");
    }
    return text.equals("true");
  }
}
