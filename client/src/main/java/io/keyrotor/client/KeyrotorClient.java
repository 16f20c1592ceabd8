package io.keyrotor.client;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannelBuilder;
import io.keyrotor.api.v1.WatchKeyEventsRequest;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

/**
 * The keyrotor Java SDK: typed calls for every {@code KeyService} and {@code AdminService} RPC
 * against a cluster given as a list of {@code host:port} endpoints.
 *
 * <p>What every call does for you:
 *
 * <ul>
 *   <li><b>Leader following.</b> Calls go to the leader when the client knows it (learned from a
 *       {@code NOT_LEADER} hint or from cluster status), otherwise to the endpoint that last
 *       answered. Followers forward writes and serve linearizable reads themselves, so this only
 *       saves a hop; a {@code NOT_LEADER} answer is followed at once.
 *   <li><b>Retries.</b> {@code UNAVAILABLE} (connection refused, no leader, not leader), and a
 *       timed-out attempt ({@code DEADLINE_EXCEEDED}), are retried on the next endpoint, with
 *       exponential backoff and full jitter once every endpoint has failed in a round, all under
 *       one overall deadline per call. Every other status is final and thrown at once as a {@link
 *       KeyrotorException}.
 *   <li><b>Writes apply once.</b> Each write (create, rotate, disable, enable, schedule/cancel
 *       destroy, set policy, cancel/roll back a rotation, set floors, set dependents, start a bulk
 *       rotation) gets a fresh request id per logical call, reused on every retry; the server
 *       applies a request id once and answers a repeat with the first outcome. A request that
 *       already carries a {@code request_id} keeps it, so a caller can make a write idempotent
 *       across process restarts.
 * </ul>
 *
 * <p><b>Transport security.</b> TLS 1.3 with hostname verification, and mutual TLS when the client
 * has a certificate: {@link Builder#trustedCertificates}, {@link Builder#clientCertificate}
 * (reloaded when the files change), or {@link Builder#clusterDirectory} for a development cluster.
 * Plaintext only with {@link Builder#insecurePlaintext()}, and only to loopback addresses. A
 * builder with none of these fails {@link Builder#build()}. Leader hints are followed only to the
 * cluster's own addresses.
 *
 * <p>Thread-safe; share one client per cluster and {@link #close()} it when done. Channels are
 * created lazily, one per endpoint.
 */
public final class KeyrotorClient extends AdminServiceCalls implements AutoCloseable {

  private final EndpointPool pool;
  private final Backoff backoff;
  private final Sleeper sleeper;
  private final ClientTls tls;
  private final AuditCalls audit;
  private final BackupCalls backup;

  private KeyrotorClient(
      CallRunner calls,
      EndpointPool pool,
      LeaderDiscovery discovery,
      Backoff backoff,
      Sleeper sleeper,
      ClientTls tls) {
    super(calls, pool, discovery);
    this.pool = pool;
    this.backoff = backoff;
    this.sleeper = sleeper;
    this.tls = tls;
    this.audit = new AuditCalls(calls);
    this.backup = new BackupCalls(calls);
  }

  private static KeyrotorClient create(Builder builder) {
    ClientTls tls = null;
    ChannelCredentials credentials;
    Predicate<String> mayList = address -> true;
    if (builder.insecurePlaintext) {
      credentials = InsecureChannelCredentials.create();
      // Nothing authenticates a plaintext answer: it may list loopback addresses only.
      mayList = Endpoints::isLoopback;
    } else if (builder.trustedCertificates != null) {
      tls =
          ClientTls.open(
              builder.trustedCertificates,
              builder.certificate,
              builder.privateKey,
              builder.credentialsRefresh);
      credentials = tls.credentials();
    } else {
      credentials = builder.credentials;
    }
    ChannelCredentials channelCredentials = credentials;
    Consumer<ManagedChannelBuilder<?>> configurator = builder.channelConfigurator;
    ClientTracing tracing =
        builder.openTelemetry == null ? null : new ClientTracing(builder.openTelemetry);
    EndpointPool pool =
        new EndpointPool(
            builder.endpoints,
            target -> {
              ManagedChannelBuilder<?> channel = Grpc.newChannelBuilder(target, channelCredentials);
              if (tracing != null) {
                channel.intercept(tracing);
              }
              configurator.accept(channel);
              return channel.build();
            },
            mayList);
    Duration attemptTimeout =
        builder.attemptTimeout.compareTo(builder.deadline) > 0
            ? builder.deadline
            : builder.attemptTimeout;
    Backoff backoff = new Backoff(builder.initialBackoff, builder.maxBackoff, builder.random);
    LeaderDiscovery discovery =
        new LeaderDiscovery(pool, builder.clock, attemptTimeout, builder.leaderDiscovery);
    CallRunner calls =
        new CallRunner(
            pool,
            discovery,
            builder.deadline,
            attemptTimeout,
            backoff,
            builder.clock,
            builder.sleeper,
            builder.requestIds,
            builder.hedgeReadsAfter.isZero() ? null : new HedgedReads(builder.hedgeReadsAfter));
    return new KeyrotorClient(calls, pool, discovery, backoff, builder.sleeper, tls);
  }

  /** A builder; {@link Builder#endpoints(List)} is required. */
  public static Builder builder() {
    return new Builder();
  }

  // ---------------------------------------------------------------------------------------------
  // KeyService: the unary calls are inherited from KeyServiceCalls; the event stream

  /**
   * Subscribes to key lifecycle events. Events arrive on a dedicated daemon thread, in log order.
   * On a retryable failure (the node went away, leadership moved) the subscription reconnects, with
   * backoff, to another endpoint and resumes after the last event delivered; a final error ends it
   * and is passed to {@link KeyEventListener#onError}. The per-call deadline does not apply: a
   * subscription lasts until {@link KeyEventSubscription#close()}.
   */
  public KeyEventSubscription watchKeyEvents(
      WatchKeyEventsRequest request, KeyEventListener listener) {
    if (pool.isClosed()) {
      throw new IllegalStateException("keyrotor client is closed");
    }
    KeyEventSubscription subscription =
        new KeyEventSubscription(request, listener, pool, backoff, sleeper);
    subscription.start();
    return subscription;
  }

  // ---------------------------------------------------------------------------------------------
  // AuditService (PERMISSION_READ_AUDIT; RotateAuditKey: ADMINISTER)

  /** Backups of the replicated state (BackupService, PERMISSION_ADMINISTER). */
  public BackupCalls backup() {
    return backup;
  }

  /** The auditor's calls: the audit trail (export, keys, checkpoints) and the compliance report. */
  public AuditCalls audit() {
    return audit;
  }

  // ---------------------------------------------------------------------------------------------

  /** The configured endpoints, in order. */
  public List<String> endpoints() {
    return pool.configured();
  }

  /** The leader's API address as the client last learned it, if it knows one. */
  public java.util.Optional<String> knownLeader() {
    return java.util.Optional.ofNullable(pool.leaderOrNull());
  }

  /** The overall deadline of each call. */
  public Duration deadline() {
    return calls.deadline();
  }

  /**
   * How many {@code NOT_LEADER} hints named an address that is not the cluster's (neither a
   * configured endpoint nor listed in a cluster status answer) and were ignored.
   */
  public long ignoredLeaderHints() {
    return pool.ignoredHints();
  }

  /**
   * Why the last changed set of TLS files was not used (a key that is not the certificate's, a file
   * that does not parse), if it was not; the client keeps the material it had.
   */
  public java.util.Optional<String> lastTlsReloadFailure() {
    return java.util.Optional.ofNullable(tls == null ? null : tls.lastReloadFailure());
  }

  /**
   * Makes every channel that is waiting to reconnect after a failure (a node that was down) try
   * again at once instead of after its backoff, so that a long-lived client reaches a restarted
   * node as soon as a new one would. Channels that are connected are not affected.
   */
  public void resetConnectBackoff() {
    pool.resetConnectBackoff();
  }

  /** Shuts every channel down, waiting up to two seconds for calls in flight. */
  @Override
  public void close() {
    if (calls.hedging() != null) {
      calls.hedging().close();
    }
    pool.close();
    if (tls != null) {
      tls.close();
    }
  }

  /** Configures a {@link KeyrotorClient}. */
  public static final class Builder {
    private List<String> endpoints = List.of();
    private Duration deadline = Duration.ofSeconds(15);
    private Duration attemptTimeout = Duration.ofSeconds(5);
    private Duration initialBackoff = Duration.ofMillis(50);
    private Duration maxBackoff = Duration.ofSeconds(2);
    private Clock clock = Clock.systemUTC();
    private Sleeper sleeper = Sleeper.SYSTEM;
    private RandomGenerator random = () -> ThreadLocalRandom.current().nextLong();
    private Supplier<String> requestIds = () -> UUID.randomUUID().toString();
    private ChannelCredentials credentials;
    private Path trustedCertificates;
    private Path certificate;
    private Path privateKey;
    private Duration credentialsRefresh = Duration.ofSeconds(30);
    private boolean insecurePlaintext;
    private Consumer<ManagedChannelBuilder<?>> channelConfigurator = channel -> {};
    private boolean leaderDiscovery = true;
    private Duration hedgeReadsAfter = Duration.ofMillis(250);
    private io.opentelemetry.api.OpenTelemetry openTelemetry;

    private Builder() {}

    /** The cluster's API addresses, {@code host:port} each; at least one. Required. */
    public Builder endpoints(List<String> endpoints) {
      List<String> valid = new ArrayList<>();
      for (String endpoint : endpoints) {
        String address = Endpoints.validate(endpoint);
        if (!valid.contains(address)) {
          valid.add(address);
        }
      }
      this.endpoints = List.copyOf(valid);
      return this;
    }

    /** The cluster's API addresses, {@code host:port} each. */
    public Builder endpoints(String... endpoints) {
      return endpoints(Arrays.asList(endpoints));
    }

    /** The overall deadline of one call, retries and backoff included (default 15 s). */
    public Builder deadline(Duration deadline) {
      this.deadline = positive(deadline, "deadline");
      return this;
    }

    /**
     * The longest one attempt may take before the client tries the next endpoint (default 5 s,
     * never more than the deadline). Bounds the time lost to a node that accepts connections but
     * does not answer.
     */
    public Builder attemptTimeout(Duration attemptTimeout) {
      this.attemptTimeout = positive(attemptTimeout, "attempt timeout");
      return this;
    }

    /**
     * Backoff between retry rounds: full jitter under a ceiling that starts at {@code initial} and
     * doubles up to {@code max} (defaults 50 ms and 2 s).
     */
    public Builder backoff(Duration initial, Duration max) {
      this.initialBackoff = positive(initial, "initial backoff");
      this.maxBackoff = positive(max, "max backoff");
      return this;
    }

    /** The clock that deadlines are measured on (tests: a manual clock). */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** How the client waits between retries (tests: a sleeper that advances a manual clock). */
    public Builder sleeper(Sleeper sleeper) {
      this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
      return this;
    }

    /** The source of backoff jitter (tests: a seeded generator). */
    public Builder random(RandomGenerator random) {
      this.random = Objects.requireNonNull(random, "random");
      return this;
    }

    /** Where request ids for writes come from (default: random UUIDs). */
    public Builder requestIds(Supplier<String> requestIds) {
      this.requestIds = Objects.requireNonNull(requestIds, "requestIds");
      return this;
    }

    /**
     * The CA certificates (one PEM file, one or more certificates) that the servers' certificates
     * must chain to. TLS 1.3 with hostname verification: a server's certificate must name the host
     * of the endpoint as a DNS or IP subject alternative name. Without {@link #clientCertificate}
     * the client presents no certificate.
     */
    public Builder trustedCertificates(Path caCertificates) {
      this.trustedCertificates = Objects.requireNonNull(caCertificates, "caCertificates");
      return this;
    }

    /**
     * The client's own certificate (PEM, the chain leaf first) and its private key (PKCS#8 PEM),
     * for mutual TLS. The files are checked every {@link #credentialsRefresh} interval: a changed
     * pair is used by every later connection once both files load and the key belongs to the
     * certificate (so a certificate written before its key is not used half-way); connections
     * already open keep theirs. Needs {@link #trustedCertificates}.
     */
    public Builder clientCertificate(Path certificate, Path privateKey) {
      this.certificate = Objects.requireNonNull(certificate, "certificate");
      this.privateKey = Objects.requireNonNull(privateKey, "privateKey");
      return this;
    }

    /**
     * The TLS material of a development cluster's directory (as {@code scripts/cluster up} writes
     * it): trusts {@code DIR/tls/ca.pem} and presents {@code DIR/tls/IDENTITY.pem} with {@code
     * DIR/tls/IDENTITY-key.pem} ({@code identity} is {@code admin} or {@code service} there). The
     * endpoints are still given with {@link #endpoints(List)} ({@code DIR/servers} lists them).
     */
    public Builder clusterDirectory(Path directory, String identity) {
      Objects.requireNonNull(directory, "directory");
      Objects.requireNonNull(identity, "identity");
      if (identity.isBlank() || identity.contains("/") || identity.contains("\\")) {
        throw new IllegalArgumentException("invalid identity \"" + identity + "\" (a file name)");
      }
      Path tlsDirectory = directory.resolve("tls");
      trustedCertificates(tlsDirectory.resolve("ca.pem"));
      return clientCertificate(
          tlsDirectory.resolve(identity + ".pem"), tlsDirectory.resolve(identity + "-key.pem"));
    }

    /** How often the TLS files are checked for changes (default 30 s). */
    public Builder credentialsRefresh(Duration interval) {
      this.credentialsRefresh = positive(interval, "credentials refresh");
      return this;
    }

    /**
     * Plaintext, no TLS: for a development cluster started in insecure mode on this machine. Every
     * endpoint must be a loopback address ({@code 127.x.x.x}, {@code [::1]}, {@code localhost});
     * {@link #build()} refuses any other.
     */
    public Builder insecurePlaintext() {
      this.insecurePlaintext = true;
      return this;
    }

    /**
     * Transport security of every channel, made by the caller instead of from files (for example
     * {@code TlsChannelCredentials.newBuilder()...build()} with the caller's own key manager).
     */
    public Builder channelCredentials(ChannelCredentials credentials) {
      this.credentials = Objects.requireNonNull(credentials, "credentials");
      return this;
    }

    /**
     * Applied to each channel builder before it builds (keepalive, interceptors, message sizes,
     * user agent).
     */
    public Builder channelConfigurator(Consumer<ManagedChannelBuilder<?>> configurator) {
      this.channelConfigurator = Objects.requireNonNull(configurator, "configurator");
      return this;
    }

    /**
     * Whether the client asks for cluster status before a write when it does not know the leader
     * (default true; at most once every 5 s). Without it the leader is learned from NOT_LEADER
     * hints only, and writes may take one extra hop through a follower.
     */
    public Builder leaderDiscovery(boolean enabled) {
      this.leaderDiscovery = enabled;
      return this;
    }

    /**
     * How long an idempotent read (GetKey, ListKeys, Decrypt, BatchDecrypt, the list and get calls
     * of rotations, events and destruction receipts) waits for its node before the same read is
     * also sent to another node, the first answer winning (default 250 ms; {@link Duration#ZERO}
     * turns hedging off). Writes, Encrypt and GenerateDataKey are never sent twice.
     */
    public Builder hedgeReadsAfter(Duration delay) {
      Objects.requireNonNull(delay, "delay");
      if (delay.isNegative()) {
        throw new IllegalArgumentException("the hedge delay must not be negative: " + delay);
      }
      this.hedgeReadsAfter = delay;
      return this;
    }

    /**
     * Traces every call with {@code openTelemetry} (the application's SDK, or {@code
     * GlobalOpenTelemetry.get()}): a CLIENT span per call, child of the current span, and its W3C
     * trace context ({@code traceparent}) on the call's metadata, so the nodes' spans join the
     * application's trace. The SDK depends on the OpenTelemetry API only. Default: no tracing.
     */
    public Builder openTelemetry(io.opentelemetry.api.OpenTelemetry openTelemetry) {
      this.openTelemetry = Objects.requireNonNull(openTelemetry, "openTelemetry");
      return this;
    }

    /**
     * Builds the client. No connection is made until the first call.
     *
     * @throws IllegalArgumentException if no endpoint was given, no transport security was
     *     configured (or two kinds were), plaintext was asked for a non-loopback endpoint, or a TLS
     *     file is missing, does not parse, or holds a key that is not the certificate's
     */
    public KeyrotorClient build() {
      if (endpoints.isEmpty()) {
        throw new IllegalArgumentException("no endpoints: give at least one host:port");
      }
      int kinds =
          (insecurePlaintext ? 1 : 0)
              + (trustedCertificates != null || certificate != null ? 1 : 0)
              + (credentials != null ? 1 : 0);
      if (kinds == 0) {
        throw new IllegalArgumentException(
            "no transport security configured: give trustedCertificates(ca.pem) and"
                + " clientCertificate(cert.pem, key.pem), or clusterDirectory(dir, identity), or"
                + " channelCredentials(...); insecurePlaintext() for a plaintext cluster on"
                + " loopback only");
      }
      if (kinds > 1) {
        throw new IllegalArgumentException(
            "choose one kind of transport security: TLS files (trustedCertificates,"
                + " clientCertificate, clusterDirectory), channelCredentials, or"
                + " insecurePlaintext");
      }
      if (certificate != null && trustedCertificates == null) {
        throw new IllegalArgumentException(
            "clientCertificate needs trustedCertificates (the CA that signed the servers'"
                + " certificates)");
      }
      if (insecurePlaintext) {
        for (String endpoint : endpoints) {
          if (!Endpoints.isLoopback(endpoint)) {
            throw new IllegalArgumentException(
                "insecurePlaintext() is for loopback endpoints only, and "
                    + endpoint
                    + " is not one: configure TLS (trustedCertificates and clientCertificate, or"
                    + " clusterDirectory)");
          }
        }
      }
      return create(this);
    }

    private static Duration positive(Duration value, String what) {
      Objects.requireNonNull(value, what);
      if (value.isNegative() || value.isZero()) {
        throw new IllegalArgumentException(what + " must be greater than zero: " + value);
      }
      return value;
    }
  }
}
