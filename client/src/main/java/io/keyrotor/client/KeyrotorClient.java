package io.keyrotor.client;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.keyrotor.api.v1.BatchDecryptRequest;
import io.keyrotor.api.v1.BatchDecryptResponse;
import io.keyrotor.api.v1.BatchReEncryptRequest;
import io.keyrotor.api.v1.BatchReEncryptResponse;
import io.keyrotor.api.v1.BulkRotation;
import io.keyrotor.api.v1.CancelKeyVersionDestroyRequest;
import io.keyrotor.api.v1.CancelRotationRequest;
import io.keyrotor.api.v1.ClusterStatus;
import io.keyrotor.api.v1.CreateKeyRequest;
import io.keyrotor.api.v1.DecryptRequest;
import io.keyrotor.api.v1.DecryptResponse;
import io.keyrotor.api.v1.DisableKeyVersionRequest;
import io.keyrotor.api.v1.EnableKeyVersionRequest;
import io.keyrotor.api.v1.EncryptRequest;
import io.keyrotor.api.v1.EncryptResponse;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.GenerateDataKeyRequest;
import io.keyrotor.api.v1.GenerateDataKeyResponse;
import io.keyrotor.api.v1.GetBulkRotationRequest;
import io.keyrotor.api.v1.GetClusterStatusRequest;
import io.keyrotor.api.v1.GetKeyRequest;
import io.keyrotor.api.v1.GetNodeStatusRequest;
import io.keyrotor.api.v1.Key;
import io.keyrotor.api.v1.ListKeyEventsRequest;
import io.keyrotor.api.v1.ListKeyEventsResponse;
import io.keyrotor.api.v1.ListKeysRequest;
import io.keyrotor.api.v1.ListKeysResponse;
import io.keyrotor.api.v1.ListRotationsRequest;
import io.keyrotor.api.v1.ListRotationsResponse;
import io.keyrotor.api.v1.NodeStatus;
import io.keyrotor.api.v1.ReEncryptRequest;
import io.keyrotor.api.v1.ReEncryptResponse;
import io.keyrotor.api.v1.RetireZoneMasterKeyVersionRequest;
import io.keyrotor.api.v1.RetireZoneMasterKeyVersionResponse;
import io.keyrotor.api.v1.RollbackRotationRequest;
import io.keyrotor.api.v1.RotateKeyRequest;
import io.keyrotor.api.v1.RotateKeyResponse;
import io.keyrotor.api.v1.RotateZoneMasterKeyRequest;
import io.keyrotor.api.v1.RotateZoneMasterKeyResponse;
import io.keyrotor.api.v1.ScheduleKeyVersionDestroyRequest;
import io.keyrotor.api.v1.SetKeyDependentsRequest;
import io.keyrotor.api.v1.SetRotationPolicyRequest;
import io.keyrotor.api.v1.SetVersionFloorsRequest;
import io.keyrotor.api.v1.StartBulkRotationRequest;
import io.keyrotor.api.v1.TakeSnapshotRequest;
import io.keyrotor.api.v1.TakeSnapshotResponse;
import io.keyrotor.api.v1.TransferLeadershipRequest;
import io.keyrotor.api.v1.TransferLeadershipResponse;
import io.keyrotor.api.v1.WatchKeyEventsRequest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
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
 * <p>Thread-safe; share one client per cluster and {@link #close()} it when done. Channels are
 * created lazily, one per endpoint.
 */
public final class KeyrotorClient implements AutoCloseable {

  /** How a call may be retried. */
  private enum RetryMode {
    /** Reads, and writes that carry a request id: any UNAVAILABLE or timed-out attempt. */
    SAFE,
    /** Calls without a request id that change something: only UNAVAILABLE. */
    UNAVAILABLE_ONLY
  }

  /** One attempt of a call against one endpoint, with the attempt's own timeout. */
  @FunctionalInterface
  private interface Attempt<T> {
    T run(EndpointPool.Endpoint endpoint, long timeoutNanos);
  }

  private static final Duration LEADER_DISCOVERY_INTERVAL = Duration.ofSeconds(5);
  private static final Duration LEADER_DISCOVERY_TIMEOUT = Duration.ofSeconds(1);

  private final EndpointPool pool;
  private final Duration deadline;
  private final Duration attemptTimeout;
  private final Backoff backoff;
  private final Clock clock;
  private final Sleeper sleeper;
  private final Supplier<String> requestIds;
  private final boolean leaderDiscovery;
  private final Object discoveryLock = new Object();
  private Instant lastLeaderDiscovery;

  private KeyrotorClient(Builder builder) {
    ChannelCredentials credentials = builder.credentials;
    Consumer<ManagedChannelBuilder<?>> configurator = builder.channelConfigurator;
    this.pool =
        new EndpointPool(
            builder.endpoints,
            target -> {
              ManagedChannelBuilder<?> channel = Grpc.newChannelBuilder(target, credentials);
              configurator.accept(channel);
              return channel.build();
            });
    this.deadline = builder.deadline;
    this.attemptTimeout =
        builder.attemptTimeout.compareTo(builder.deadline) > 0
            ? builder.deadline
            : builder.attemptTimeout;
    this.backoff = new Backoff(builder.initialBackoff, builder.maxBackoff, builder.random);
    this.clock = builder.clock;
    this.sleeper = builder.sleeper;
    this.requestIds = builder.requestIds;
    this.leaderDiscovery = builder.leaderDiscovery;
  }

  /** A builder; {@link Builder#endpoints(List)} is required. */
  public static Builder builder() {
    return new Builder();
  }

  // ---------------------------------------------------------------------------------------------
  // KeyService: lifecycle (writes carry a request id)

  /** Creates a key with its first version; ALREADY_EXISTS ({@code KEY_EXISTS}) if taken. */
  public Key createKey(CreateKeyRequest request) {
    CreateKeyRequest sent =
        request.getRequestId().isEmpty()
            ? request.toBuilder().setRequestId(requestIds.get()).build()
            : request;
    return call("CreateKey", true, RetryMode.SAFE, (e, t) -> e.keys(t).createKey(sent));
  }

  /** Creates a key in the default zone, its first version primary at once. */
  public Key createKey(String name) {
    return createKey(CreateKeyRequest.newBuilder().setName(name).build());
  }

  /** Reads a key (linearizable); NOT_FOUND ({@code KEY_NOT_FOUND}) if there is none. */
  public Key getKey(String name) {
    GetKeyRequest request = GetKeyRequest.newBuilder().setName(name).build();
    return call("GetKey", false, RetryMode.SAFE, (e, t) -> e.keys(t).getKey(request));
  }

  /** One page of keys in name order (linearizable). */
  public ListKeysResponse listKeys(ListKeysRequest request) {
    return call("ListKeys", false, RetryMode.SAFE, (e, t) -> e.keys(t).listKeys(request));
  }

  /**
   * Every key matching the request's filters, fetching pages lazily as the iterator advances. Each
   * page is one call with its own deadline and retries; a failure surfaces from {@code hasNext} or
   * {@code next} as a {@link KeyrotorException}. Keys created or deleted while iterating may or may
   * not appear (each page is consistent, the whole is not a snapshot).
   */
  public Iterator<Key> listAllKeys(ListKeysRequest request) {
    return new Iterator<>() {
      private Iterator<Key> page = List.<Key>of().iterator();
      private String nextToken = request.getPageToken();
      private boolean lastPage;

      @Override
      public boolean hasNext() {
        while (!page.hasNext() && !lastPage) {
          ListKeysResponse response = listKeys(request.toBuilder().setPageToken(nextToken).build());
          if (!nextToken.isEmpty() && response.getNextPageToken().equals(nextToken)) {
            throw KeyrotorException.clientSide(
                Status.Code.INTERNAL,
                ErrorReason.PAGE_TOKEN_REPEATED,
                "ListKeys returned the page token it was given; stopping to avoid a loop",
                null);
          }
          page = response.getKeysList().iterator();
          nextToken = response.getNextPageToken();
          lastPage = nextToken.isEmpty();
        }
        return page.hasNext();
      }

      @Override
      public Key next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        return page.next();
      }
    };
  }

  /** Every key, all pages, in name order. */
  public Iterator<Key> listAllKeys() {
    return listAllKeys(ListKeysRequest.getDefaultInstance());
  }

  /** Adds a version that becomes primary at its activation time (decided by the leader). */
  public RotateKeyResponse rotateKey(RotateKeyRequest request) {
    RotateKeyRequest sent =
        request.getRequestId().isEmpty()
            ? request.toBuilder().setRequestId(requestIds.get()).build()
            : request;
    return call("RotateKey", true, RetryMode.SAFE, (e, t) -> e.keys(t).rotateKey(sent));
  }

  /** Rotates a key manually with its policy's activation delay. */
  public RotateKeyResponse rotateKey(String name) {
    return rotateKey(RotateKeyRequest.newBuilder().setName(name).build());
  }

  /** Disables one version: once this returns, no operation that starts later uses it. */
  public Key disableKeyVersion(DisableKeyVersionRequest request) {
    DisableKeyVersionRequest sent =
        request.getRequestId().isEmpty()
            ? request.toBuilder().setRequestId(requestIds.get()).build()
            : request;
    return call(
        "DisableKeyVersion", true, RetryMode.SAFE, (e, t) -> e.keys(t).disableKeyVersion(sent));
  }

  /** Disables version {@code version} of key {@code name}. */
  public Key disableKeyVersion(String name, int version) {
    return disableKeyVersion(
        DisableKeyVersionRequest.newBuilder().setName(name).setVersion(version).build());
  }

  /** Re-enables a disabled version. */
  public Key enableKeyVersion(EnableKeyVersionRequest request) {
    EnableKeyVersionRequest sent =
        request.getRequestId().isEmpty()
            ? request.toBuilder().setRequestId(requestIds.get()).build()
            : request;
    return call(
        "EnableKeyVersion", true, RetryMode.SAFE, (e, t) -> e.keys(t).enableKeyVersion(sent));
  }

  /** Re-enables version {@code version} of key {@code name}. */
  public Key enableKeyVersion(String name, int version) {
    return enableKeyVersion(
        EnableKeyVersionRequest.newBuilder().setName(name).setVersion(version).build());
  }

  /** Schedules the erasure of a disabled version's material after the waiting period. */
  public Key scheduleKeyVersionDestroy(ScheduleKeyVersionDestroyRequest request) {
    ScheduleKeyVersionDestroyRequest sent =
        request.getRequestId().isEmpty()
            ? request.toBuilder().setRequestId(requestIds.get()).build()
            : request;
    return call(
        "ScheduleKeyVersionDestroy",
        true,
        RetryMode.SAFE,
        (e, t) -> e.keys(t).scheduleKeyVersionDestroy(sent));
  }

  /** Schedules the destroy of version {@code version} of {@code name} after the default period. */
  public Key scheduleKeyVersionDestroy(String name, int version) {
    return scheduleKeyVersionDestroy(
        ScheduleKeyVersionDestroyRequest.newBuilder().setName(name).setVersion(version).build());
  }

  /** Cancels a scheduled destroy; the version returns to DISABLED. */
  public Key cancelKeyVersionDestroy(CancelKeyVersionDestroyRequest request) {
    CancelKeyVersionDestroyRequest sent =
        request.getRequestId().isEmpty()
            ? request.toBuilder().setRequestId(requestIds.get()).build()
            : request;
    return call(
        "CancelKeyVersionDestroy",
        true,
        RetryMode.SAFE,
        (e, t) -> e.keys(t).cancelKeyVersionDestroy(sent));
  }

  /** Cancels the scheduled destroy of version {@code version} of key {@code name}. */
  public Key cancelKeyVersionDestroy(String name, int version) {
    return cancelKeyVersionDestroy(
        CancelKeyVersionDestroyRequest.newBuilder().setName(name).setVersion(version).build());
  }

  /**
   * Replaces a key's rotation policy as a whole: fields left unset in the request are unset
   * afterwards (or filled from the named template). To change one field, read the key and send its
   * policy with that field changed.
   */
  public Key setRotationPolicy(SetRotationPolicyRequest request) {
    SetRotationPolicyRequest sent =
        request.getRequestId().isEmpty()
            ? request.toBuilder().setRequestId(requestIds.get()).build()
            : request;
    return call(
        "SetRotationPolicy", true, RetryMode.SAFE, (e, t) -> e.keys(t).setRotationPolicy(sent));
  }

  /**
   * Aborts a pending rotation: the version becomes CANCELLED and the previous one stays primary.
   * FAILED_PRECONDITION if the version is no longer pending.
   */
  public Key cancelRotation(CancelRotationRequest request) {
    CancelRotationRequest sent =
        request.getRequestId().isEmpty()
            ? request.toBuilder().setRequestId(requestIds.get()).build()
            : request;
    return call("CancelRotation", true, RetryMode.SAFE, (e, t) -> e.keys(t).cancelRotation(sent));
  }

  /** Cancels the pending version {@code version} of key {@code name}. */
  public Key cancelRotation(String name, int version) {
    return cancelRotation(
        CancelRotationRequest.newBuilder().setName(name).setVersion(version).build());
  }

  /**
   * Rolls back an activated rotation: the previous eligible version is primary again from the
   * request's effective time (the leader's time when unset); the rolled-back version keeps
   * decrypting.
   */
  public Key rollbackRotation(RollbackRotationRequest request) {
    RollbackRotationRequest sent =
        request.getRequestId().isEmpty()
            ? request.toBuilder().setRequestId(requestIds.get()).build()
            : request;
    return call(
        "RollbackRotation", true, RetryMode.SAFE, (e, t) -> e.keys(t).rollbackRotation(sent));
  }

  /** Rolls back the primary version {@code version} of key {@code name}, effective now. */
  public Key rollbackRotation(String name, int version) {
    return rollbackRotation(
        RollbackRotationRequest.newBuilder().setName(name).setVersion(version).build());
  }

  /**
   * Sets both version floors of a key at once ({@code 0} means no floor): raising the decryption
   * floor disables older versions. Both fields are sent as given, so read the key first to keep one
   * floor while changing the other.
   */
  public Key setVersionFloors(SetVersionFloorsRequest request) {
    SetVersionFloorsRequest sent =
        request.getRequestId().isEmpty()
            ? request.toBuilder().setRequestId(requestIds.get()).build()
            : request;
    return call(
        "SetVersionFloors", true, RetryMode.SAFE, (e, t) -> e.keys(t).setVersionFloors(sent));
  }

  /**
   * Replaces the list of keys that rotate after this one (an empty list clears it). A declaration
   * that would make a cycle is refused (FAILED_PRECONDITION, {@code DEPENDENCY_CYCLE}), and so is
   * an unknown dependent (NOT_FOUND, {@code DEPENDENT_NOT_FOUND}).
   */
  public Key setKeyDependents(SetKeyDependentsRequest request) {
    SetKeyDependentsRequest sent =
        request.getRequestId().isEmpty()
            ? request.toBuilder().setRequestId(requestIds.get()).build()
            : request;
    return call(
        "SetKeyDependents", true, RetryMode.SAFE, (e, t) -> e.keys(t).setKeyDependents(sent));
  }

  /** Declares {@code dependents} as the keys that rotate after key {@code name}. */
  public Key setKeyDependents(String name, List<String> dependents) {
    return setKeyDependents(
        SetKeyDependentsRequest.newBuilder().setName(name).addAllDependents(dependents).build());
  }

  /**
   * Starts a bulk rotation of every key of a zone, or of every key carrying the selector's labels,
   * as one replicated job. The request id is also the job's id ({@link BulkRotation#getId()}), so a
   * retry, or a second call with the same request id, returns the same job instead of starting
   * another.
   */
  public BulkRotation startBulkRotation(StartBulkRotationRequest request) {
    StartBulkRotationRequest sent =
        request.getRequestId().isEmpty()
            ? request.toBuilder().setRequestId(requestIds.get()).build()
            : request;
    return call(
        "StartBulkRotation", true, RetryMode.SAFE, (e, t) -> e.keys(t).startBulkRotation(sent));
  }

  /** The progress of a bulk rotation; NOT_FOUND ({@code JOB_NOT_FOUND}) for an unknown id. */
  public BulkRotation getBulkRotation(String id) {
    GetBulkRotationRequest request = GetBulkRotationRequest.newBuilder().setId(id).build();
    return call(
        "GetBulkRotation", false, RetryMode.SAFE, (e, t) -> e.keys(t).getBulkRotation(request));
  }

  /** What is pending, due, late, scheduled (within the request's window) or failed. */
  public ListRotationsResponse listRotations(ListRotationsRequest request) {
    return call("ListRotations", false, RetryMode.SAFE, (e, t) -> e.keys(t).listRotations(request));
  }

  /** A key's lifecycle events, oldest first (at most the request's limit, default 1000). */
  public ListKeyEventsResponse listKeyEvents(ListKeyEventsRequest request) {
    return call("ListKeyEvents", false, RetryMode.SAFE, (e, t) -> e.keys(t).listKeyEvents(request));
  }

  /** The lifecycle events of key {@code name}, oldest first (at most 1000). */
  public ListKeyEventsResponse listKeyEvents(String name) {
    return listKeyEvents(ListKeyEventsRequest.newBuilder().setName(name).build());
  }

  // ---------------------------------------------------------------------------------------------
  // KeyService: data plane (reads; no log entry, so a retry is safe)

  /**
   * A fresh data key, in plaintext once and wrapped under the key's primary version. A retried
   * attempt returns a different data key; the one from the failed attempt was never seen.
   */
  public GenerateDataKeyResponse generateDataKey(GenerateDataKeyRequest request) {
    return call(
        "GenerateDataKey", false, RetryMode.SAFE, (e, t) -> e.keys(t).generateDataKey(request));
  }

  /** A fresh data key in wrapped form only. */
  public GenerateDataKeyResponse generateDataKeyWithoutPlaintext(GenerateDataKeyRequest request) {
    return call(
        "GenerateDataKeyWithoutPlaintext",
        false,
        RetryMode.SAFE,
        (e, t) -> e.keys(t).generateDataKeyWithoutPlaintext(request));
  }

  /** Encrypts a small payload (at most 64 KiB) under the key's primary version, on the server. */
  public EncryptResponse encrypt(EncryptRequest request) {
    return call("Encrypt", false, RetryMode.SAFE, (e, t) -> e.keys(t).encrypt(request));
  }

  /** Decrypts a ciphertext; key and version come from its header. */
  public DecryptResponse decrypt(DecryptRequest request) {
    return call("Decrypt", false, RetryMode.SAFE, (e, t) -> e.keys(t).decrypt(request));
  }

  /** Re-wraps a ciphertext under the current primary (or another key) on the server. */
  public ReEncryptResponse reEncrypt(ReEncryptRequest request) {
    return call("ReEncrypt", false, RetryMode.SAFE, (e, t) -> e.keys(t).reEncrypt(request));
  }

  /** Many decrypts in one call; each item has its own status. */
  public BatchDecryptResponse batchDecrypt(BatchDecryptRequest request) {
    return call("BatchDecrypt", false, RetryMode.SAFE, (e, t) -> e.keys(t).batchDecrypt(request));
  }

  /** Many re-encrypts in one call; each item has its own status. */
  public BatchReEncryptResponse batchReEncrypt(BatchReEncryptRequest request) {
    return call(
        "BatchReEncrypt", false, RetryMode.SAFE, (e, t) -> e.keys(t).batchReEncrypt(request));
  }

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
  // AdminService

  /**
   * The status of every node, as gathered by the node that answers; also teaches the client where
   * the leader is.
   */
  public ClusterStatus clusterStatus() {
    ClusterStatus status =
        call(
            "GetClusterStatus",
            false,
            RetryMode.SAFE,
            (e, t) -> e.admin(t).getClusterStatus(GetClusterStatusRequest.getDefaultInstance()));
    learnLeader(status);
    return status;
  }

  /** The status of whichever node answers (the leader if known), from its own view. */
  public NodeStatus nodeStatus() {
    return call(
        "GetNodeStatus",
        false,
        RetryMode.SAFE,
        (e, t) -> e.admin(t).getNodeStatus(GetNodeStatusRequest.getDefaultInstance()));
  }

  /** The status of the node at {@code endpoint} ({@code host:port}), retried on that node only. */
  public NodeStatus nodeStatus(String endpoint) {
    String address = Endpoints.validate(endpoint);
    return callOn(
        address,
        "GetNodeStatus",
        RetryMode.SAFE,
        (e, t) -> e.admin(t).getNodeStatus(GetNodeStatusRequest.getDefaultInstance()));
  }

  /**
   * Asks the leader to hand leadership to {@code targetNodeId} (empty: the cluster chooses).
   * Retried only on UNAVAILABLE, since it carries no request id.
   */
  public TransferLeadershipResponse transferLeadership(String targetNodeId) {
    TransferLeadershipRequest request =
        TransferLeadershipRequest.newBuilder().setTargetNodeId(targetNodeId).build();
    TransferLeadershipResponse response =
        call(
            "TransferLeadership",
            true,
            RetryMode.UNAVAILABLE_ONLY,
            (e, t) -> e.admin(t).transferLeadership(request));
    pool.forgetLeader(pool.leaderOrNull());
    return response;
  }

  /**
   * Starts (or resumes) the rotation of a zone's master key: every KEK of the zone is rewrapped
   * under the new master key version through the log. Returns once the rotation is recorded; its
   * progress shows in {@link #nodeStatus()} ({@code zone_master_key_rotations}).
   */
  public RotateZoneMasterKeyResponse rotateZoneMasterKey(RotateZoneMasterKeyRequest request) {
    RotateZoneMasterKeyRequest sent =
        request.getRequestId().isEmpty()
            ? request.toBuilder().setRequestId(requestIds.get()).build()
            : request;
    return call(
        "RotateZoneMasterKey",
        true,
        RetryMode.SAFE,
        (e, t) -> e.admin(t).rotateZoneMasterKey(sent));
  }

  /** Retires an old master key version of a zone once no KEK is wrapped under it. */
  public RetireZoneMasterKeyVersionResponse retireZoneMasterKeyVersion(
      RetireZoneMasterKeyVersionRequest request) {
    RetireZoneMasterKeyVersionRequest sent =
        request.getRequestId().isEmpty()
            ? request.toBuilder().setRequestId(requestIds.get()).build()
            : request;
    return call(
        "RetireZoneMasterKeyVersion",
        true,
        RetryMode.SAFE,
        (e, t) -> e.admin(t).retireZoneMasterKeyVersion(sent));
  }

  /** Asks the node at {@code endpoint} to take a snapshot of its state now. */
  public TakeSnapshotResponse takeSnapshot(String endpoint) {
    String address = Endpoints.validate(endpoint);
    return callOn(
        address,
        "TakeSnapshot",
        RetryMode.UNAVAILABLE_ONLY,
        (e, t) -> e.admin(t).takeSnapshot(TakeSnapshotRequest.getDefaultInstance()));
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
    return deadline;
  }

  /** Shuts every channel down, waiting up to two seconds for calls in flight. */
  @Override
  public void close() {
    pool.close();
  }

  // ---------------------------------------------------------------------------------------------
  // The retry loop

  private <T> T call(String rpc, boolean write, RetryMode mode, Attempt<T> attempt) {
    if (write) {
      discoverLeaderIfUnknown();
    }
    return execute(rpc, mode, attempt, null);
  }

  private <T> T callOn(String address, String rpc, RetryMode mode, Attempt<T> attempt) {
    return execute(rpc, mode, attempt, address);
  }

  /**
   * Runs attempts until one succeeds, a final error arrives, or the deadline is spent.
   *
   * @param pinned the only endpoint to use, or null to choose (leader first) and fail over
   */
  private <T> T execute(String rpc, RetryMode mode, Attempt<T> attempt, String pinned) {
    Instant start = clock.instant();
    Instant deadlineAt = start.plus(deadline);
    Set<String> triedThisRound = new HashSet<>();
    Set<String> tried = new LinkedHashSet<>();
    int backoffs = 0;
    int attempts = 0;
    boolean connectionFailed = false;
    KeyrotorException last = null;
    KeyrotorException lastServerError = null;
    String target = pinned != null ? pinned : pool.pick(triedThisRound);
    while (true) {
      Duration remaining = Duration.between(clock.instant(), deadlineAt);
      if (attempts > 0 && (remaining.isNegative() || remaining.isZero())) {
        throw giveUp(rpc, last, lastServerError, connectionFailed, attempts, tried, start);
      }
      long timeoutNanos = Math.max(1, Math.min(remaining.toNanos(), attemptTimeout.toNanos()));
      attempts++;
      tried.add(target);
      try {
        T result = attempt.run(pool.endpoint(target), timeoutNanos);
        pool.answered(target);
        return result;
      } catch (StatusRuntimeException e) {
        last = KeyrotorException.fromGrpc(e, target);
      }
      boolean fromServer = !last.reason().isEmpty();
      if (fromServer) {
        lastServerError = last;
      }
      Status.Code code = last.code();
      connectionFailed |= !fromServer && code == Status.Code.UNAVAILABLE;
      boolean retryable =
          code == Status.Code.UNAVAILABLE
              || (code == Status.Code.DEADLINE_EXCEEDED && mode == RetryMode.SAFE);
      if (!retryable) {
        throw last;
      }
      if (pinned != null) {
        if (!sleepBeforeRetry(backoffs++, deadlineAt)) {
          throw giveUp(rpc, last, lastServerError, connectionFailed, attempts, tried, start);
        }
        continue;
      }
      if (last.hasReason(ErrorReason.NOT_LEADER)) {
        String hint = validHintOrNull(last.metadata().get("leader"));
        if (hint != null) {
          pool.leaderIs(hint);
          triedThisRound.add(target);
          if (!triedThisRound.contains(hint)) {
            target = hint;
            continue; // follow the hint at once
          }
        } else {
          pool.forgetLeader(target);
        }
      } else if (last.hasReason(ErrorReason.NO_LEADER)) {
        // An election is under way; any node will know the new leader (or forward) after it.
        pool.forgetLeader(pool.leaderOrNull());
        if (!sleepBeforeRetry(backoffs++, deadlineAt)) {
          throw giveUp(rpc, last, lastServerError, connectionFailed, attempts, tried, start);
        }
        triedThisRound.clear();
        target = pool.pick(triedThisRound);
        continue;
      } else {
        // Unreachable, timed out, or cannot serve: the next endpoint is worth a try right away.
        pool.failed(target);
      }
      triedThisRound.add(target);
      String next = pool.pick(triedThisRound);
      if (next == null) {
        if (!sleepBeforeRetry(backoffs++, deadlineAt)) {
          throw giveUp(rpc, last, lastServerError, connectionFailed, attempts, tried, start);
        }
        triedThisRound.clear();
        next = pool.pick(triedThisRound);
      }
      target = next;
    }
  }

  /**
   * Sleeps the next backoff delay unless that would reach the deadline.
   *
   * @return false if there is no time left for another attempt
   */
  private boolean sleepBeforeRetry(int backoffIndex, Instant deadlineAt) {
    Duration delay = backoff.delay(backoffIndex);
    Instant wakeUp = clock.instant().plus(delay);
    if (!wakeUp.isBefore(deadlineAt)) {
      return false;
    }
    try {
      sleeper.sleep(delay);
      pool.resetConnectBackoff();
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw KeyrotorException.clientSide(
          Status.Code.CANCELLED, ErrorReason.INTERRUPTED, "interrupted while waiting to retry", e);
    }
  }

  /**
   * The error for a call that ran out of time or endpoints. A server's last retryable answer
   * (NO_LEADER, NOT_LEADER, ...) is kept with its code and reason; failures that never reached a
   * server become {@link ErrorReason#NO_SERVER_REACHABLE} (some connection was refused) or {@link
   * ErrorReason#DEADLINE_EXHAUSTED} (every attempt timed out).
   */
  private KeyrotorException giveUp(
      String rpc,
      KeyrotorException last,
      KeyrotorException lastServerError,
      boolean connectionFailed,
      int attempts,
      Set<String> tried,
      Instant start) {
    String spent =
        "gave up after "
            + attempts
            + (attempts == 1 ? " attempt in " : " attempts in ")
            + Durations.format(Duration.between(start, clock.instant()));
    if (!last.reason().isEmpty()) {
      return last.withMessage(last.getMessage() + "; " + spent);
    }
    ErrorReason reason =
        connectionFailed ? ErrorReason.NO_SERVER_REACHABLE : ErrorReason.DEADLINE_EXHAUSTED;
    Status.Code code = connectionFailed ? Status.Code.UNAVAILABLE : Status.Code.DEADLINE_EXCEEDED;
    if (lastServerError == null) {
      Set<String> addresses = new LinkedHashSet<>(pool.configured());
      addresses.addAll(tried);
      String where = String.join(",", addresses);
      String message =
          connectionFailed
              ? "no server reachable at " + where
              : "no answer to " + rpc + " from " + where + " within " + Durations.format(deadline);
      return KeyrotorException.clientSide(code, reason, message, last);
    }
    return KeyrotorException.clientSide(
        code,
        reason,
        last.getMessage()
            + "; "
            + spent
            + " (last server answer: "
            + lastServerError.getMessage()
            + ")",
        last);
  }

  private static String validHintOrNull(String hint) {
    if (hint == null || hint.isBlank()) {
      return null;
    }
    try {
      return Endpoints.validate(hint);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** Learns the leader's address from cluster status once in a while, when no leader is known. */
  private void discoverLeaderIfUnknown() {
    if (!leaderDiscovery || pool.leaderOrNull() != null) {
      return;
    }
    String target;
    synchronized (discoveryLock) {
      Instant now = clock.instant();
      if (lastLeaderDiscovery != null
          && now.isBefore(lastLeaderDiscovery.plus(LEADER_DISCOVERY_INTERVAL))) {
        return;
      }
      lastLeaderDiscovery = now;
      target = pool.pick(Set.of());
    }
    long timeoutNanos = Math.min(LEADER_DISCOVERY_TIMEOUT.toNanos(), attemptTimeout.toNanos());
    try {
      ClusterStatus status =
          pool.endpoint(target)
              .admin(timeoutNanos)
              .getClusterStatus(GetClusterStatusRequest.getDefaultInstance());
      learnLeader(status);
    } catch (StatusRuntimeException e) {
      // Best effort: the call itself finds its way by NOT_LEADER hints and failover.
    }
  }

  private void learnLeader(ClusterStatus status) {
    String leaderId = status.getLeaderId();
    if (leaderId.isEmpty()) {
      return;
    }
    for (NodeStatus node : status.getNodesList()) {
      if (node.getId().equals(leaderId)) {
        String address = validHintOrNull(node.getApiAddress());
        if (address != null) {
          pool.leaderIs(address);
        }
        return;
      }
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
    private ChannelCredentials credentials = InsecureChannelCredentials.create();
    private Consumer<ManagedChannelBuilder<?>> channelConfigurator = channel -> {};
    private boolean leaderDiscovery = true;

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
     * Transport security for every channel (default plaintext). The hook for TLS and mTLS: pass
     * {@code TlsChannelCredentials.newBuilder()...build()}.
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
     * Builds the client. No connection is made until the first call.
     *
     * @throws IllegalArgumentException if no endpoint was given or the backoff is inconsistent
     */
    public KeyrotorClient build() {
      if (endpoints.isEmpty()) {
        throw new IllegalArgumentException("no endpoints: give at least one host:port");
      }
      return new KeyrotorClient(this);
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
