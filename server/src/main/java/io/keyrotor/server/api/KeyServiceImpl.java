package io.keyrotor.server.api;

import com.google.rpc.Code;
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
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.GenerateDataKeyRequest;
import io.keyrotor.api.v1.GenerateDataKeyResponse;
import io.keyrotor.api.v1.GetBulkRotationRequest;
import io.keyrotor.api.v1.GetKeyRequest;
import io.keyrotor.api.v1.Key;
import io.keyrotor.api.v1.KeyEvent;
import io.keyrotor.api.v1.KeyServiceGrpc;
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
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.api.v1.ScheduleKeyVersionDestroyRequest;
import io.keyrotor.api.v1.SetKeyDependentsRequest;
import io.keyrotor.api.v1.SetRotationPolicyRequest;
import io.keyrotor.api.v1.SetVersionFloorsRequest;
import io.keyrotor.api.v1.StartBulkRotationRequest;
import io.keyrotor.api.v1.WatchKeyEventsRequest;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.proto.internal.v1.BulkRotationRecord;
import io.keyrotor.proto.internal.v1.CancelRotation;
import io.keyrotor.proto.internal.v1.CancelVersionDestroy;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CommandResult;
import io.keyrotor.proto.internal.v1.CreateKey;
import io.keyrotor.proto.internal.v1.KeyEventRecord;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.Label;
import io.keyrotor.proto.internal.v1.RollbackRotation;
import io.keyrotor.proto.internal.v1.RotateKey;
import io.keyrotor.proto.internal.v1.RotationPolicyRecord;
import io.keyrotor.proto.internal.v1.ScheduleVersionDestroy;
import io.keyrotor.proto.internal.v1.SetDependents;
import io.keyrotor.proto.internal.v1.SetRotationPolicy;
import io.keyrotor.proto.internal.v1.SetVersionFloors;
import io.keyrotor.proto.internal.v1.SetVersionStatus;
import io.keyrotor.proto.internal.v1.StartBulkRotation;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.proto.internal.v1.WrappedKeyMaterial;
import io.keyrotor.server.dataplane.DataPlane;
import io.keyrotor.server.rotation.KekIssuer;
import io.keyrotor.storage.StateView;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * The key API. Writes are validated, given fresh key material wrapped by this node's HSM (plaintext
 * never leaves this method), and proposed through the Raft log; reads pass the linearizable read
 * barrier and then read the local applied state. Data-plane calls (data keys, encrypt, decrypt,
 * re-encrypt) are served by the {@link DataPlane}, never through the log; this class only turns
 * their outcomes into replies and statuses.
 */
public final class KeyServiceImpl extends KeyServiceGrpc.KeyServiceImplBase {

  private static final int DEFAULT_PAGE_SIZE = 100;
  private static final int MAX_PAGE_SIZE = 1000;

  private final ServerContext context;
  private final DataPlaneCalls dataPlaneCalls;
  private final KekIssuer kekIssuer;
  private final EventWatchers watchers;

  public KeyServiceImpl(ServerContext context, DataPlane dataPlane, EventWatchers watchers) {
    this.context = context;
    this.dataPlaneCalls = new DataPlaneCalls(dataPlane, context.errors());
    this.kekIssuer = new KekIssuer(context.hsm());
    this.watchers = watchers;
  }

  /**
   * Builds (validating the request: bad input is answered at once and nothing is proposed) and
   * proposes a command about one key; answers with the key as the command left it.
   */
  private void writeKey(
      StreamObserver<Key> response,
      String requestId,
      java.util.function.UnaryOperator<Command.Builder> body) {
    try {
      proposeForKey(body.apply(command(requestId)).build(), response);
    } catch (StatusRuntimeException e) {
      response.onError(e);
    }
  }

  /** Proposes a command about one key and answers with the key as the command left it. */
  private void proposeForKey(Command command, StreamObserver<Key> response) {
    propose(command, response, result -> KeyViews.toApi(result.getKey(), now()));
  }

  @Override
  public void createKey(CreateKeyRequest request, StreamObserver<Key> response) {
    try {
      String name = Requests.keyName(request.getName());
      String zone = Requests.zone(request.getZone());
      List<Label> labels = Requests.labels(request.getLabelsMap());
      RotationPolicyRecord policy =
          Requests.policy(
              request.getRotationPolicy(),
              request.hasRotationPolicy(),
              request.getTemplate(),
              context.config().rotation().minimumPeriod());
      long delay =
          Requests.activationDelay(request.hasActivationDelay(), request.getActivationDelay());
      if (context.raft().state().key(name).isPresent()) {
        throw ApiErrors.error(
            Code.ALREADY_EXISTS, ErrorReason.KEY_EXISTS, "key \"" + name + "\" already exists");
      }
      WrappedKeyMaterial kek = newWrappedKek(zone);
      Command command =
          command(request.getRequestId())
              .setCreateKey(
                  CreateKey.newBuilder()
                      .setName(name)
                      .setZone(zone)
                      .addAllLabels(labels)
                      .setPolicy(policy)
                      .setKek(kek)
                      .setActivationDelayMillis(Math.max(0, delay)))
              .build();
      propose(command, response, result -> KeyViews.toApi(result.getKey(), now()));
    } catch (StatusRuntimeException e) {
      response.onError(e);
    }
  }

  @Override
  public void getKey(GetKeyRequest request, StreamObserver<Key> response) {
    try {
      String name = Requests.keyName(request.getName());
      afterReadBarrier(response, store -> KeyViews.toApi(existing(store, name), now()));
    } catch (StatusRuntimeException e) {
      response.onError(e);
    }
  }

  @Override
  public void listKeys(ListKeysRequest request, StreamObserver<ListKeysResponse> response) {
    try {
      int pageSize = request.getPageSize() == 0 ? DEFAULT_PAGE_SIZE : request.getPageSize();
      if (pageSize > MAX_PAGE_SIZE) {
        throw ApiErrors.invalid(
            ErrorReason.INVALID_PAGE_SIZE,
            "page_size must be at most " + MAX_PAGE_SIZE + ", got " + pageSize);
      }
      String after = decodePageToken(request.getPageToken());
      String zone = request.getZone();
      Map<String, String> selector = request.getLabelSelectorMap();
      afterReadBarrier(
          response,
          store -> {
            long now = now();
            ListKeysResponse.Builder out = ListKeysResponse.newBuilder();
            var tail = after.isEmpty() ? store.keys() : store.keys().tailMap(after, false);
            String last = null;
            for (KeyRecord key : tail.values()) {
              if (out.getKeysCount() == pageSize) {
                out.setNextPageToken(encodePageToken(last));
                break;
              }
              last = key.getName();
              if (!zone.isEmpty() && !zone.equals(key.getZone())) {
                continue;
              }
              if (!matches(key, selector)) {
                continue;
              }
              out.addKeys(KeyViews.toApi(key, now));
            }
            return out.build();
          });
    } catch (StatusRuntimeException e) {
      response.onError(e);
    }
  }

  @Override
  public void rotateKey(RotateKeyRequest request, StreamObserver<RotateKeyResponse> response) {
    try {
      String name = Requests.keyName(request.getName());
      long requestedDelay =
          Requests.activationDelay(request.hasActivationDelay(), request.getActivationDelay());
      RotationReason reason =
          request.getReason() == RotationReason.ROTATION_REASON_UNSPECIFIED
              ? RotationReason.ROTATION_REASON_MANUAL
              : request.getReason();
      if (reason == RotationReason.UNRECOGNIZED) {
        throw ApiErrors.invalid(ErrorReason.INVALID_REASON, "unknown rotation reason");
      }
      String requestId = request.getRequestId();
      context
          .bounded(context.raft().readBarrier())
          .thenApply(
              index -> {
                KeyRecord key = existing(context.raft().state(), name);
                long delay = requestedDelay;
                if (delay < 0) {
                  long policyDelay = key.getPolicy().getActivationDelayMillis();
                  delay =
                      policyDelay >= 0
                          ? policyDelay
                          : context.config().defaultActivationDelay().toMillis();
                }
                return command(requestId)
                    .setRotateKey(
                        RotateKey.newBuilder()
                            .setName(name)
                            .setKek(newWrappedKek(key.getZone()))
                            .setActivationDelayMillis(delay)
                            .setReason(reason.getNumber())
                            .setExpectedLatestVersion(request.getExpectedLatestVersion()))
                    .build();
              })
          .thenCompose(command -> context.bounded(context.raft().propose(command)))
          .whenComplete(
              (result, failure) ->
                  reply(
                      response,
                      result,
                      failure,
                      r ->
                          RotateKeyResponse.newBuilder()
                              .setKey(KeyViews.toApi(r.getKey(), now()))
                              .setNewVersion(r.getOutcome().getVersion())
                              .setActivationTime(
                                  KeyViews.timestamp(r.getOutcome().getActivationTimeUnixMillis()))
                              .build()));
    } catch (StatusRuntimeException e) {
      response.onError(e);
    }
  }

  @Override
  public void disableKeyVersion(DisableKeyVersionRequest request, StreamObserver<Key> response) {
    setStatus(
        request.getName(),
        request.getVersion(),
        VersionStatus.VERSION_STATUS_DISABLED,
        request.getRequestId(),
        response);
  }

  @Override
  public void enableKeyVersion(EnableKeyVersionRequest request, StreamObserver<Key> response) {
    setStatus(
        request.getName(),
        request.getVersion(),
        VersionStatus.VERSION_STATUS_ENABLED,
        request.getRequestId(),
        response);
  }

  private void setStatus(
      String rawName,
      long rawVersion,
      VersionStatus status,
      String requestId,
      StreamObserver<Key> response) {
    try {
      String name = Requests.keyName(rawName);
      int version = Requests.version(rawVersion);
      Command command =
          command(requestId)
              .setSetVersionStatus(
                  SetVersionStatus.newBuilder().setName(name).setVersion(version).setStatus(status))
              .build();
      propose(command, response, result -> KeyViews.toApi(result.getKey(), now()));
    } catch (StatusRuntimeException e) {
      response.onError(e);
    }
  }

  @Override
  public void setRotationPolicy(SetRotationPolicyRequest request, StreamObserver<Key> response) {
    try {
      String name = Requests.keyName(request.getName());
      RotationPolicyRecord policy =
          Requests.policy(
              request.getRotationPolicy(),
              request.hasRotationPolicy(),
              request.getTemplate(),
              context.config().rotation().minimumPeriod());
      Command command =
          command(request.getRequestId())
              .setSetRotationPolicy(SetRotationPolicy.newBuilder().setName(name).setPolicy(policy))
              .build();
      propose(command, response, result -> KeyViews.toApi(result.getKey(), now()));
    } catch (StatusRuntimeException e) {
      response.onError(e);
    }
  }

  @Override
  public void scheduleKeyVersionDestroy(
      ScheduleKeyVersionDestroyRequest request, StreamObserver<Key> response) {
    try {
      String name = Requests.keyName(request.getName());
      int version = Requests.version(request.getVersion());
      var settings = context.config().rotation();
      long waiting =
          request.hasWaitingPeriod()
              ? Requests.millis(request.getWaitingPeriod(), "waiting_period")
              : settings.destroyDefaultWait().toMillis();
      if (waiting < settings.destroyMinimumWait().toMillis()) {
        throw ApiErrors.invalid(
            ErrorReason.WAITING_PERIOD_TOO_SHORT,
            "waiting_period "
                + java.time.Duration.ofMillis(waiting)
                + " is below this cluster's minimum of "
                + settings.destroyMinimumWait()
                + " (keys.destroy-minimum-wait)");
      }
      proposeForKey(
          command(request.getRequestId())
              .setScheduleVersionDestroy(
                  ScheduleVersionDestroy.newBuilder()
                      .setName(name)
                      .setVersion(version)
                      .setWaitingPeriodMillis(waiting))
              .build(),
          response);
    } catch (StatusRuntimeException e) {
      response.onError(e);
    }
  }

  @Override
  public void cancelKeyVersionDestroy(
      CancelKeyVersionDestroyRequest request, StreamObserver<Key> response) {
    writeKey(
        response,
        request.getRequestId(),
        c ->
            c.setCancelVersionDestroy(
                CancelVersionDestroy.newBuilder()
                    .setName(Requests.keyName(request.getName()))
                    .setVersion(Requests.version(request.getVersion()))));
  }

  @Override
  public void cancelRotation(CancelRotationRequest request, StreamObserver<Key> response) {
    writeKey(
        response,
        request.getRequestId(),
        c ->
            c.setCancelRotation(
                CancelRotation.newBuilder()
                    .setName(Requests.keyName(request.getName()))
                    .setVersion(Requests.version(request.getVersion()))
                    .setReason(
                        request.getReason().isEmpty()
                            ? "cancelled by an operator"
                            : request.getReason())));
  }

  @Override
  public void rollbackRotation(RollbackRotationRequest request, StreamObserver<Key> response) {
    writeKey(
        response,
        request.getRequestId(),
        c ->
            c.setRollbackRotation(
                RollbackRotation.newBuilder()
                    .setName(Requests.keyName(request.getName()))
                    .setVersion(Requests.version(request.getVersion()))
                    .setReason(request.getReason())
                    .setEffectiveTimeUnixMillis(
                        request.hasEffectiveTime()
                            ? Requests.millis(request.getEffectiveTime(), "effective_time")
                            : 0)));
  }

  @Override
  public void setVersionFloors(SetVersionFloorsRequest request, StreamObserver<Key> response) {
    writeKey(
        response,
        request.getRequestId(),
        c ->
            c.setSetVersionFloors(
                SetVersionFloors.newBuilder()
                    .setName(Requests.keyName(request.getName()))
                    .setMinDecryptionVersion(request.getMinDecryptionVersion())
                    .setMinEncryptionVersion(request.getMinEncryptionVersion())));
  }

  @Override
  public void setKeyDependents(SetKeyDependentsRequest request, StreamObserver<Key> response) {
    writeKey(
        response,
        request.getRequestId(),
        c -> {
          java.util.TreeSet<String> dependents = new java.util.TreeSet<>();
          for (String dependent : request.getDependentsList()) {
            dependents.add(Requests.keyName(dependent));
          }
          return c.setSetDependents(
              SetDependents.newBuilder()
                  .setName(Requests.keyName(request.getName()))
                  .addAllDependents(dependents));
        });
  }

  @Override
  public void startBulkRotation(
      StartBulkRotationRequest request, StreamObserver<BulkRotation> response) {
    try {
      String zone = request.getZone().isEmpty() ? "" : Requests.zone(request.getZone());
      List<Label> selector = Requests.labels(request.getLabelSelectorMap());
      if (zone.isEmpty() && selector.isEmpty()) {
        throw ApiErrors.invalid(
            ErrorReason.SELECTOR_REQUIRED,
            "a bulk rotation needs a zone or a label selector (rotating every key of the cluster"
                + " at once is refused)");
      }
      String id = Requests.requestId(request.getRequestId());
      Command command =
          command(id)
              .setStartBulkRotation(
                  StartBulkRotation.newBuilder()
                      .setJobId(id)
                      .setZone(zone)
                      .addAllLabelSelector(selector)
                      .setReason(request.getReason().getNumber()))
              .build();
      context
          .bounded(context.raft().propose(command))
          .whenComplete(
              (result, failure) ->
                  reply(
                      response,
                      result,
                      failure,
                      r -> bulkRotation(context.raft().state(), id).orElseThrow()));
    } catch (StatusRuntimeException e) {
      response.onError(e);
    }
  }

  @Override
  public void getBulkRotation(
      GetBulkRotationRequest request, StreamObserver<BulkRotation> response) {
    afterReadBarrier(
        response,
        store ->
            bulkRotation(store, request.getId())
                .orElseThrow(
                    () ->
                        ApiErrors.error(
                            Code.NOT_FOUND,
                            ErrorReason.JOB_NOT_FOUND,
                            "no bulk rotation \"" + request.getId() + "\"")));
  }

  private static java.util.Optional<BulkRotation> bulkRotation(StateView store, String id) {
    BulkRotationRecord job = store.bulkRotations().get(id);
    if (job == null) {
      return java.util.Optional.empty();
    }
    String marker = "bulk:" + id;
    long remaining =
        store.keys().values().stream()
            .filter(k -> marker.equals(k.getRotationRequestedBy()))
            .count();
    BulkRotation.Builder out =
        BulkRotation.newBuilder()
            .setId(id)
            .setZone(job.getZone())
            .setReason(
                java.util.Objects.requireNonNullElse(
                    RotationReason.forNumber(job.getReason()),
                    RotationReason.ROTATION_REASON_UNSPECIFIED))
            .setStartTime(KeyViews.timestamp(job.getStartTimeUnixMillis()))
            .setTotal(job.getTotal())
            .setRemaining(remaining);
    for (Label label : job.getLabelSelectorList()) {
      out.putLabelSelector(label.getKey(), label.getValue());
    }
    return java.util.Optional.of(out.build());
  }

  @Override
  public void listRotations(
      ListRotationsRequest request, StreamObserver<ListRotationsResponse> response) {
    try {
      long window =
          request.hasDueWithin()
              ? Requests.millis(request.getDueWithin(), "due_within")
              : Long.MAX_VALUE;
      afterReadBarrier(response, store -> RotationViews.list(store, now(), window));
    } catch (StatusRuntimeException e) {
      response.onError(e);
    }
  }

  @Override
  public void listKeyEvents(
      ListKeyEventsRequest request, StreamObserver<ListKeyEventsResponse> response) {
    try {
      String name = Requests.keyName(request.getName());
      int limit = request.getLimit() == 0 ? 1000 : Math.min(request.getLimit(), 10_000);
      afterReadBarrier(
          response,
          store -> {
            existing(store, name);
            ListKeyEventsResponse.Builder out = ListKeyEventsResponse.newBuilder();
            for (KeyEventRecord event : store.keyEvents(name, limit)) {
              out.addEvents(RotationViews.event(event));
            }
            return out.build();
          });
    } catch (StatusRuntimeException e) {
      response.onError(e);
    }
  }

  @Override
  public void generateDataKey(
      GenerateDataKeyRequest request, StreamObserver<GenerateDataKeyResponse> response) {
    replyFromDataPlane(response, dataPlaneCalls.generateDataKey(request, true));
  }

  @Override
  public void generateDataKeyWithoutPlaintext(
      GenerateDataKeyRequest request, StreamObserver<GenerateDataKeyResponse> response) {
    replyFromDataPlane(response, dataPlaneCalls.generateDataKey(request, false));
  }

  @Override
  public void encrypt(EncryptRequest request, StreamObserver<EncryptResponse> response) {
    replyFromDataPlane(response, dataPlaneCalls.encrypt(request));
  }

  @Override
  public void decrypt(DecryptRequest request, StreamObserver<DecryptResponse> response) {
    replyFromDataPlane(response, dataPlaneCalls.decrypt(request));
  }

  @Override
  public void reEncrypt(ReEncryptRequest request, StreamObserver<ReEncryptResponse> response) {
    replyFromDataPlane(response, dataPlaneCalls.reEncrypt(request));
  }

  @Override
  public void batchDecrypt(
      BatchDecryptRequest request, StreamObserver<BatchDecryptResponse> response) {
    replyFromDataPlane(response, dataPlaneCalls.batchDecrypt(request));
  }

  @Override
  public void batchReEncrypt(
      BatchReEncryptRequest request, StreamObserver<BatchReEncryptResponse> response) {
    replyFromDataPlane(response, dataPlaneCalls.batchReEncrypt(request));
  }

  /** Replies with the data plane's result, or with the status its failure maps to. */
  private <T> void replyFromDataPlane(StreamObserver<T> response, CompletableFuture<T> result) {
    context
        .bounded(result)
        .whenComplete(
            (value, failure) -> {
              if (failure != null) {
                response.onError(dataPlaneStatus(failure));
                return;
              }
              response.onNext(value);
              response.onCompleted();
            });
  }

  /** The status of a data-plane failure: refusals, HSM failures, or the read barrier's. */
  private StatusRuntimeException dataPlaneStatus(Throwable failure) {
    return context.errors().toStatus(failure);
  }

  @Override
  public void watchKeyEvents(WatchKeyEventsRequest request, StreamObserver<KeyEvent> response) {
    try {
      watchers.watch(request, response);
    } catch (StatusRuntimeException e) {
      response.onError(e);
    }
  }

  /**
   * A fresh key-encryption key, wrapped by this node's HSM under the zone's master key. The
   * plaintext exists only inside this method and is zeroed before it returns.
   */
  private WrappedKeyMaterial newWrappedKek(String zone) {
    if (!context.config().zones().contains(zone) || !context.hsm().zones().contains(zone)) {
      throw zoneNotHeld(zone);
    }
    try {
      return kekIssuer.newWrappedKek(zone);
    } catch (HsmException e) {
      if (e.reason() == HsmException.Reason.ZONE_NOT_HELD) {
        throw zoneNotHeld(zone);
      }
      throw ApiErrors.fromHsm(e, zone);
    }
  }

  /** FAILED_PRECONDITION naming the nodes that hold the zone, or NOT_FOUND if none does. */
  private StatusRuntimeException zoneNotHeld(String zone) {
    return context.errors().zoneNotHeld(zone);
  }

  private Command.Builder command(String requestId) {
    return Command.newBuilder()
        .setRequestId(Requests.requestId(requestId))
        .setOriginNode(context.config().nodeId());
  }

  private <T> void propose(
      Command command, StreamObserver<T> response, Function<CommandResult, T> toResponse) {
    context
        .bounded(context.raft().propose(command))
        .whenComplete((result, failure) -> reply(response, result, failure, toResponse));
  }

  private <T> void reply(
      StreamObserver<T> response,
      CommandResult result,
      Throwable failure,
      Function<CommandResult, T> toResponse) {
    if (failure != null) {
      response.onError(context.errors().toStatus(failure));
      return;
    }
    if (result.getOutcome().getCode() != Code.OK_VALUE) {
      response.onError(ApiErrors.fromOutcome(result.getOutcome()));
      return;
    }
    try {
      response.onNext(toResponse.apply(result));
      response.onCompleted();
    } catch (StatusRuntimeException e) {
      response.onError(e);
    }
  }

  private <T> void afterReadBarrier(StreamObserver<T> response, Function<StateView, T> read) {
    CompletableFuture<Long> barrier = context.bounded(context.raft().readBarrier());
    barrier.whenComplete(
        (index, failure) -> {
          if (failure != null) {
            response.onError(context.errors().toStatus(failure));
            return;
          }
          try {
            response.onNext(read.apply(context.raft().state()));
            response.onCompleted();
          } catch (StatusRuntimeException e) {
            response.onError(e);
          }
        });
  }

  private static KeyRecord existing(StateView store, String name) {
    Optional<KeyRecord> key = store.key(name);
    if (key.isEmpty()) {
      throw ApiErrors.keyNotFound(name);
    }
    return key.get();
  }

  private static boolean matches(KeyRecord key, Map<String, String> selector) {
    for (Map.Entry<String, String> wanted : selector.entrySet()) {
      boolean found = false;
      for (Label label : key.getLabelsList()) {
        if (label.getKey().equals(wanted.getKey()) && label.getValue().equals(wanted.getValue())) {
          found = true;
          break;
        }
      }
      if (!found) {
        return false;
      }
    }
    return true;
  }

  private static String encodePageToken(String lastName) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(("after:" + lastName).getBytes(StandardCharsets.UTF_8));
  }

  private static String decodePageToken(String token) {
    if (token.isEmpty()) {
      return "";
    }
    try {
      String decoded = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
      if (decoded.startsWith("after:")) {
        return decoded.substring("after:".length());
      }
    } catch (IllegalArgumentException e) {
      // fall through
    }
    throw ApiErrors.invalid(
        ErrorReason.INVALID_PAGE_TOKEN, "page_token is not one this server returned");
  }

  private long now() {
    return context.clock().millis();
  }
}
