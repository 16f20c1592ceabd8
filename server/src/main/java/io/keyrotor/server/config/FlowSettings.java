package io.keyrotor.server.config;

import java.time.Duration;
import java.util.Locale;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How much one node lets its callers hold at once, so that no caller can make it buffer, queue or
 * connect without bound: event watchers (per node, per principal, how far behind a watcher that
 * stopped reading may fall), the gRPC transport's per-connection limits and keepalive policy, and
 * the queue of data-plane HSM work. Every setting has a default; the defaults are the values
 * documented in the README ("Flow control").
 *
 * @param watchersPerNode most event watchers one node serves ({@code limits.watchers-per-node})
 * @param watchersPerPrincipal most event watchers one principal holds on one node ({@code
 *     limits.watchers-per-principal})
 * @param watcherMaxLag how many log entries a watcher whose client stopped reading may fall behind
 *     the newest event before the node ends its stream ({@code limits.watcher-max-lag})
 * @param maxConcurrentCallsPerConnection HTTP/2 streams one connection may have open ({@code
 *     grpc.max-concurrent-calls-per-connection}); further calls wait in the client
 * @param maxInboundMessageBytes largest request message ({@code grpc.max-inbound-message-size})
 * @param maxInboundMetadataBytes largest request header block ({@code
 *     grpc.max-inbound-metadata-size})
 * @param keepAliveTime how long a connection is quiet before the node pings it ({@code
 *     grpc.keepalive-time})
 * @param keepAliveTimeout how long the node waits for the ping's answer ({@code
 *     grpc.keepalive-timeout})
 * @param permitKeepAliveTime the most frequent client pings the node tolerates ({@code
 *     grpc.keepalive-permit-time}); a client pinging more often is sent GOAWAY
 * @param permitKeepAliveWithoutCalls whether clients may ping connections without calls ({@code
 *     grpc.keepalive-permit-without-calls})
 * @param maxConnectionIdle how long a connection without calls stays open ({@code
 *     grpc.max-connection-idle}); zero keeps it
 * @param maxConnectionAge how long any connection lives before the node asks the client to
 *     reconnect ({@code grpc.max-connection-age}); zero: no limit
 * @param maxConnectionAgeGrace how long calls of such a connection may still finish ({@code
 *     grpc.max-connection-age-grace})
 * @param hsmQueueCapacity data-plane HSM tasks (unwraps, batches) that may wait for a thread
 *     ({@code hsm.queue-capacity}); more are refused with RESOURCE_EXHAUSTED HSM_BUSY
 */
public record FlowSettings(
    int watchersPerNode,
    int watchersPerPrincipal,
    long watcherMaxLag,
    int maxConcurrentCallsPerConnection,
    int maxInboundMessageBytes,
    int maxInboundMetadataBytes,
    Duration keepAliveTime,
    Duration keepAliveTimeout,
    Duration permitKeepAliveTime,
    boolean permitKeepAliveWithoutCalls,
    Duration maxConnectionIdle,
    Duration maxConnectionAge,
    Duration maxConnectionAgeGrace,
    int hsmQueueCapacity) {

  private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(|b|kib|mib)");

  /** The defaults (see the README, "Flow control"). */
  public static FlowSettings defaults() {
    return new FlowSettings(
        256,
        16,
        10_000,
        1_000,
        4 << 20,
        8 << 10,
        Duration.ofMinutes(1),
        Duration.ofSeconds(20),
        Duration.ofSeconds(10),
        true,
        Duration.ofMinutes(30),
        Duration.ZERO,
        Duration.ofMinutes(5),
        256);
  }

  /** The {@code limits.*} settings read here rather than by {@link LimitSettings}. */
  static final java.util.Set<String> LIMIT_KEYS =
      java.util.Set.of(
          "limits.watchers-per-node", "limits.watchers-per-principal", "limits.watcher-max-lag");

  /** Reads the settings of {@code p}, each with its default; a bad value is refused, named. */
  static FlowSettings parse(Properties p, String source) throws ConfigException {
    FlowSettings d = defaults();
    Reader r = new Reader(p, source);
    int perNode = r.positiveInt("limits.watchers-per-node", d.watchersPerNode());
    int perPrincipal = r.positiveInt("limits.watchers-per-principal", d.watchersPerPrincipal());
    if (perPrincipal > perNode) {
      perPrincipal = perNode;
    }
    return new FlowSettings(
        perNode,
        perPrincipal,
        r.positiveInt("limits.watcher-max-lag", (int) d.watcherMaxLag()),
        r.positiveInt(
            "grpc.max-concurrent-calls-per-connection", d.maxConcurrentCallsPerConnection()),
        r.size("grpc.max-inbound-message-size", d.maxInboundMessageBytes()),
        r.size("grpc.max-inbound-metadata-size", d.maxInboundMetadataBytes()),
        r.positiveDuration("grpc.keepalive-time", d.keepAliveTime()),
        r.positiveDuration("grpc.keepalive-timeout", d.keepAliveTimeout()),
        r.positiveDuration("grpc.keepalive-permit-time", d.permitKeepAliveTime()),
        r.bool("grpc.keepalive-permit-without-calls", d.permitKeepAliveWithoutCalls()),
        r.duration("grpc.max-connection-idle", d.maxConnectionIdle()),
        r.duration("grpc.max-connection-age", d.maxConnectionAge()),
        r.duration("grpc.max-connection-age-grace", d.maxConnectionAgeGrace()),
        r.positiveInt("hsm.queue-capacity", d.hsmQueueCapacity()));
  }

  private record Reader(Properties p, String source) {
    private String valueOrNull(String key) {
      String value = p.getProperty(key);
      return value == null || value.isBlank() ? null : value.trim();
    }

    int positiveInt(String key, int fallback) throws ConfigException {
      String value = valueOrNull(key);
      if (value == null) {
        return fallback;
      }
      try {
        int n = Integer.parseInt(value);
        if (n >= 1) {
          return n;
        }
      } catch (NumberFormatException e) {
        // refused below
      }
      throw new ConfigException(source + ": " + key + " must be a positive number, not " + value);
    }

    int size(String key, int fallback) throws ConfigException {
      String value = valueOrNull(key);
      if (value == null) {
        return fallback;
      }
      Matcher m = SIZE.matcher(value.toLowerCase(Locale.ROOT));
      if (m.matches()) {
        long n = Long.parseLong(m.group(1));
        long bytes =
            switch (m.group(2)) {
              case "kib" -> n << 10;
              case "mib" -> n << 20;
              default -> n;
            };
        if (bytes >= 1024 && bytes <= Integer.MAX_VALUE) {
          return (int) bytes;
        }
      }
      throw new ConfigException(
          source
              + ": "
              + key
              + " must be a size of at least 1KiB such as 65536, 64KiB or 4MiB, not "
              + value);
    }

    Duration duration(String key, Duration fallback) throws ConfigException {
      String value = valueOrNull(key);
      if (value == null) {
        return fallback;
      }
      try {
        return NodeConfig.parseDuration(value);
      } catch (IllegalArgumentException e) {
        throw new ConfigException(source + ": " + key + ": " + e.getMessage());
      }
    }

    Duration positiveDuration(String key, Duration fallback) throws ConfigException {
      Duration d = duration(key, fallback);
      if (d.isZero()) {
        throw new ConfigException(source + ": " + key + " must be positive");
      }
      return d;
    }

    boolean bool(String key, boolean fallback) throws ConfigException {
      String value = valueOrNull(key);
      if (value == null) {
        return fallback;
      }
      return switch (value) {
        case "true" -> true;
        case "false" -> false;
        default ->
            throw new ConfigException(source + ": " + key + " must be true or false, not " + value);
      };
    }
  }
}
