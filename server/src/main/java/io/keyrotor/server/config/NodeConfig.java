package io.keyrotor.server.config;

import io.keyrotor.api.v1.AuthorizationPolicy;
import io.keyrotor.consensus.RatisOverrides;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One node's configuration, read from a Java properties file:
 *
 * <pre>
 * node.id=n1
 * node.region=eu
 * node.zones=default,eu
 * cluster.name=keyrotor
 * data.dir=/var/lib/keyrotor/n1
 * peer.n1.raft=10.0.0.1:7201
 * peer.n1.api=10.0.0.1:7101
 * peer.n2.raft=...                    (one pair per voting member)
 * hsm.kind=software                   (or pkcs11)
 * hsm.software.key-file=/etc/keyrotor/zmk.p12
 * hsm.software.passphrase-file=/etc/keyrotor/zmk.pass   (or hsm.software.passphrase-env=NAME)
 * hsm.pkcs11.module=/usr/lib/softhsm/libsofthsm2.so
 * hsm.pkcs11.token-label=keyrotor-n1
 * hsm.pkcs11.pin-file=...             (or hsm.pkcs11.pin-env=NAME)
 * hsm.mechanisms=AES_KEY_WRAP_PAD,AES_KEY_WRAP,AES_GCM
 * raft.election-timeout-min=600ms     raft.election-timeout-max=1200ms
 * raft.leader-lease=true              raft.snapshot-threshold=20000
 * keys.default-activation-delay=30s  (rotations without a delay of their own or their policy)
 * rotation.minimum-period=1h       rotation.scheduler-interval=250ms
 * keys.destroy-default-wait=30d     keys.destroy-minimum-wait=1d
 * reads.follower=redirect             (default; or read-index: followers serve data-plane reads)
 * kek-cache.max-entries=10000         kek-cache.idle-timeout=15m
 * chaos.enabled=false                 (true only in the chaos suite: serves keyrotor.chaos.v1)
 * chaos.test-cluster=false            (must also be true for chaos.enabled: this is a test cluster)
 * access.bootstrap-admins=admin       (principals made administrators when the cluster has no
 *                                      authorisation policy yet; the first bootstrap applied wins)
 * access.bootstrap-role.NAME=READ_KEYS,ENCRYPT,DECRYPT   (more roles of the bootstrap policy)
 * access.bootstrap-binding.PRINCIPAL=NAME                (binds a bootstrap role to a principal)
 * tls.certificate=tls/n1.pem          the node's certificate (PEM; server and client identity)
 * tls.private-key=tls/n1-key.pem      its PKCS#8 PEM key
 * tls.ca=tls/ca.pem                   the CA certificates callers and peers must be issued by
 * tls.reload-interval=10s             how often changed files are picked up (no restart)
 * tls.expiry-warning=30d              status warns when the certificate expires within this
 * tls.insecure=true                   (instead of the three files: plaintext, every peer address
 *                                      loopback only; for throwaway local experiments)
 * limits.keys-per-cluster=100000      (and the other limits.* lines: what callers may grow; see
 *                                      LimitSettings and the README's "Limits")
 * clock.max-offset=500ms              (a leader whose clock is further than this from a majority
 *                                      of the members' clocks stamps no command)
 * clock.probe-interval=1s             clock.sample-max-age=10s   (measuring the peers' clocks)
 * ratis.KEY=VALUE                     (sets Ratis property KEY last; for tuning experiments only;
 *                                      a value Ratis cannot read is refused)
 * limits.watchers-per-node=256        limits.watchers-per-principal=16
 * limits.watcher-max-lag=10000        (log entries a watcher that stopped reading may fall behind)
 * grpc.max-concurrent-calls-per-connection=1000
 * grpc.max-inbound-message-size=4MiB  grpc.max-inbound-metadata-size=8KiB
 * grpc.keepalive-time=1m              grpc.keepalive-timeout=20s
 * grpc.keepalive-permit-time=10s      grpc.keepalive-permit-without-calls=true
 * grpc.max-connection-idle=30m        grpc.max-connection-age=0s (no limit)
 * grpc.max-connection-age-grace=5m
 * hsm.queue-capacity=256              (data-plane HSM tasks waiting; see {@link FlowSettings})
 * storage.key-cache-bytes=64m         (key records cached over RocksDB; see {@link StorageSettings})
 * destroy.scrub-within=5m             (a destroyed version's wrapped KEK leaves every file of the
 *                                      data directory within this; see {@link DestroySettings})
 * http.address=127.0.0.1:7301         (HTTPS: /metrics and the status page; see {@link
 *                                      HttpSettings}; none when absent or with tls.insecure)
 * cluster.join=false                  (true: the node joins a running cluster; see
 *                                      {@link MembershipSettings})
 * upgrade.check-interval=5s           (how often the leader tries to raise the cluster version;
 *                                      see {@link UpgradeSettings})
 * upgrade.max-supported-version=N     (testing upgrades only: act as an older binary)
 * group-commit.enabled=true           (concurrent writes share log entries; max-commands=256,
 *                                      max-bytes=1m, max-in-flight=1: {@link GroupCommitSettings})
 * bind.host=0.0.0.0                  (the IPv4 literal the Raft and API ports listen on instead of
 *                                      this node's peer.* host, which peers keep dialling; for
 *                                      a node whose interface address comes and goes, as in a
 *                                      container; loopback only with tls.insecure)
 * tracing.otlp.endpoint=http://127.0.0.1:4318   (OpenTelemetry spans over OTLP/HTTP; also
 *                                      tracing.log, tracing.enabled, tracing.sample-ratio: {@link
 *                                      TracingSettings}; off when none is set)
 * </pre>
 *
 * Secrets (passphrase, PIN) are never in this file: it names the file or environment variable that
 * holds them. Relative paths resolve against the file's directory.
 *
 * <p>Each concern reads and checks its own lines in its own settings class ({@link TlsSettings},
 * {@link HsmSettings}, {@link AccessSettings}, {@link DataPlaneSettings}, {@link RotationSettings},
 * {@link LimitSettings}, ...); this record reads the node's identity, its peers and Raft's
 * settings, and composes the rest.
 */
public record NodeConfig(
    String nodeId,
    String region,
    Set<String> zones,
    String clusterName,
    Path dataDirectory,
    SortedMap<String, Peer> peers,
    HsmSettings hsm,
    Duration electionTimeoutMin,
    Duration electionTimeoutMax,
    boolean leaderLease,
    long snapshotThreshold,
    Duration defaultActivationDelay,
    boolean chaosMode,
    boolean chaosTestCluster,
    AccessSettings access,
    DataPlaneSettings dataPlane,
    RotationSettings rotation,
    SortedMap<String, String> ratisOverrides,
    TlsSettings tls,
    LimitSettings limits,
    FlowSettings flow,
    ClockSettings clock,
    UsageSettings usage,
    StorageSettings storage,
    DataAuditSettings dataAudit,
    DestroySettings destroy,
    HttpSettings http,
    ComplianceSettings compliance,
    AuditSettings audit,
    MembershipSettings membership,
    UpgradeSettings upgrade,
    GroupCommitSettings groupCommit,
    TracingSettings tracing,
    Optional<String> bindHost) {

  /** A voting member: where its Raft server and its gRPC API listen. */
  public record Peer(String id, String raftAddress, String apiAddress) {}

  /**
   * Node settings passed to Ratis after keyrotor's own: {@code ratis.<key>}; a value Ratis cannot
   * read is refused here.
   */
  static final String RATIS_PREFIX = "ratis.";

  private static final Pattern PEER_KEY = Pattern.compile("peer\\.([A-Za-z0-9_-]+)\\.(raft|api)");

  /** {@code bind.host}: a dotted-quad IPv4 literal. */
  private static final Pattern IPV4 =
      Pattern.compile(
          "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");

  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h|d)");

  /** The gRPC API address of this node. */
  public String apiAddress() {
    return peers.get(nodeId).apiAddress();
  }

  /**
   * Where the gRPC API listens: {@code bind.host} at this node's API port, or its API address when
   * no bind host is set.
   */
  public String apiListenAddress() {
    String own = apiAddress();
    return bindHost.map(h -> h + own.substring(own.lastIndexOf(':'))).orElse(own);
  }

  /** Raft addresses by node id. */
  public Map<String, String> raftPeers() {
    SortedMap<String, String> out = new TreeMap<>();
    peers.forEach((id, peer) -> out.put(id, peer.raftAddress()));
    return out;
  }

  /**
   * The policy this node proposes when the cluster has none ({@link
   * AccessSettings#bootstrapPolicy}).
   */
  public AuthorizationPolicy bootstrapPolicy() {
    return access.bootstrapPolicy();
  }

  /** Reads and validates a configuration file. */
  public static NodeConfig load(Path file) throws ConfigException {
    Properties properties = new Properties();
    try (java.io.Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      properties.load(reader);
    } catch (IOException | IllegalArgumentException e) {
      // IllegalArgumentException: Properties.load's word for a malformed unicode escape.
      throw new ConfigException("cannot read node configuration " + file + ": " + e.getMessage());
    }
    Path base = file.toAbsolutePath().getParent();
    return parse(properties, base, file.toString());
  }

  /** Builds a configuration from properties; relative paths resolve against {@code base}. */
  public static NodeConfig parse(Properties p, Path base, String source) throws ConfigException {
    try {
      return parseSettings(p, base, source);
    } catch (InvalidPathException e) {
      // A path setting the file system cannot name (a NUL character, say).
      throw new ConfigException(source + ": not a usable path: " + e.getMessage(), e);
    }
  }

  private static NodeConfig parseSettings(Properties p, Path base, String source)
      throws ConfigException {
    ConfigFields r = new ConfigFields(p, source);
    String nodeId = r.required("node.id");
    SortedMap<String, String[]> raw = new TreeMap<>();
    SortedMap<String, String> ratis = new TreeMap<>();
    for (String key : p.stringPropertyNames()) {
      Matcher m = PEER_KEY.matcher(key);
      if (m.matches()) {
        String[] pair = raw.computeIfAbsent(m.group(1), k -> new String[2]);
        pair["raft".equals(m.group(2)) ? 0 : 1] = p.getProperty(key).trim();
      } else if (key.startsWith(RATIS_PREFIX)) {
        ratis.put(key.substring(RATIS_PREFIX.length()), p.getProperty(key).trim());
      } else if (key.startsWith("peer.")) {
        throw new ConfigException(
            source + ": unknown key " + key + " (expected peer.<id>.raft or peer.<id>.api)");
      }
    }
    try {
      RatisOverrides.check(ratis);
    } catch (RatisOverrides.InvalidOverrideException e) {
      throw new ConfigException(
          source + ": " + RATIS_PREFIX + e.key() + "=" + e.value() + ": " + e.reason(), e);
    }
    SortedMap<String, Peer> peers = new TreeMap<>();
    for (Map.Entry<String, String[]> e : raw.entrySet()) {
      String id = e.getKey();
      if (e.getValue()[0] == null || e.getValue()[1] == null) {
        throw new ConfigException(
            source + ": peer " + id + " needs both peer." + id + ".raft and peer." + id + ".api");
      }
      checkAddress(source, "peer." + id + ".raft", e.getValue()[0]);
      checkAddress(source, "peer." + id + ".api", e.getValue()[1]);
      peers.put(id, new Peer(id, e.getValue()[0], e.getValue()[1]));
    }
    if (!peers.containsKey(nodeId)) {
      throw new ConfigException(
          source + ": node.id " + nodeId + " is not among the peers " + peers.keySet());
    }
    Set<String> zones = new TreeSet<>(r.list("node.zones", "default"));
    HsmSettings hsm = HsmSettings.parse(p, base, source);
    Duration min = r.duration("raft.election-timeout-min", "600ms");
    Duration max = r.duration("raft.election-timeout-max", "1200ms");
    if (max.compareTo(min) <= 0) {
      throw new ConfigException(source + ": raft.election-timeout-max must exceed the min");
    }
    return new NodeConfig(
        nodeId,
        r.optional("node.region", "default"),
        zones,
        r.optional("cluster.name", "keyrotor"),
        base.resolve(r.required("data.dir")),
        peers,
        hsm,
        min,
        max,
        Boolean.parseBoolean(r.optional("raft.leader-lease", "true")),
        r.number("raft.snapshot-threshold", "20000"),
        // Long enough for every serving node to validate a new version before it activates.
        r.duration("keys.default-activation-delay", "30s"),
        Boolean.parseBoolean(r.optional("chaos.enabled", "false")),
        Boolean.parseBoolean(r.optional("chaos.test-cluster", "false")),
        AccessSettings.parse(p, source),
        DataPlaneSettings.parse(p, source),
        RotationSettings.parse(p, source),
        Collections.unmodifiableSortedMap(ratis),
        TlsSettings.parse(p, base, source, peers),
        LimitSettings.parse(p, source),
        FlowSettings.parse(p, source),
        ClockSettings.parse(p, source),
        UsageSettings.parse(p, source),
        StorageSettings.parse(p, source),
        DataAuditSettings.parse(p, base, source, peerAddresses(peers)),
        DestroySettings.parse(p, source),
        HttpSettings.parse(p, source, "true".equals(r.optional("tls.insecure", "false"))),
        ComplianceSettings.parse(p, source, io.keyrotor.server.api.PolicyTemplates.names()),
        AuditSettings.parse(p, source),
        MembershipSettings.parse(p, source),
        UpgradeSettings.parse(p, source),
        GroupCommitSettings.parse(p, source),
        TracingSettings.parse(p, source),
        bindHost(
            r.optional("bind.host", ""), source, "true".equals(r.optional("tls.insecure", ""))));
  }

  /**
   * {@code bind.host}: an IPv4 literal (no name is resolved); with plaintext ({@code tls.insecure})
   * only a loopback address, as for the peer addresses.
   */
  private static Optional<String> bindHost(String value, String source, boolean insecure)
      throws ConfigException {
    if (value.isEmpty()) {
      return Optional.empty();
    }
    if (!IPV4.matcher(value).matches()) {
      throw new ConfigException(
          source + ": bind.host must be an IPv4 literal such as 0.0.0.0, not " + value);
    }
    if (insecure && !value.startsWith("127.")) {
      throw new ConfigException(
          source
              + ": bind.host="
              + value
              + " is refused with tls.insecure=true: plaintext listens on loopback only");
    }
    return Optional.of(value);
  }

  /** Every peer's Raft and API address. */
  static List<String> peerAddresses(SortedMap<String, Peer> peers) {
    List<String> out = new ArrayList<>();
    peers.values().forEach(peer -> out.addAll(List.of(peer.raftAddress(), peer.apiAddress())));
    return out;
  }

  /** Parses "500ms", "30s", "5m", "2h", "90d" (and sums like "1h30m"). */
  public static Duration parseDuration(String text) {
    Matcher m = DURATION.matcher(text.trim());
    Duration total = Duration.ZERO;
    int end = 0;
    while (m.find()) {
      if (m.start() != end) {
        throw new IllegalArgumentException("not a duration: " + text);
      }
      long n = Long.parseLong(m.group(1));
      try {
        total =
            total.plus(
                switch (m.group(2)) {
                  case "ms" -> Duration.ofMillis(n);
                  case "s" -> Duration.ofSeconds(n);
                  case "m" -> Duration.ofMinutes(n);
                  case "h" -> Duration.ofHours(n);
                  default -> Duration.ofDays(n);
                });
      } catch (ArithmeticException e) {
        throw new IllegalArgumentException("not a duration: \"" + text + "\" is too long", e);
      }
      end = m.end();
    }
    if (end == 0 || end != text.trim().length()) {
      throw new IllegalArgumentException(
          "not a duration: \"" + text + "\" (use e.g. 500ms, 30s, 5m, 2h, 90d)");
    }
    return total;
  }

  private static void checkAddress(String source, String key, String address)
      throws ConfigException {
    int colon = address.lastIndexOf(':');
    try {
      int port = Integer.parseInt(address.substring(colon + 1));
      if (colon <= 0 || port < 1 || port > 65535) {
        throw new NumberFormatException();
      }
    } catch (NumberFormatException e) {
      throw new ConfigException(source + ": " + key + " must be host:port, not " + address);
    }
  }
}
