package io.keyrotor.server.config;

import com.google.common.base.Splitter;
import io.keyrotor.api.v1.AuthorizationPolicy;
import io.keyrotor.api.v1.Binding;
import io.keyrotor.api.v1.Permission;
import io.keyrotor.api.v1.Role;
import io.keyrotor.consensus.RatisOverrides;
import io.keyrotor.hsm.HsmConfig;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.SecretSources;
import io.keyrotor.hsm.WrapMechanism;
import io.keyrotor.server.dataplane.KekCache;
import io.keyrotor.server.dataplane.ReadGate;
import io.keyrotor.storage.access.PolicyRules;
import io.keyrotor.tls.TlsFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
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
 * tracing.otlp.endpoint=http://127.0.0.1:4318   (OpenTelemetry spans over OTLP/HTTP; also
 *                                      tracing.log, tracing.enabled, tracing.sample-ratio: {@link
 *                                      TracingSettings}; off when none is set)
 * </pre>
 *
 * Secrets (passphrase, PIN) are never in this file: it names the file or environment variable that
 * holds them. Relative paths resolve against the file's directory.
 *
 * <p>Over 600 lines because it is the one place that reads and checks every setting of the file
 * above, each with the message that names it; the settings of one concern are grouped in a nested
 * record ({@link TlsSettings}, {@link DataPlaneSettings}, {@link RotationSettings}, ...).
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
    AuthorizationPolicy bootstrapPolicy,
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
    TracingSettings tracing) {

  /**
   * Transport security of the node's API and Raft ports.
   *
   * @param files the node's certificate, key and trusted CA certificates ({@code tls.certificate},
   *     {@code tls.private-key}, {@code tls.ca}); empty only when {@code insecure}
   * @param insecure plaintext on loopback addresses only ({@code tls.insecure=true})
   * @param reloadInterval how often a handshake looks for changed files ({@code
   *     tls.reload-interval})
   * @param expiryWarning status warns when the certificate expires within this ({@code
   *     tls.expiry-warning})
   */
  public record TlsSettings(
      Optional<TlsFiles> files, boolean insecure, Duration reloadInterval, Duration expiryWarning) {
    public TlsSettings {
      if (files.isPresent() == insecure) {
        throw new IllegalArgumentException("either TLS files or insecure, exactly one");
      }
    }

    /** Mutual TLS with {@code files}, the default intervals. */
    public static TlsSettings mutual(TlsFiles files) {
      return new TlsSettings(
          Optional.of(files), false, DEFAULT_RELOAD_INTERVAL, DEFAULT_EXPIRY_WARNING);
    }

    /** Plaintext (loopback only). */
    public static TlsSettings plaintext() {
      return new TlsSettings(
          Optional.empty(), true, DEFAULT_RELOAD_INTERVAL, DEFAULT_EXPIRY_WARNING);
    }
  }

  /** How often changed TLS files are looked for, unless {@code tls.reload-interval} says. */
  public static final Duration DEFAULT_RELOAD_INTERVAL = Duration.ofSeconds(10);

  /** How long before expiry status warns, unless {@code tls.expiry-warning} says. */
  public static final Duration DEFAULT_EXPIRY_WARNING = Duration.ofDays(30);

  /** A voting member: where its Raft server and its gRPC API listen. */
  public record Peer(String id, String raftAddress, String apiAddress) {}

  /**
   * How the node serves the data plane.
   *
   * @param followerReads what a follower does with a data-plane call ({@code reads.follower})
   * @param kekCacheMaxEntries most unwrapped key-encryption keys held ({@code
   *     kek-cache.max-entries})
   * @param kekCacheIdleTimeout how long an unused one stays ({@code kek-cache.idle-timeout})
   */
  public record DataPlaneSettings(
      ReadGate.FollowerReads followerReads, long kekCacheMaxEntries, Duration kekCacheIdleTimeout) {

    /**
     * The defaults: followers redirect data-plane calls to the leader (measured faster than
     * ReadIndex: see server/README.md, "Data plane"), 10,000 keys, 15 minutes idle.
     */
    public static DataPlaneSettings defaults() {
      return new DataPlaneSettings(
          ReadGate.FollowerReads.REDIRECT,
          KekCache.DEFAULT_MAX_ENTRIES,
          KekCache.DEFAULT_IDLE_TIMEOUT);
    }
  }

  /**
   * How the node's rotation engine runs.
   *
   * @param schedulerInterval how often the scheduler and validator look for work ({@code
   *     rotation.scheduler-interval})
   * @param minimumPeriod the shortest rotation period a policy may ask for ({@code
   *     rotation.minimum-period}); a guard for production clusters
   * @param destroyDefaultWait the waiting period of a destroy that names none ({@code
   *     keys.destroy-default-wait})
   * @param destroyMinimumWait the shortest waiting period a destroy may ask for ({@code
   *     keys.destroy-minimum-wait})
   */
  public record RotationSettings(
      Duration schedulerInterval,
      Duration minimumPeriod,
      Duration destroyDefaultWait,
      Duration destroyMinimumWait) {
    public static RotationSettings defaults() {
      return new RotationSettings(
          Duration.ofMillis(250), Duration.ofHours(1), Duration.ofDays(30), Duration.ofDays(1));
    }
  }

  /** Which HSM the node opens, and where its secret comes from. */
  public record HsmSettings(
      String kind,
      Path softwareKeyFile,
      Path pkcs11Module,
      String tokenLabel,
      SecretSource secret,
      List<WrapMechanism> mechanisms) {

    /** Reads the secret and builds the HSM configuration. */
    public HsmConfig toHsmConfig() throws ConfigException {
      char[] value = secret.read();
      if ("software".equals(kind)) {
        return new HsmConfig.Software(softwareKeyFile, value, mechanisms);
      }
      return new HsmConfig.Pkcs11(
          pkcs11Module,
          tokenLabel,
          value,
          mechanisms,
          HsmConfig.Pkcs11.DEFAULT_MAX_SESSIONS,
          HsmConfig.Pkcs11.DEFAULT_SESSION_WAIT);
    }

    /** A human description for status pages (no secrets). */
    public String describe() {
      return "software".equals(kind)
          ? "software key file " + softwareKeyFile
          : "pkcs11 " + pkcs11Module + " token " + tokenLabel;
    }
  }

  /** A secret read from a file or an environment variable, never stored in the config itself. */
  public record SecretSource(
      String description, Path fileOrNull, String environmentVariableOrNull) {
    char[] read() throws ConfigException {
      try {
        return fileOrNull != null
            ? SecretSources.fromFile(fileOrNull)
            : SecretSources.fromEnvironment(environmentVariableOrNull);
      } catch (HsmException e) {
        throw new ConfigException(description + ": " + e.getMessage(), e);
      }
    }
  }

  /**
   * Node settings passed to Ratis after keyrotor's own: {@code ratis.<key>}; a value Ratis cannot
   * read is refused here.
   */
  static final String RATIS_PREFIX = "ratis.";

  private static final Pattern PEER_KEY = Pattern.compile("peer\\.([A-Za-z0-9_-]+)\\.(raft|api)");
  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h|d)");

  /** The gRPC API address of this node. */
  public String apiAddress() {
    return peers.get(nodeId).apiAddress();
  }

  /** Raft addresses by node id. */
  public Map<String, String> raftPeers() {
    SortedMap<String, String> out = new TreeMap<>();
    peers.forEach((id, peer) -> out.put(id, peer.raftAddress()));
    return out;
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
    Fields r = new Fields(p, source);
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
    String kind = r.optional("hsm.kind", "software");
    List<WrapMechanism> mechanisms = new ArrayList<>();
    for (String name : r.list("hsm.mechanisms", "AES_KEY_WRAP_PAD,AES_KEY_WRAP,AES_GCM")) {
      try {
        mechanisms.add(WrapMechanism.valueOf(name));
      } catch (IllegalArgumentException e) {
        throw new ConfigException(
            source
                + ": hsm.mechanisms: unknown mechanism "
                + name
                + " (known: "
                + Arrays.toString(WrapMechanism.values())
                + ")");
      }
    }
    HsmSettings hsm;
    switch (kind) {
      case "software" ->
          hsm =
              new HsmSettings(
                  kind,
                  base.resolve(r.required("hsm.software.key-file")),
                  null,
                  "",
                  r.secret("hsm.software.passphrase", "software HSM passphrase", base),
                  mechanisms);
      case "pkcs11" ->
          hsm =
              new HsmSettings(
                  kind,
                  null,
                  Path.of(r.required("hsm.pkcs11.module")),
                  r.required("hsm.pkcs11.token-label"),
                  r.secret("hsm.pkcs11.pin", "HSM user PIN", base),
                  mechanisms);
      default ->
          throw new ConfigException(source + ": hsm.kind must be software or pkcs11, not " + kind);
    }
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
        bootstrapPolicy(p, r, source),
        dataPlane(r, source),
        new RotationSettings(
            r.duration("rotation.scheduler-interval", "250ms"),
            r.duration("rotation.minimum-period", "1h"),
            r.duration("keys.destroy-default-wait", "30d"),
            r.duration("keys.destroy-minimum-wait", "1d")),
        Collections.unmodifiableSortedMap(ratis),
        tls(r, base, source, peers),
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
        TracingSettings.parse(p, source));
  }

  private static final List<String> TLS_FILE_KEYS =
      List.of("tls.certificate", "tls.private-key", "tls.ca");

  private static TlsSettings tls(Fields r, Path base, String source, SortedMap<String, Peer> peers)
      throws ConfigException {
    Duration reload = r.duration("tls.reload-interval", "10s");
    if (reload.isZero()) {
      throw new ConfigException(source + ": tls.reload-interval must be positive");
    }
    Duration warning = r.duration("tls.expiry-warning", "30d");
    String insecureValue = r.optional("tls.insecure", "false");
    if (!insecureValue.equals("true") && !insecureValue.equals("false")) {
      throw new ConfigException(source + ": tls.insecure must be true or false");
    }
    boolean insecure = insecureValue.equals("true");
    List<String> given = new ArrayList<>();
    List<String> missing = new ArrayList<>();
    for (String key : TLS_FILE_KEYS) {
      (r.optional(key, "").isEmpty() ? missing : given).add(key);
    }
    if (insecure) {
      if (!given.isEmpty()) {
        throw new ConfigException(
            source + ": tls.insecure=true and " + given + " contradict each other; remove one");
      }
      for (Peer peer : peers.values()) {
        for (String address : List.of(peer.raftAddress(), peer.apiAddress())) {
          if (!isLoopback(address)) {
            throw new ConfigException(
                source
                    + ": tls.insecure=true is refused because "
                    + address
                    + " (peer "
                    + peer.id()
                    + ") is not a loopback address: plaintext is allowed only when every"
                    + " address is 127.0.0.1, ::1 or localhost; configure tls.certificate,"
                    + " tls.private-key and tls.ca instead");
          }
        }
      }
      return new TlsSettings(Optional.empty(), true, reload, warning);
    }
    if (given.isEmpty()) {
      throw new ConfigException(
          source
              + ": no transport security configured: set tls.certificate, tls.private-key and"
              + " tls.ca (PEM files of the node's certificate, its key and the CA that issues"
              + " callers' and peers' certificates), or tls.insecure=true for plaintext on"
              + " loopback addresses only");
    }
    if (!missing.isEmpty()) {
      throw new ConfigException(
          source + ": " + given + " set but " + missing + " missing: mutual TLS needs all three");
    }
    return new TlsSettings(
        Optional.of(
            new TlsFiles(
                base.resolve(r.required("tls.certificate")).normalize(),
                base.resolve(r.required("tls.private-key")).normalize(),
                base.resolve(r.required("tls.ca")).normalize())),
        false,
        reload,
        warning);
  }

  /** Every peer's Raft and API address. */
  static List<String> peerAddresses(SortedMap<String, Peer> peers) {
    List<String> out = new ArrayList<>();
    peers.values().forEach(peer -> out.addAll(List.of(peer.raftAddress(), peer.apiAddress())));
    return out;
  }

  /** True for 127.0.0.0/8, ::1 and localhost (literal addresses; no name is resolved). */
  static boolean isLoopback(String address) {
    String host = address.substring(0, address.lastIndexOf(':'));
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    if (host.equalsIgnoreCase("localhost")) {
      return true;
    }
    if (host.matches("127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}")) {
      return true;
    }
    return host.equals("::1") || host.equals("0:0:0:0:0:0:0:1");
  }

  static final String BOOTSTRAP_ROLE_PREFIX = "access.bootstrap-role.";
  static final String BOOTSTRAP_BINDING_PREFIX = "access.bootstrap-binding.";

  /**
   * The policy this node proposes when the cluster has none: {@code access.bootstrap-admins} as
   * administrators, plus the configured roles and bindings; the empty policy when no administrator
   * is configured (the node then proposes none).
   */
  private static AuthorizationPolicy bootstrapPolicy(Properties p, Fields r, String source)
      throws ConfigException {
    List<String> admins = r.list("access.bootstrap-admins", "");
    SortedMap<String, String> roles = new TreeMap<>();
    SortedMap<String, String> bindings = new TreeMap<>();
    for (String key : p.stringPropertyNames()) {
      if (key.startsWith(BOOTSTRAP_ROLE_PREFIX)) {
        roles.put(key.substring(BOOTSTRAP_ROLE_PREFIX.length()), p.getProperty(key).trim());
      } else if (key.startsWith(BOOTSTRAP_BINDING_PREFIX)) {
        bindings.put(key.substring(BOOTSTRAP_BINDING_PREFIX.length()), p.getProperty(key).trim());
      } else if (key.startsWith("access.") && !key.equals("access.bootstrap-admins")) {
        throw new ConfigException(source + ": unknown key " + key);
      }
    }
    if (admins.isEmpty()) {
      if (!roles.isEmpty() || !bindings.isEmpty()) {
        throw new ConfigException(
            source + ": access.bootstrap-role and -binding need access.bootstrap-admins");
      }
      return AuthorizationPolicy.getDefaultInstance();
    }
    AuthorizationPolicy.Builder policy = PolicyRules.bootstrap(admins).toBuilder();
    for (Map.Entry<String, String> role : roles.entrySet()) {
      Role.Builder built = Role.newBuilder().setName(role.getKey());
      for (String name : Splitter.on(',').trimResults().omitEmptyStrings().split(role.getValue())) {
        String permission = "PERMISSION_" + name.trim().toUpperCase(Locale.ROOT);
        var value = Permission.getDescriptor().findValueByName(permission);
        if (value == null || value.getNumber() == 0) {
          throw new ConfigException(
              source
                  + ": "
                  + BOOTSTRAP_ROLE_PREFIX
                  + role.getKey()
                  + ": unknown permission "
                  + name);
        }
        built.addPermissions(Permission.forNumber(value.getNumber()));
      }
      policy.addRoles(built);
    }
    for (Map.Entry<String, String> binding : bindings.entrySet()) {
      policy.addBindings(
          Binding.newBuilder()
              .setName("bootstrap-" + binding.getKey())
              .setRole(binding.getValue())
              .setPrincipal(binding.getKey()));
    }
    AuthorizationPolicy built = policy.build();
    Optional<String> problem = PolicyRules.problem(built);
    if (problem.isPresent()) {
      throw new ConfigException(source + ": the bootstrap policy: " + problem.get());
    }
    return built;
  }

  private static DataPlaneSettings dataPlane(Fields r, String source) throws ConfigException {
    DataPlaneSettings defaults = DataPlaneSettings.defaults();
    String mode = r.optional("reads.follower", defaults.followerReads().configName());
    ReadGate.FollowerReads followerReads =
        ReadGate.FollowerReads.fromConfigName(mode)
            .orElseThrow(
                () ->
                    new ConfigException(
                        source + ": reads.follower must be read-index or redirect, not " + mode));
    long maxEntries;
    try {
      maxEntries =
          Long.parseLong(
              r.optional("kek-cache.max-entries", Long.toString(defaults.kekCacheMaxEntries())));
    } catch (NumberFormatException e) {
      maxEntries = 0;
    }
    if (maxEntries < 1) {
      throw new ConfigException(source + ": kek-cache.max-entries must be a positive number");
    }
    Duration idle = r.duration("kek-cache.idle-timeout", "15m");
    if (idle.isZero()) {
      throw new ConfigException(source + ": kek-cache.idle-timeout must be positive");
    }
    return new DataPlaneSettings(followerReads, maxEntries, idle);
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

  private record Fields(Properties p, String source) {
    String required(String key) throws ConfigException {
      String value = p.getProperty(key);
      if (value == null || value.isBlank()) {
        throw new ConfigException(source + ": " + key + " is required");
      }
      return value.trim();
    }

    long number(String key, String fallback) throws ConfigException {
      String value = optional(key, fallback);
      try {
        return Long.parseLong(value);
      } catch (NumberFormatException e) {
        throw new ConfigException(source + ": " + key + " must be a whole number, not " + value);
      }
    }

    String optional(String key, String fallback) {
      String value = p.getProperty(key);
      return value == null || value.isBlank() ? fallback : value.trim();
    }

    List<String> list(String key, String fallback) {
      return new ArrayList<>(
          Splitter.on(',').trimResults().omitEmptyStrings().splitToList(optional(key, fallback)));
    }

    Duration duration(String key, String fallback) throws ConfigException {
      try {
        return parseDuration(optional(key, fallback));
      } catch (IllegalArgumentException e) {
        throw new ConfigException(source + ": " + key + ": " + e.getMessage());
      }
    }

    SecretSource secret(String prefix, String description, Path base) throws ConfigException {
      String file = p.getProperty(prefix + "-file");
      String env = p.getProperty(prefix + "-env");
      if ((file == null) == (env == null)) {
        throw new ConfigException(
            source + ": set exactly one of " + prefix + "-file and " + prefix + "-env");
      }
      return new SecretSource(
          description,
          file == null ? null : base.resolve(file.trim()),
          env == null ? null : env.trim());
    }
  }
}
