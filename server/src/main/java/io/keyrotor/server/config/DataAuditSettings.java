package io.keyrotor.server.config;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.Properties;

/**
 * The per-node data audit stream and the audit sinks (server/README.md, "Data audit").
 *
 * @param failClosed {@code audit.data.failure-mode=closed} (the default): a call whose record
 *     cannot be written (the log fails, or its queue is full) fails UNAVAILABLE AUDIT_UNAVAILABLE
 *     and returns no result; {@code open}: the call is answered and the record counted as dropped
 * @param directoryOrNull {@code audit.data.directory}: where the log file lives; null for {@code
 *     <data directory>/data-audit}
 * @param queueCapacity {@code audit.data.queue-capacity}: most records waiting for the writer
 * @param headInterval {@code audit.data.head-interval}: how often the node proposes its stream's
 *     head into the replicated audit chain (only when it moved)
 * @param sinkFileOrNull {@code audit.sink.file}: a JSON Lines file both audit streams are appended
 *     to as they happen; null for none
 * @param syslogOrNull {@code audit.sink.syslog}: a loopback {@code host:port} that receives both
 *     streams as RFC 5424 messages over UDP; null for none
 * @param enabled {@code audit.data.enabled} (default true): false writes no data audit record, for
 *     benchmarks only (the audit on/off arm of {@code scripts/bench --scenarios audit}); refused
 *     unless every peer address (Raft and API) is loopback, so a cluster serving other machines
 *     always audits its data plane
 * @param preallocateBytes {@code audit.data.preallocate-bytes} (default 64 MiB; 0 for none): the
 *     log file is extended with zeros in chunks of this size ahead of its records, so a sync writes
 *     the records and not also the file's size
 * @param syncThreads {@code audit.data.sync-threads} (default 2, at most {@value
 *     #MAX_SYNC_THREADS}): how many syncs of the log may run at once; the writer never waits for
 *     one
 */
public record DataAuditSettings(
    boolean failClosed,
    Path directoryOrNull,
    int queueCapacity,
    Duration headInterval,
    Path sinkFileOrNull,
    InetSocketAddress syslogOrNull,
    boolean enabled,
    long preallocateBytes,
    int syncThreads) {

  /** Most records the queue may be configured to hold. */
  public static final int MAX_QUEUE_CAPACITY = 1_000_000;

  /** The preallocation chunk when none is set: 64 MiB. */
  public static final long DEFAULT_PREALLOCATE_BYTES = 64L << 20;

  /** The largest preallocation chunk: 1 GiB. */
  public static final long MAX_PREALLOCATE_BYTES = 1L << 30;

  /** Most syncs of the log running at once. */
  public static final int MAX_SYNC_THREADS = 4;

  public static DataAuditSettings defaults() {
    return new DataAuditSettings(
        true, null, 10_000, Duration.ofSeconds(10), null, null, true, DEFAULT_PREALLOCATE_BYTES, 2);
  }

  /** The log's directory for a node whose data directory is {@code dataDirectory}. */
  public Path directory(Path dataDirectory) {
    return directoryOrNull != null ? directoryOrNull : dataDirectory.resolve("data-audit");
  }

  public Optional<Path> sinkFile() {
    return Optional.ofNullable(sinkFileOrNull);
  }

  public Optional<InetSocketAddress> syslog() {
    return Optional.ofNullable(syslogOrNull);
  }

  /**
   * The {@code audit.data.*} and {@code audit.sink.*} lines of {@code p}; paths against base.
   *
   * @param peerAddresses every peer's Raft and API address: {@code audit.data.enabled=false} is
   *     refused unless all are loopback
   */
  static DataAuditSettings parse(
      Properties p, Path base, String source, java.util.Collection<String> peerAddresses)
      throws ConfigException {
    boolean enabled = enabled(p, source, peerAddresses);
    String mode =
        p.getProperty("audit.data.failure-mode", "closed").trim().toLowerCase(Locale.ROOT);
    if (!mode.equals("closed") && !mode.equals("open")) {
      throw new ConfigException(
          source + ": audit.data.failure-mode must be closed or open, not \"" + mode + "\"");
    }
    int capacity = number(p, source, "audit.data.queue-capacity", 10_000, MAX_QUEUE_CAPACITY);
    Duration headInterval = ClockSettings.duration(p, source, "audit.data.head-interval", "10s");
    if (headInterval.isZero() || headInterval.isNegative()) {
      throw new ConfigException(source + ": audit.data.head-interval must be positive");
    }
    String preallocateText = p.getProperty("audit.data.preallocate-bytes", "64m").trim();
    long preallocate = StorageSettings.bytes(preallocateText);
    if (preallocate < 0 || preallocate > MAX_PREALLOCATE_BYTES) {
      throw new ConfigException(
          source
              + ": audit.data.preallocate-bytes must be a number of bytes from 0 to 1g (e.g."
              + " 67108864, 64m; 0 for none), got \""
              + preallocateText
              + "\"");
    }
    int syncThreads = number(p, source, "audit.data.sync-threads", 2, MAX_SYNC_THREADS);
    return new DataAuditSettings(
        mode.equals("closed"),
        path(p, base, "audit.data.directory"),
        capacity,
        headInterval,
        path(p, base, "audit.sink.file"),
        syslog(p, source),
        enabled,
        preallocate,
        syncThreads);
  }

  /** {@code key}, a whole number from 1 to {@code max} ({@code fallback} when absent). */
  private static int number(Properties p, String source, String key, int fallback, int max)
      throws ConfigException {
    String text = p.getProperty(key, Integer.toString(fallback)).trim();
    int value;
    try {
      value = Integer.parseInt(text);
    } catch (NumberFormatException e) {
      value = 0;
    }
    if (value < 1 || value > max) {
      throw new ConfigException(source + ": " + key + " must be a number from 1 to " + max);
    }
    return value;
  }

  /**
   * {@code audit.data.enabled}: turning the stream off is for measuring what it costs, on a cluster
   * of one machine. A node whose peers include any address that is not loopback refuses it, so a
   * cluster other machines can reach never answers a data-plane call unaudited.
   */
  private static boolean enabled(
      Properties p, String source, java.util.Collection<String> peerAddresses)
      throws ConfigException {
    String value = p.getProperty("audit.data.enabled", "true").trim().toLowerCase(Locale.ROOT);
    if (!value.equals("true") && !value.equals("false")) {
      throw new ConfigException(source + ": audit.data.enabled must be true or false");
    }
    if (value.equals("true")) {
      return true;
    }
    for (String address : peerAddresses) {
      if (!TlsSettings.isLoopback(address)) {
        throw new ConfigException(
            source
                + ": audit.data.enabled=false is refused because "
                + address
                + " is not a loopback address: the data audit stream may be turned off only"
                + " on a cluster whose every address is 127.0.0.1, ::1 or localhost (for"
                + " benchmarks)");
      }
    }
    return false;
  }

  private static Path path(Properties p, Path base, String key) {
    String value = p.getProperty(key);
    if (value == null || value.isBlank()) {
      return null;
    }
    return base.resolve(value.trim()).normalize();
  }

  /** {@code audit.sink.syslog}: host:port of a loopback address (UDP carries it in the clear). */
  private static InetSocketAddress syslog(Properties p, String source) throws ConfigException {
    String value = p.getProperty("audit.sink.syslog");
    if (value == null || value.isBlank()) {
      return null;
    }
    String text = value.trim();
    int colon = text.lastIndexOf(':');
    int port;
    try {
      port = colon < 1 ? -1 : Integer.parseInt(text.substring(colon + 1));
    } catch (NumberFormatException e) {
      port = -1;
    }
    if (port < 1 || port > 65_535) {
      throw new ConfigException(
          source + ": audit.sink.syslog must be host:port (a loopback address), not " + text);
    }
    String host = text.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    InetAddress address;
    try {
      address = InetAddress.getByName(host);
    } catch (UnknownHostException e) {
      throw new ConfigException(source + ": audit.sink.syslog: unknown host " + host);
    }
    if (!address.isLoopbackAddress()) {
      throw new ConfigException(
          source
              + ": audit.sink.syslog must be a loopback address (syslog over UDP is neither"
              + " encrypted nor acknowledged; relay it from a local agent), not "
              + host);
    }
    return new InetSocketAddress(address, port);
  }
}
