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
import io.keyrotor.api.v1.CancelKeyVersionDestroyRequest;
import io.keyrotor.api.v1.CreateKeyRequest;
import io.keyrotor.api.v1.DecryptRequest;
import io.keyrotor.api.v1.DecryptResponse;
import io.keyrotor.api.v1.DisableKeyVersionRequest;
import io.keyrotor.api.v1.EnableKeyVersionRequest;
import io.keyrotor.api.v1.EncryptRequest;
import io.keyrotor.api.v1.EncryptResponse;
import io.keyrotor.api.v1.GenerateDataKeyRequest;
import io.keyrotor.api.v1.GenerateDataKeyResponse;
import io.keyrotor.api.v1.GetKeyRequest;
import io.keyrotor.api.v1.Key;
import io.keyrotor.api.v1.KeyServiceGrpc;
import io.keyrotor.api.v1.KeyVersion;
import io.keyrotor.api.v1.KeyVersionState;
import io.keyrotor.api.v1.ListKeysRequest;
import io.keyrotor.api.v1.ListKeysResponse;
import io.keyrotor.api.v1.ReEncryptRequest;
import io.keyrotor.api.v1.ReEncryptResponse;
import io.keyrotor.api.v1.RotateKeyRequest;
import io.keyrotor.api.v1.RotateKeyResponse;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.api.v1.ScheduleKeyVersionDestroyRequest;
import io.keyrotor.api.v1.SetRotationPolicyRequest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
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
    observer.onNext((T) earlier);
    observer.onCompleted();
    return true;
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
      outcomesByRequestId.put(request.getRequestId(), key);
      observer.onNext(key);
      observer.onCompleted();
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
    observer.onNext(key);
    observer.onCompleted();
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
    observer.onNext(page.build());
    observer.onCompleted();
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
      outcomesByRequestId.put(request.getRequestId(), response);
      observer.onNext(response);
      observer.onCompleted();
    }
  }

  @Override
  public void disableKeyVersion(DisableKeyVersionRequest request, StreamObserver<Key> observer) {
    if (failed(request, observer)) {
      return;
    }
    setState(
        request.getName(),
        request.getVersion(),
        KeyVersionState.KEY_VERSION_STATE_DISABLED,
        observer);
  }

  @Override
  public void enableKeyVersion(EnableKeyVersionRequest request, StreamObserver<Key> observer) {
    if (failed(request, observer)) {
      return;
    }
    setState(
        request.getName(),
        request.getVersion(),
        KeyVersionState.KEY_VERSION_STATE_DECRYPT_ONLY,
        observer);
  }

  /** Records the request and answers with a default response (or a scripted failure). */
  private <T extends Message> void answerDefault(
      Message request, T response, StreamObserver<T> observer) {
    if (failed(request, observer)) {
      return;
    }
    observer.onNext(response);
    observer.onCompleted();
  }

  @Override
  public void scheduleKeyVersionDestroy(
      ScheduleKeyVersionDestroyRequest request, StreamObserver<Key> observer) {
    answerDefault(request, Key.newBuilder().setName(request.getName()).build(), observer);
  }

  @Override
  public void cancelKeyVersionDestroy(
      CancelKeyVersionDestroyRequest request, StreamObserver<Key> observer) {
    answerDefault(request, Key.newBuilder().setName(request.getName()).build(), observer);
  }

  @Override
  public void setRotationPolicy(SetRotationPolicyRequest request, StreamObserver<Key> observer) {
    answerDefault(request, Key.newBuilder().setName(request.getName()).build(), observer);
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
    answerDefault(
        request,
        GenerateDataKeyResponse.newBuilder().setKeyName(request.getKeyName()).build(),
        observer);
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

  private void setState(
      String name, int version, KeyVersionState state, StreamObserver<Key> observer) {
    synchronized (keys) {
      Key key = keys.get(name);
      if (key == null) {
        observer.onError(GrpcErrors.keyNotFound(name));
        return;
      }
      if (version < 1 || version > key.getVersionsCount()) {
        observer.onError(
            GrpcErrors.error(
                Status.Code.NOT_FOUND,
                "VERSION_NOT_FOUND",
                "key \"" + name + "\" has no version " + version,
                Map.of("key", name, "version", Integer.toString(version))));
        return;
      }
      Key.Builder changed = key.toBuilder();
      changed.setVersions(version - 1, key.getVersions(version - 1).toBuilder().setState(state));
      changed.setRevision(key.getRevision() + 1);
      Key result = changed.build();
      keys.put(name, result);
      observer.onNext(result);
      observer.onCompleted();
    }
  }
}
