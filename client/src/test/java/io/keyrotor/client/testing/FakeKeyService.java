package io.keyrotor.client.testing;

import com.google.protobuf.Message;
import com.google.protobuf.Timestamp;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.keyrotor.api.v1.BatchDecryptRequest;
import io.keyrotor.api.v1.BatchDecryptResponse;
import io.keyrotor.api.v1.BatchReEncryptRequest;
import io.keyrotor.api.v1.BatchReEncryptResponse;
import io.keyrotor.api.v1.BulkRotation;
import io.keyrotor.api.v1.CancelKeyVersionDestroyRequest;
import io.keyrotor.api.v1.CancelRotationRequest;
import io.keyrotor.api.v1.CreateKeyRequest;
import io.keyrotor.api.v1.DecryptRequest;
import io.keyrotor.api.v1.DecryptResponse;
import io.keyrotor.api.v1.DisableKeyVersionRequest;
import io.keyrotor.api.v1.EnableKeyVersionRequest;
import io.keyrotor.api.v1.EncryptRequest;
import io.keyrotor.api.v1.EncryptResponse;
import io.keyrotor.api.v1.GenerateDataKeyRequest;
import io.keyrotor.api.v1.GenerateDataKeyResponse;
import io.keyrotor.api.v1.GetBulkRotationRequest;
import io.keyrotor.api.v1.GetKeyRequest;
import io.keyrotor.api.v1.Key;
import io.keyrotor.api.v1.KeyEvent;
import io.keyrotor.api.v1.KeyServiceGrpc;
import io.keyrotor.api.v1.KeyVersion;
import io.keyrotor.api.v1.KeyVersionState;
import io.keyrotor.api.v1.ListKeyEventsRequest;
import io.keyrotor.api.v1.ListKeyEventsResponse;
import io.keyrotor.api.v1.ListKeysRequest;
import io.keyrotor.api.v1.ListKeysResponse;
import io.keyrotor.api.v1.ListRotationsRequest;
import io.keyrotor.api.v1.ListRotationsResponse;
import io.keyrotor.api.v1.ReEncryptRequest;
import io.keyrotor.api.v1.ReEncryptResponse;
import io.keyrotor.api.v1.RollbackRotationRequest;
import io.keyrotor.api.v1.RotateKeyRequest;
import io.keyrotor.api.v1.RotateKeyResponse;
import io.keyrotor.api.v1.RotationPolicy;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.api.v1.RotationStatus;
import io.keyrotor.api.v1.ScheduleKeyVersionDestroyRequest;
import io.keyrotor.api.v1.SetKeyDependentsRequest;
import io.keyrotor.api.v1.SetRotationPolicyRequest;
import io.keyrotor.api.v1.SetVersionFloorsRequest;
import io.keyrotor.api.v1.StartBulkRotationRequest;
import io.keyrotor.api.v1.WatchKeyEventsRequest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A scripted stand-in for the network peer: a tiny in-memory key model behind the real KeyService
 * wire protocol, plus knobs to fail calls the way a follower, an electing cluster or a dying node
 * would. Records every request it receives, in order.
 */
public class FakeKeyService extends KeyServiceGrpc.KeyServiceImplBase {

  /** The fake's "leader time": fixed, so outputs are predictable. */
  public static final Instant NOW = Instant.parse("2025-03-01T12:00:00Z");

  private final Map<String, Key> keys = Collections.synchronizedMap(new TreeMap<>());
  private final Map<String, Message> outcomesByRequestId = new ConcurrentHashMap<>();
  private final List<Message> received = Collections.synchronizedList(new ArrayList<>());
  private final Queue<StatusRuntimeException> failNext = new ConcurrentLinkedQueue<>();
  private volatile Function<Message, StatusRuntimeException> failEvery = request -> null;
  private final Map<String, BulkRotation> bulkRotations = new ConcurrentHashMap<>();
  private final Queue<Long> bulkProgress = new ConcurrentLinkedQueue<>();
  private final java.util.concurrent.atomic.AtomicInteger watchCalls =
      new java.util.concurrent.atomic.AtomicInteger();
  private volatile List<RotationStatus> rotations = List.of();
  private volatile List<KeyEvent> events = List.of();
  private volatile int watchFailsAfter = -1;

  /** The waiting period of a destroy scheduled without one: 30 days, like the server's default. */
  public static final long DEFAULT_DESTROY_WAITING_SECONDS = 30L * 86_400;

  /** The next calls fail with these errors, one each, before normal service resumes. */
  public FakeKeyService failNext(StatusRuntimeException... errors) {
    failNext.addAll(List.of(errors));
    return this;
  }

  /** Every call whose request the function maps to an error fails with it (null: serve). */
  public FakeKeyService failEvery(Function<Message, StatusRuntimeException> errors) {
    failEvery = errors;
    return this;
  }

  /** Every request received, in order (including failed ones). */
  public List<Message> received() {
    synchronized (received) {
      return List.copyOf(received);
    }
  }

  /** The requests of one type received, in order. */
  public <T extends Message> List<T> received(Class<T> type) {
    List<T> matching = new ArrayList<>();
    for (Message message : received()) {
      if (type.isInstance(message)) {
        matching.add(type.cast(message));
      }
    }
    return matching;
  }

  private final Map<String, io.keyrotor.api.v1.DestructionReceipt> receipts =
      new ConcurrentHashMap<>();

  /** Puts the receipt of a destroyed version into the model directly. */
  public FakeKeyService putReceipt(io.keyrotor.api.v1.DestructionReceipt receipt) {
    receipts.put(receipt.getName() + "/" + receipt.getVersion(), receipt);
    return this;
  }

  /** Puts a key into the model directly. */
  public FakeKeyService put(Key key) {
    keys.put(key.getName(), key);
    return this;
  }

  /** Records the request; answers with a scripted failure if one applies and returns true. */
  protected boolean failed(Message request, StreamObserver<?> observer) {
    received.add(request);
    StatusRuntimeException error = failNext.poll();
    if (error == null) {
      error = failEvery.apply(request);
    }
    if (error != null) {
      observer.onError(error);
      return true;
    }
    return false;
  }

  private static Timestamp timestamp(Instant instant) {
    return Timestamp.newBuilder()
        .setSeconds(instant.getEpochSecond())
        .setNanos(instant.getNano())
        .build();
  }

  @SuppressWarnings("unchecked")
  private <T extends Message> boolean replayed(String requestId, StreamObserver<T> observer) {
    Message earlier = requestId.isEmpty() ? null : outcomesByRequestId.get(requestId);
    if (earlier == null) {
      return false;
    }
    reply(observer, (T) earlier);
    return true;
  }

  /** Answers a call with one message and ends it. */
  protected static <T> void reply(StreamObserver<T> observer, T response) {
    observer.onNext(response);
    observer.onCompleted();
  }

  /** Remembers a write's outcome under its request id (if any), for retries, and answers it. */
  private <T extends Message> void replyOnce(
      String requestId, T outcome, StreamObserver<T> observer) {
    if (!requestId.isEmpty()) {
      outcomesByRequestId.put(requestId, outcome);
    }
    reply(observer, outcome);
  }

  @Override
  public void createKey(CreateKeyRequest request, StreamObserver<Key> observer) {
    if (failed(request, observer) || replayed(request.getRequestId(), observer)) {
      return;
    }
    synchronized (keys) {
      if (keys.containsKey(request.getName())) {
        observer.onError(
            GrpcErrors.error(
                Status.Code.ALREADY_EXISTS,
                "KEY_EXISTS",
                "key \"" + request.getName() + "\" already exists",
                Map.of("key", request.getName())));
        return;
      }
      Instant activation = NOW.plusSeconds(request.getActivationDelay().getSeconds());
      boolean pending = activation.isAfter(NOW);
      Key key =
          Key.newBuilder()
              .setName(request.getName())
              .setZone(request.getZone().isEmpty() ? "default" : request.getZone())
              .putAllLabels(request.getLabelsMap())
              .setCreateTime(timestamp(NOW))
              .setPrimaryVersion(pending ? 0 : 1)
              .addVersions(
                  KeyVersion.newBuilder()
                      .setVersion(1)
                      .setState(
                          pending
                              ? KeyVersionState.KEY_VERSION_STATE_PENDING
                              : KeyVersionState.KEY_VERSION_STATE_PRIMARY)
                      .setCreateTime(timestamp(NOW))
                      .setActivationTime(timestamp(activation)))
              .setRevision(keys.size() + 1)
              .build();
      keys.put(key.getName(), key);
      replyOnce(request.getRequestId(), key, observer);
    }
  }

  @Override
  public void getKey(GetKeyRequest request, StreamObserver<Key> observer) {
    if (failed(request, observer)) {
      return;
    }
    Key key = keys.get(request.getName());
    if (key == null) {
      observer.onError(GrpcErrors.keyNotFound(request.getName()));
      return;
    }
    reply(observer, key);
  }

  @Override
  public void listKeys(ListKeysRequest request, StreamObserver<ListKeysResponse> observer) {
    if (failed(request, observer)) {
      return;
    }
    int pageSize = request.getPageSize() == 0 ? 100 : request.getPageSize();
    List<Key> all;
    synchronized (keys) {
      all = new ArrayList<>(keys.values());
    }
    ListKeysResponse.Builder page = ListKeysResponse.newBuilder();
    for (Key key : all) {
      if (key.getName().compareTo(request.getPageToken()) <= 0) {
        continue;
      }
      if (!request.getZone().isEmpty() && !request.getZone().equals(key.getZone())) {
        continue;
      }
      if (page.getKeysCount() == pageSize) {
        page.setNextPageToken(page.getKeys(pageSize - 1).getName());
        break;
      }
      page.addKeys(key);
    }
    reply(observer, page.build());
  }

  @Override
  public void rotateKey(RotateKeyRequest request, StreamObserver<RotateKeyResponse> observer) {
    if (failed(request, observer) || replayed(request.getRequestId(), observer)) {
      return;
    }
    synchronized (keys) {
      Key key = keys.get(request.getName());
      if (key == null) {
        observer.onError(GrpcErrors.keyNotFound(request.getName()));
        return;
      }
      int newVersion = key.getVersionsCount() + 1;
      Instant activation = NOW.plusSeconds(request.getActivationDelay().getSeconds());
      Key rotated =
          key.toBuilder()
              .addVersions(
                  KeyVersion.newBuilder()
                      .setVersion(newVersion)
                      .setState(KeyVersionState.KEY_VERSION_STATE_PENDING)
                      .setCreateTime(timestamp(NOW))
                      .setActivationTime(timestamp(activation))
                      .setRotationReason(
                          request.getReason() == RotationReason.ROTATION_REASON_UNSPECIFIED
                              ? RotationReason.ROTATION_REASON_MANUAL
                              : request.getReason()))
              .setRevision(key.getRevision() + 1)
              .build();
      keys.put(rotated.getName(), rotated);
      RotateKeyResponse response =
          RotateKeyResponse.newBuilder()
              .setKey(rotated)
              .setNewVersion(newVersion)
              .setActivationTime(timestamp(activation))
              .build();
      replyOnce(request.getRequestId(), response, observer);
    }
  }

  @Override
  public void disableKeyVersion(DisableKeyVersionRequest request, StreamObserver<Key> observer) {
    setState(request, KeyVersionState.KEY_VERSION_STATE_DISABLED, observer);
  }

  @Override
  public void enableKeyVersion(EnableKeyVersionRequest request, StreamObserver<Key> observer) {
    setState(request, KeyVersionState.KEY_VERSION_STATE_DECRYPT_ONLY, observer);
  }

  /**
   * Records the request and sets the state of the version it names ({@code name}, {@code version});
   * a disable or enable is not remembered by request id.
   */
  private void setState(Message request, KeyVersionState state, StreamObserver<Key> observer) {
    if (failed(request, observer)) {
      return;
    }
    changeVersion(
        (String) field(request, "name"),
        (Integer) field(request, "version"),
        "",
        observer,
        (key, changed) -> changed.setState(state));
  }

  /** Records the request and answers with a default response (or a scripted failure). */
  private <T extends Message> void answerDefault(
      Message request, T response, StreamObserver<T> observer) {
    if (failed(request, observer)) {
      return;
    }
    reply(observer, response);
  }

  @Override
  public void scheduleKeyVersionDestroy(
      ScheduleKeyVersionDestroyRequest request, StreamObserver<Key> observer) {
    Instant destroyAt =
        NOW.plusSeconds(
            request.hasWaitingPeriod()
                ? request.getWaitingPeriod().getSeconds()
                : DEFAULT_DESTROY_WAITING_SECONDS);
    writeVersion(
        request,
        observer,
        (key, version) ->
            version
                .setState(KeyVersionState.KEY_VERSION_STATE_DESTROY_SCHEDULED)
                .setDestroyTime(timestamp(destroyAt)));
  }

  @Override
  public void cancelKeyVersionDestroy(
      CancelKeyVersionDestroyRequest request, StreamObserver<Key> observer) {
    writeVersion(
        request,
        observer,
        (key, version) ->
            version.setState(KeyVersionState.KEY_VERSION_STATE_DISABLED).clearDestroyTime());
  }

  /** Replaces the policy as a whole, like the server; the template name is recorded only. */
  @Override
  public void setRotationPolicy(SetRotationPolicyRequest request, StreamObserver<Key> observer) {
    writeKey(
        request,
        observer,
        key -> {
          RotationPolicy.Builder policy = request.getRotationPolicy().toBuilder();
          if (!request.getTemplate().isEmpty()) {
            policy.setTemplate(request.getTemplate());
          }
          key.setRotationPolicy(policy);
          if (policy.hasNextRotationTime()) {
            key.setNextRotationTime(policy.getNextRotationTime());
          } else if (policy.hasRotationPeriod()) {
            key.setNextRotationTime(
                timestamp(NOW.plusSeconds(policy.getRotationPeriod().getSeconds())));
          } else {
            key.clearNextRotationTime();
          }
        });
  }

  @Override
  public void cancelRotation(CancelRotationRequest request, StreamObserver<Key> observer) {
    writeVersion(
        request,
        observer,
        (key, version) ->
            version
                .setState(KeyVersionState.KEY_VERSION_STATE_CANCELLED)
                .setStatusReason(
                    request.getReason().isEmpty()
                        ? "cancelled by an operator"
                        : request.getReason()));
  }

  /** Demotes the version and makes the one before it primary again. */
  @Override
  public void rollbackRotation(RollbackRotationRequest request, StreamObserver<Key> observer) {
    writeVersion(
        request,
        observer,
        (key, version) -> {
          version
              .setState(KeyVersionState.KEY_VERSION_STATE_DECRYPT_ONLY)
              .setDemotedTime(timestamp(NOW))
              .setStatusReason(request.getReason());
          int previous = request.getVersion() - 1;
          if (previous >= 1) {
            key.setVersions(
                previous - 1,
                key.getVersions(previous - 1).toBuilder()
                    .setState(KeyVersionState.KEY_VERSION_STATE_PRIMARY));
          }
          key.setPrimaryVersion(Math.max(previous, 0));
        });
  }

  @Override
  public void setVersionFloors(SetVersionFloorsRequest request, StreamObserver<Key> observer) {
    writeKey(
        request,
        observer,
        key ->
            key.setMinDecryptionVersion(request.getMinDecryptionVersion())
                .setMinEncryptionVersion(request.getMinEncryptionVersion()));
  }

  @Override
  public void setKeyDependents(SetKeyDependentsRequest request, StreamObserver<Key> observer) {
    if (failed(request, observer) || replayed(request.getRequestId(), observer)) {
      return;
    }
    for (String dependent : request.getDependentsList()) {
      if (!keys.containsKey(dependent)) {
        observer.onError(
            GrpcErrors.error(
                Status.Code.NOT_FOUND,
                "DEPENDENT_NOT_FOUND",
                "dependent key \"" + dependent + "\" not found",
                Map.of("key", request.getName())));
        return;
      }
    }
    changeKey(
        request.getName(),
        request.getRequestId(),
        observer,
        key -> key.clearDependents().addAllDependents(request.getDependentsList()));
  }

  /**
   * Starts a job over the matching keys; its id is the request id. Its remaining count follows
   * {@link #bulkProgress} on each GetBulkRotation.
   */
  @Override
  public void startBulkRotation(
      StartBulkRotationRequest request, StreamObserver<BulkRotation> observer) {
    if (failed(request, observer) || replayed(request.getRequestId(), observer)) {
      return;
    }
    if (request.getZone().isEmpty() && request.getLabelSelectorCount() == 0) {
      observer.onError(
          GrpcErrors.error(
              Status.Code.INVALID_ARGUMENT,
              "SELECTOR_REQUIRED",
              "a bulk rotation needs a zone or a label selector",
              Map.of()));
      return;
    }
    long total;
    synchronized (keys) {
      total =
          keys.values().stream()
              .filter(k -> request.getZone().isEmpty() || request.getZone().equals(k.getZone()))
              .filter(
                  k ->
                      k.getLabelsMap()
                          .entrySet()
                          .containsAll(request.getLabelSelectorMap().entrySet()))
              .count();
    }
    BulkRotation job =
        BulkRotation.newBuilder()
            .setId(request.getRequestId())
            .setZone(request.getZone())
            .putAllLabelSelector(request.getLabelSelectorMap())
            .setReason(request.getReason())
            .setStartTime(timestamp(NOW))
            .setTotal(total)
            .setRemaining(total)
            .build();
    bulkRotations.put(job.getId(), job);
    replyOnce(request.getRequestId(), job, observer);
  }

  /** The remaining counts successive GetBulkRotation calls report (the last one repeats). */
  public FakeKeyService bulkProgress(long... remaining) {
    for (long value : remaining) {
      bulkProgress.add(value);
    }
    return this;
  }

  @Override
  public void getBulkRotation(
      GetBulkRotationRequest request, StreamObserver<BulkRotation> observer) {
    if (failed(request, observer)) {
      return;
    }
    BulkRotation job = bulkRotations.get(request.getId());
    if (job == null) {
      observer.onError(
          GrpcErrors.error(
              Status.Code.NOT_FOUND,
              "JOB_NOT_FOUND",
              "no bulk rotation \"" + request.getId() + "\"",
              Map.of()));
      return;
    }
    Long remaining = bulkProgress.size() > 1 ? bulkProgress.poll() : bulkProgress.peek();
    if (remaining != null) {
      job = job.toBuilder().setRemaining(remaining).build();
      bulkRotations.put(job.getId(), job);
    }
    reply(observer, job);
  }

  /** What ListRotations answers. */
  public FakeKeyService rotations(RotationStatus... rotations) {
    this.rotations = List.of(rotations);
    return this;
  }

  @Override
  public void listRotations(
      ListRotationsRequest request, StreamObserver<ListRotationsResponse> observer) {
    answerDefault(
        request, ListRotationsResponse.newBuilder().addAllRotations(rotations).build(), observer);
  }

  /**
   * The event log, in cursor order ("logIndex.sequence", like the server's): ListKeyEvents answers
   * a key's events from it, and WatchKeyEvents streams it (all of it for an empty cursor, else the
   * events after that cursor), then keeps the stream open.
   */
  public FakeKeyService events(KeyEvent... events) {
    this.events = List.of(events);
    return this;
  }

  /** The first WatchKeyEvents call fails with UNAVAILABLE after sending this many events. */
  public FakeKeyService watchFailsAfter(int events) {
    this.watchFailsAfter = events;
    return this;
  }

  @Override
  public void listKeyEvents(
      ListKeyEventsRequest request, StreamObserver<ListKeyEventsResponse> observer) {
    if (failed(request, observer)) {
      return;
    }
    if (!keys.containsKey(request.getName())) {
      observer.onError(GrpcErrors.keyNotFound(request.getName()));
      return;
    }
    ListKeyEventsResponse.Builder response = ListKeyEventsResponse.newBuilder();
    for (KeyEvent event : events) {
      if (event.getKeyName().equals(request.getName())) {
        response.addEvents(event);
      }
    }
    reply(observer, response.build());
  }

  @Override
  public void getDestructionReceipt(
      io.keyrotor.api.v1.GetDestructionReceiptRequest request,
      StreamObserver<io.keyrotor.api.v1.DestructionReceipt> observer) {
    if (failed(request, observer)) {
      return;
    }
    io.keyrotor.api.v1.DestructionReceipt receipt =
        receipts.get(request.getName() + "/" + request.getVersion());
    if (receipt == null) {
      observer.onError(
          GrpcErrors.error(
              io.grpc.Status.Code.FAILED_PRECONDITION,
              "VERSION_NOT_DESTROYED",
              "version "
                  + request.getVersion()
                  + " of key \""
                  + request.getName()
                  + "\" is not"
                  + " destroyed",
              Map.of()));
      return;
    }
    reply(observer, receipt);
  }

  @Override
  public void watchKeyEvents(WatchKeyEventsRequest request, StreamObserver<KeyEvent> observer) {
    if (failed(request, observer)) {
      return;
    }
    int start = 0;
    if (!request.getCursor().isEmpty()) {
      long after = cursorOrder(request.getCursor());
      while (start < events.size() && cursorOrder(events.get(start).getCursor()) <= after) {
        start++;
      }
    }
    int failAfter = watchCalls.getAndIncrement() == 0 ? watchFailsAfter : -1;
    int sent = 0;
    for (int i = start; i < events.size(); i++) {
      if (failAfter >= 0 && sent == failAfter) {
        break;
      }
      KeyEvent event = events.get(i);
      if (request.getKeyNamesCount() == 0
          || request.getKeyNamesList().contains(event.getKeyName())) {
        observer.onNext(event);
        sent++;
      }
    }
    if (failAfter >= 0) {
      observer.onError(
          GrpcErrors.error(
              Status.Code.UNAVAILABLE,
              "WATCH_INTERRUPTED",
              "the event stream stopped; resume from the last cursor",
              Map.of()));
    }
    // Otherwise the stream stays open until the client cancels it, like the server's.
  }

  /** The server's cursor "logIndex.sequence" as one ordered number. */
  private static long cursorOrder(String cursor) {
    int dot = cursor.indexOf('.');
    long index = Long.parseLong(dot < 0 ? cursor : cursor.substring(0, dot));
    int sequence = dot < 0 ? 0xffff : Integer.parseInt(cursor.substring(dot + 1));
    return (index << 16) | sequence;
  }

  /**
   * A write to the key the request names ({@code name}): recorded, answered with a scripted failure
   * or the first outcome of its {@code request_id} if either applies, else applied by {@link
   * #changeKey}.
   */
  private void writeKey(
      Message request, StreamObserver<Key> observer, Consumer<Key.Builder> change) {
    String requestId = (String) field(request, "request_id");
    if (failed(request, observer) || replayed(requestId, observer)) {
      return;
    }
    changeKey((String) field(request, "name"), requestId, observer, change);
  }

  /**
   * A write to the key version the request names ({@code name}, {@code version}), as {@link
   * #writeKey}, applied by {@link #changeVersion}.
   */
  private void writeVersion(
      Message request,
      StreamObserver<Key> observer,
      BiConsumer<Key.Builder, KeyVersion.Builder> change) {
    String requestId = (String) field(request, "request_id");
    if (failed(request, observer) || replayed(requestId, observer)) {
      return;
    }
    changeVersion(
        (String) field(request, "name"),
        (Integer) field(request, "version"),
        requestId,
        observer,
        change);
  }

  /** The value of a request's field, by its name in the proto. */
  private static Object field(Message request, String name) {
    return request.getField(request.getDescriptorForType().findFieldByName(name));
  }

  /** Applies a change to a key, bumps its revision and remembers the outcome by request id. */
  private void changeKey(
      String name, String requestId, StreamObserver<Key> observer, Consumer<Key.Builder> change) {
    synchronized (keys) {
      Key key = keys.get(name);
      if (key == null) {
        observer.onError(GrpcErrors.keyNotFound(name));
        return;
      }
      Key.Builder changed = key.toBuilder();
      change.accept(changed);
      Key result = changed.setRevision(key.getRevision() + 1).build();
      keys.put(name, result);
      replyOnce(requestId, result, observer);
    }
  }

  /** Applies a change to one version of a key; VERSION_NOT_FOUND if it has no such version. */
  private void changeVersion(
      String name,
      int version,
      String requestId,
      StreamObserver<Key> observer,
      BiConsumer<Key.Builder, KeyVersion.Builder> change) {
    Key key = keys.get(name);
    if (key != null && (version < 1 || version > key.getVersionsCount())) {
      observer.onError(versionNotFound(name, version));
      return;
    }
    changeKey(
        name,
        requestId,
        observer,
        builder -> {
          KeyVersion.Builder changed = builder.getVersions(version - 1).toBuilder();
          change.accept(builder, changed);
          builder.setVersions(version - 1, changed);
        });
  }

  private static StatusRuntimeException versionNotFound(String name, int version) {
    return GrpcErrors.error(
        Status.Code.NOT_FOUND,
        "VERSION_NOT_FOUND",
        "key \"" + name + "\" has no version " + version,
        Map.of("key", name, "version", Integer.toString(version)));
  }

  @Override
  public void generateDataKey(
      GenerateDataKeyRequest request, StreamObserver<GenerateDataKeyResponse> observer) {
    answerDefault(
        request,
        GenerateDataKeyResponse.newBuilder().setKeyName(request.getKeyName()).build(),
        observer);
  }

  @Override
  public void generateDataKeyWithoutPlaintext(
      GenerateDataKeyRequest request, StreamObserver<GenerateDataKeyResponse> observer) {
    generateDataKey(request, observer);
  }

  @Override
  public void encrypt(EncryptRequest request, StreamObserver<EncryptResponse> observer) {
    answerDefault(
        request, EncryptResponse.newBuilder().setKeyName(request.getKeyName()).build(), observer);
  }

  @Override
  public void decrypt(DecryptRequest request, StreamObserver<DecryptResponse> observer) {
    answerDefault(request, DecryptResponse.getDefaultInstance(), observer);
  }

  @Override
  public void reEncrypt(ReEncryptRequest request, StreamObserver<ReEncryptResponse> observer) {
    answerDefault(request, ReEncryptResponse.getDefaultInstance(), observer);
  }

  @Override
  public void batchDecrypt(
      BatchDecryptRequest request, StreamObserver<BatchDecryptResponse> observer) {
    answerDefault(request, BatchDecryptResponse.getDefaultInstance(), observer);
  }

  @Override
  public void batchReEncrypt(
      BatchReEncryptRequest request, StreamObserver<BatchReEncryptResponse> observer) {
    answerDefault(request, BatchReEncryptResponse.getDefaultInstance(), observer);
  }
}
