package io.keyrotor.server.api;

import com.google.protobuf.ByteString;
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
import io.keyrotor.api.v1.DestructionReceipt;
import io.keyrotor.api.v1.DisableKeyVersionRequest;
import io.keyrotor.api.v1.EnableKeyVersionRequest;
import io.keyrotor.api.v1.EncryptRequest;
import io.keyrotor.api.v1.EncryptResponse;
import io.keyrotor.api.v1.GenerateDataKeyRequest;
import io.keyrotor.api.v1.GenerateDataKeyResponse;
import io.keyrotor.api.v1.GetBulkRotationRequest;
import io.keyrotor.api.v1.GetDestructionReceiptRequest;
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
import io.keyrotor.api.v1.ScheduleKeyVersionDestroyRequest;
import io.keyrotor.api.v1.SetKeyDependentsRequest;
import io.keyrotor.api.v1.SetRotationPolicyRequest;
import io.keyrotor.api.v1.SetVersionFloorsRequest;
import io.keyrotor.api.v1.StartBulkRotationRequest;
import io.keyrotor.api.v1.WatchKeyEventsRequest;
import io.keyrotor.proto.internal.v1.CommandResult;
import io.keyrotor.server.access.Operation;
import io.keyrotor.server.access.Target;
import io.keyrotor.server.api.KeyWriteInputs.BulkRotationJob;
import io.keyrotor.server.api.KeyWriteInputs.Dependents;
import io.keyrotor.server.api.KeyWriteInputs.DestroyCancellation;
import io.keyrotor.server.api.KeyWriteInputs.DestroySchedule;
import io.keyrotor.server.api.KeyWriteInputs.NewKey;
import io.keyrotor.server.api.KeyWriteInputs.PolicyChange;
import io.keyrotor.server.api.KeyWriteInputs.Rollback;
import io.keyrotor.server.api.KeyWriteInputs.Rotation;
import io.keyrotor.server.api.KeyWriteInputs.RotationCancellation;
import io.keyrotor.server.api.KeyWriteInputs.VersionFloors;
import io.keyrotor.server.api.KeyWriteInputs.VersionStatusChange;
import io.keyrotor.server.audit.DataAuditLog;
import io.keyrotor.server.config.LimitSettings;
import io.keyrotor.server.config.RotationSettings;
import io.keyrotor.server.dataplane.CiphertextFormat;
import io.keyrotor.server.dataplane.DataPlane;
import io.keyrotor.server.dataplane.DataPlaneException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The key API, an adapter from gRPC to the node: writes become checked inputs ({@link
 * KeyWriteInputs}) and commands ({@link KeyWrites}) that the {@link WritePath} authorises, builds,
 * proposes and answers; reads ({@link KeyReads}) pass the linearizable read barrier and render the
 * applied state ({@link KeyViews}, {@link KeyListing}, {@link RotationViews}, {@link
 * BulkRotationViews}); data-plane calls go to the {@link DataPlane} through {@link DataPlaneCalls},
 * never through the log. Every answer and failure goes through {@link Calls} and the one {@link
 * ErrorMapper}.
 */
public final class KeyServiceImpl extends KeyServiceGrpc.KeyServiceImplBase {
  private final ServerContext context;
  private final RotationSettings settings;
  private final LimitSettings limits;
  private final Calls calls;
  private final KeyReads reads;
  private final WritePath writes;
  private final KeyWrites commands;
  private final TemplateZones templateZones;
  private final DataPlaneCalls dataPlane;
  private final EventWatchers watchers;
  private final AuditedCalls audit;

  /** A key service that writes no data audit records (in-process tests). */
  public KeyServiceImpl(
      ServerContext context, DataPlane dataPlane, EventWatchers watchers, WritePath writes) {
    this(context, dataPlane, watchers, writes, null);
  }

  /**
   * @param auditOrNull where the data plane's calls, key reads and refused writes are audited
   *     ({@code audit.data.*}); null for none
   */
  public KeyServiceImpl(
      ServerContext context,
      DataPlane dataPlane,
      EventWatchers watchers,
      WritePath writes,
      DataAuditLog auditOrNull) {
    this.context = context;
    this.audit =
        new AuditedCalls(
            auditOrNull,
            context.config().dataAudit().failClosed(),
            context.errors(),
            context.clock(),
            context.requestTimeout());
    this.settings = context.config().rotation();
    this.limits = context.config().limits();
    this.calls = new Calls(context);
    this.reads = new KeyReads(calls, context.clock());
    this.writes = writes;
    this.templateZones = new TemplateZones(context.config().compliance());
    this.commands = new KeyWrites(context.config().defaultActivationDelay(), limits, templateZones);
    this.dataPlane = new DataPlaneCalls(dataPlane, context.errors(), writes.authorizer(), limits);
    this.watchers = watchers;
  }

  // ---------------------------------------------------------------- writes (through the log)

  @Override
  public void createKey(CreateKeyRequest request, StreamObserver<Key> response) {
    writeKey(
        response,
        () -> commands.create(NewKey.of(request, settings.minimumPeriod(), limits, templateZones)));
  }

  @Override
  public void rotateKey(RotateKeyRequest request, StreamObserver<RotateKeyResponse> response) {
    write(response, () -> commands.rotate(Rotation.of(request)), r -> KeyViews.rotated(r, now()));
  }

  @Override
  public void disableKeyVersion(DisableKeyVersionRequest request, StreamObserver<Key> response) {
    writeKey(response, () -> commands.setVersionStatus(VersionStatusChange.disable(request)));
  }

  @Override
  public void enableKeyVersion(EnableKeyVersionRequest request, StreamObserver<Key> response) {
    writeKey(response, () -> commands.setVersionStatus(VersionStatusChange.enable(request)));
  }

  @Override
  public void setRotationPolicy(SetRotationPolicyRequest request, StreamObserver<Key> response) {
    writeKey(
        response,
        () -> commands.setRotationPolicy(PolicyChange.of(request, settings.minimumPeriod())));
  }

  @Override
  public void scheduleKeyVersionDestroy(
      ScheduleKeyVersionDestroyRequest request, StreamObserver<Key> response) {
    writeKey(
        response, () -> commands.scheduleVersionDestroy(DestroySchedule.of(request, settings)));
  }

  @Override
  public void cancelKeyVersionDestroy(
      CancelKeyVersionDestroyRequest request, StreamObserver<Key> response) {
    writeKey(response, () -> commands.cancelVersionDestroy(DestroyCancellation.of(request)));
  }

  @Override
  public void cancelRotation(CancelRotationRequest request, StreamObserver<Key> response) {
    writeKey(response, () -> commands.cancelRotation(RotationCancellation.of(request, limits)));
  }

  @Override
  public void rollbackRotation(RollbackRotationRequest request, StreamObserver<Key> response) {
    writeKey(response, () -> commands.rollbackRotation(Rollback.of(request, limits)));
  }

  @Override
  public void setVersionFloors(SetVersionFloorsRequest request, StreamObserver<Key> response) {
    writeKey(response, () -> commands.setVersionFloors(VersionFloors.of(request)));
  }

  @Override
  public void setKeyDependents(SetKeyDependentsRequest request, StreamObserver<Key> response) {
    writeKey(response, () -> commands.setDependents(Dependents.of(request, limits)));
  }

  @Override
  public void startBulkRotation(
      StartBulkRotationRequest request, StreamObserver<BulkRotation> response) {
    calls.answer(
        response,
        () -> {
          BulkRotationJob job = BulkRotationJob.of(request, limits);
          return writes // then the job as this node shows it once it applied the command
              .submit(commands.startBulkRotation(job))
              .thenCompose(
                  result ->
                      calls.afterReadBarrier(state -> BulkRotationViews.get(state, job.jobId())));
        });
  }

  /** Runs the write {@code write} makes and answers with the key as its command left it. */
  private void writeKey(StreamObserver<Key> response, Supplier<Write> write) {
    write(response, write, result -> KeyViews.toApi(result.getKey(), now()));
  }

  /** Runs the write {@code write} makes (validating first) and answers with {@code reply}. */
  private <T> void write(
      StreamObserver<T> response, Supplier<Write> write, Function<CommandResult, T> reply) {
    calls.answer(
        response,
        () -> {
          Write checked = write.get();
          return audit
              .auditedIfRefused(
                  checked.operation(), checked.target().keyName(), writes.submit(checked))
              .thenApply(reply);
        });
  }

  // ---------------------------------------------------------------- reads (after the barrier)

  @Override
  public void getKey(GetKeyRequest request, StreamObserver<Key> response) {
    read(
        response,
        Operation.GET_KEY,
        Target.key(request.getName()),
        () -> reads.getKey(request),
        key -> AuditedCalls.Facts.key(key.getName(), 0));
  }

  @Override
  public void listKeys(ListKeysRequest request, StreamObserver<ListKeysResponse> response) {
    read(response, Operation.LIST_KEYS, Target.cluster(), () -> reads.listKeys(request), null);
  }

  @Override
  public void getBulkRotation(
      GetBulkRotationRequest request, StreamObserver<BulkRotation> response) {
    read(
        response,
        Operation.GET_BULK_ROTATION,
        Target.cluster(),
        () -> reads.getBulkRotation(request),
        null);
  }

  @Override
  public void listRotations(
      ListRotationsRequest request, StreamObserver<ListRotationsResponse> response) {
    read(
        response,
        Operation.LIST_ROTATIONS,
        Target.cluster(),
        () -> reads.listRotations(request),
        null);
  }

  @Override
  public void listKeyEvents(
      ListKeyEventsRequest request, StreamObserver<ListKeyEventsResponse> response) {
    read(
        response,
        Operation.LIST_KEY_EVENTS,
        Target.key(request.getName()),
        () -> reads.listKeyEvents(request),
        null);
  }

  @Override
  public void getDestructionReceipt(
      GetDestructionReceiptRequest request, StreamObserver<DestructionReceipt> response) {
    read(
        response,
        Operation.GET_DESTRUCTION_RECEIPT,
        Target.key(request.getName()),
        () -> reads.destructionReceipt(request),
        receipt -> AuditedCalls.Facts.key(request.getName(), request.getVersion()));
  }

  @Override
  public void watchKeyEvents(WatchKeyEventsRequest request, StreamObserver<KeyEvent> response) {
    try {
      if (request.getKeyNamesCount() == 0) {
        writes.authorize(Operation.WATCH_KEY_EVENTS, Target.cluster());
      }
      for (String name : request.getKeyNamesList()) {
        writes.authorize(Operation.WATCH_KEY_EVENTS, Target.key(name));
      }
      watchers.watch(request, response);
    } catch (RuntimeException e) {
      response.onError(calls.toStatus(e));
    }
  }

  /**
   * Answers a read once the caller is authorised for {@code operation} on {@code target}, audited
   * (refusal included) with the key {@code facts} reads from the reply (null: the target's).
   */
  private <T> void read(
      StreamObserver<T> response,
      Operation operation,
      Target target,
      Supplier<CompletableFuture<T>> read,
      Function<T, AuditedCalls.Facts> factsOrNull) {
    calls.answer(
        response,
        () -> {
          CompletableFuture<T> result;
          try {
            writes.authorize(operation, target);
            result = read.get();
          } catch (RuntimeException refused) {
            result = CompletableFuture.failedFuture(refused);
          }
          return audit.audited(
              operation,
              target::keyName,
              result,
              factsOrNull != null
                  ? factsOrNull
                  : value -> AuditedCalls.Facts.key(target.keyName(), 0));
        });
  }

  // ---------------------------------------------------------------- the data plane (no log)

  @Override
  public void generateDataKey(
      GenerateDataKeyRequest request, StreamObserver<GenerateDataKeyResponse> response) {
    serve(
        response,
        Operation.GENERATE_DATA_KEY,
        request::getKeyName,
        dataPlane.generateDataKey(request, true),
        r -> AuditedCalls.Facts.key(r.getKeyName(), r.getKeyVersion()));
  }

  @Override
  public void generateDataKeyWithoutPlaintext(
      GenerateDataKeyRequest request, StreamObserver<GenerateDataKeyResponse> response) {
    serve(
        response,
        Operation.GENERATE_DATA_KEY_WITHOUT_PLAINTEXT,
        request::getKeyName,
        dataPlane.generateDataKey(request, false),
        r -> AuditedCalls.Facts.key(r.getKeyName(), r.getKeyVersion()));
  }

  @Override
  public void encrypt(EncryptRequest request, StreamObserver<EncryptResponse> response) {
    serve(
        response,
        Operation.ENCRYPT,
        request::getKeyName,
        dataPlane.encrypt(request),
        r -> AuditedCalls.Facts.key(r.getKeyName(), r.getKeyVersion()));
  }

  @Override
  public void decrypt(DecryptRequest request, StreamObserver<DecryptResponse> response) {
    serve(
        response,
        Operation.DECRYPT,
        () -> keyOfCiphertext(request.getCiphertext()),
        dataPlane.decrypt(request),
        r -> AuditedCalls.Facts.key(r.getKeyName(), r.getKeyVersion()));
  }

  @Override
  public void reEncrypt(ReEncryptRequest request, StreamObserver<ReEncryptResponse> response) {
    serve(
        response,
        Operation.RE_ENCRYPT,
        () -> keyOfCiphertext(request.getCiphertext()),
        dataPlane.reEncrypt(request),
        r ->
            new AuditedCalls.Facts(
                keyOfCiphertext(request.getCiphertext()),
                r.getSourceKeyVersion(),
                r.getKeyName(),
                0,
                0));
  }

  @Override
  public void batchDecrypt(
      BatchDecryptRequest request, StreamObserver<BatchDecryptResponse> response) {
    serve(
        response,
        Operation.BATCH_DECRYPT,
        () -> "",
        dataPlane.batchDecrypt(request),
        r ->
            batchFacts(
                r.getItemsCount(),
                r.getItemsList().stream()
                    .filter(i -> i.getStatus().getCode() == 0)
                    .map(i -> i.getResult().getKeyName())
                    .toList()));
  }

  @Override
  public void batchReEncrypt(
      BatchReEncryptRequest request, StreamObserver<BatchReEncryptResponse> response) {
    serve(
        response,
        Operation.BATCH_RE_ENCRYPT,
        () -> "",
        dataPlane.batchReEncrypt(request),
        r ->
            batchFacts(
                r.getItemsCount(),
                r.getItemsList().stream()
                    .filter(i -> i.getStatus().getCode() == 0)
                    .map(i -> i.getResult().getKeyName())
                    .toList()));
  }

  /** A batch's items and failures, naming its key when every item that succeeded used one. */
  private static AuditedCalls.Facts batchFacts(int items, List<String> succeededKeys) {
    String key = succeededKeys.stream().distinct().count() == 1 ? succeededKeys.get(0) : "";
    return new AuditedCalls.Facts(key, 0, "", items, items - succeededKeys.size());
  }

  /** The key a ciphertext's header names, or "" when it does not parse. */
  private static String keyOfCiphertext(ByteString ciphertext) {
    try {
      return CiphertextFormat.parse(ciphertext.toByteArray()).keyName();
    } catch (DataPlaneException malformed) {
      return "";
    }
  }

  /** Answers a data-plane call, bounded by the request timeout and audited. */
  private <T> void serve(
      StreamObserver<T> response,
      Operation operation,
      Supplier<String> keyOnFailure,
      CompletableFuture<T> result,
      Function<T, AuditedCalls.Facts> facts) {
    calls.answer(
        response, () -> audit.audited(operation, keyOnFailure, calls.bounded(result), facts));
  }

  private long now() {
    return context.clock().millis();
  }
}
