package io.keyrotor.server.api;

import com.google.protobuf.UnsafeByteOperations;
import com.google.rpc.Code;
import io.grpc.StatusRuntimeException;
import io.keyrotor.api.v1.BatchDecryptRequest;
import io.keyrotor.api.v1.BatchDecryptResponse;
import io.keyrotor.api.v1.BatchReEncryptRequest;
import io.keyrotor.api.v1.BatchReEncryptResponse;
import io.keyrotor.api.v1.DecryptRequest;
import io.keyrotor.api.v1.DecryptResponse;
import io.keyrotor.api.v1.EncryptRequest;
import io.keyrotor.api.v1.EncryptResponse;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.GenerateDataKeyRequest;
import io.keyrotor.api.v1.GenerateDataKeyResponse;
import io.keyrotor.api.v1.ItemStatus;
import io.keyrotor.api.v1.ReEncryptRequest;
import io.keyrotor.api.v1.ReEncryptResponse;
import io.keyrotor.crypto.EncryptionContext;
import io.keyrotor.crypto.InvalidEncryptionContextException;
import io.keyrotor.server.access.Authorizer;
import io.keyrotor.server.access.Operation;
import io.keyrotor.server.access.Target;
import io.keyrotor.server.config.LimitSettings;
import io.keyrotor.server.config.LimitSettings.Limit;
import io.keyrotor.server.dataplane.CiphertextFormat;
import io.keyrotor.server.dataplane.DataKeySpec;
import io.keyrotor.server.dataplane.DataPlane;
import io.keyrotor.server.dataplane.DataPlaneException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * The gRPC side of the data plane: turns KeyService's data-plane requests into the {@link
 * DataPlane}'s inputs (bytes, maps, {@link DataKeySpec}) and its results into replies, with a
 * status per item for batches (through the one {@link ErrorMapper}). The plaintext of an Encrypt is
 * copied out of the request once and zeroed when the call completes; a reply's plaintext is
 * wrapped, not copied.
 */
final class DataPlaneCalls {
  private static final ItemStatus OK_ITEM = ItemStatus.newBuilder().setCode(Code.OK_VALUE).build();

  private final DataPlane dataPlane;
  private final ErrorMapper errors;
  private final Authorizer authorizer;
  private final int batchItems;
  private final int contextBytes;

  /**
   * @param authorizer decides every call on the calling thread, before the key is resolved: the key
   *     the request names (or the ciphertext's header names) with the call's encryption context
   * @param limits items per batch ({@code limits.batch-items}) and the largest encryption context
   *     ({@code limits.context-bytes}), refused before authorisation and the read barrier
   */
  DataPlaneCalls(
      DataPlane dataPlane, ErrorMapper errors, Authorizer authorizer, LimitSettings limits) {
    this.dataPlane = dataPlane;
    this.errors = errors;
    this.authorizer = authorizer;
    this.batchItems = limits.get(Limit.BATCH_ITEMS);
    this.contextBytes = limits.get(Limit.CONTEXT_BYTES);
  }

  /** INVALID_ARGUMENT BATCH_TOO_LARGE for a batch of more than {@code limits.batch-items}. */
  private void checkBatch(int items) {
    if (items > batchItems) {
      throw Requests.overLimit(
          "items",
          ErrorReason.BATCH_TOO_LARGE,
          Limit.BATCH_ITEMS,
          batchItems,
          "the batch has " + items + " items; this node takes at most " + batchItems + " per call");
    }
  }

  /**
   * INVALID_ARGUMENT INVALID_CONTEXT for a context whose canonical encoding is above {@code
   * limits.context-bytes}. A context that breaks the encoding's own rules is left to the data
   * plane, which says which rule.
   */
  private void checkContext(Map<String, String> context) {
    if (context == null
        || context.isEmpty()
        || contextBytes >= EncryptionContext.MAX_ENCODED_BYTES) {
      return;
    }
    int length;
    try {
      length = EncryptionContext.of(context).encodedLength();
    } catch (InvalidEncryptionContextException e) {
      return;
    }
    if (length > contextBytes) {
      throw Requests.overLimit(
          "context",
          ErrorReason.INVALID_CONTEXT,
          Limit.CONTEXT_BYTES,
          contextBytes,
          "the encryption context encodes to "
              + length
              + " bytes; this node takes at most "
              + contextBytes);
    }
  }

  /**
   * Checks {@code context}'s size, then authorises {@code operation} on the key named {@code
   * keyName} with it.
   */
  private void authorize(Operation operation, String keyName, Map<String, String> context) {
    checkContext(context);
    WritePath.authorize(authorizer, operation, Target.key(keyName), context);
  }

  /**
   * Authorises {@code operation} on the key a ciphertext's header names. A ciphertext that does not
   * parse names no key: the caller must still be authenticated, and the data plane then refuses it
   * as malformed (INVALID_ARGUMENT) without touching a key.
   */
  private void authorizeCiphertext(
      Operation operation, byte[] ciphertext, Map<String, String> context) {
    String keyName;
    try {
      keyName = CiphertextFormat.parse(ciphertext).keyName();
    } catch (DataPlaneException malformed) {
      checkContext(context);
      // GetNodeStatus needs an authenticated caller and no permission: exactly this check.
      WritePath.authorize(authorizer, Operation.GET_NODE_STATUS, Target.cluster(), context);
      return;
    }
    authorize(operation, keyName, context);
  }

  /** Fails {@code work}'s future with the status of an authorisation it throws. */
  private static <T> CompletableFuture<T> guarded(Supplier<CompletableFuture<T>> work) {
    try {
      return work.get();
    } catch (StatusRuntimeException refused) {
      return CompletableFuture.failedFuture(refused);
    }
  }

  /** GenerateDataKey, or GenerateDataKeyWithoutPlaintext when not {@code withPlaintext}. */
  CompletableFuture<GenerateDataKeyResponse> generateDataKey(
      GenerateDataKeyRequest request, boolean withPlaintext) {
    DataKeySpec spec;
    try {
      authorize(
          withPlaintext
              ? Operation.GENERATE_DATA_KEY
              : Operation.GENERATE_DATA_KEY_WITHOUT_PLAINTEXT,
          request.getKeyName(),
          request.getContextMap());
      spec = spec(request.getSpec());
    } catch (StatusRuntimeException refused) {
      return CompletableFuture.failedFuture(refused);
    } catch (DataPlaneException e) {
      return CompletableFuture.failedFuture(e);
    }
    return dataPlane
        .generateDataKeyAsync(request.getKeyName(), request.getContextMap(), spec, withPlaintext)
        .thenApply(
            key -> {
              GenerateDataKeyResponse.Builder out =
                  GenerateDataKeyResponse.newBuilder()
                      .setKeyName(key.keyName())
                      .setKeyVersion(key.keyVersion())
                      .setWrappedDataKey(UnsafeByteOperations.unsafeWrap(key.wrappedDataKey()));
              if (key.plaintextOrNull() != null) {
                out.setPlaintext(UnsafeByteOperations.unsafeWrap(key.plaintextOrNull()));
              }
              return out.build();
            });
  }

  CompletableFuture<EncryptResponse> encrypt(EncryptRequest request) {
    try {
      authorize(Operation.ENCRYPT, request.getKeyName(), request.getContextMap());
    } catch (StatusRuntimeException refused) {
      return CompletableFuture.failedFuture(refused);
    }
    byte[] plaintext = request.getPlaintext().toByteArray();
    return dataPlane
        .encryptAsync(request.getKeyName(), plaintext, request.getContextMap())
        .whenComplete((result, failure) -> Arrays.fill(plaintext, (byte) 0))
        .thenApply(
            encrypted ->
                EncryptResponse.newBuilder()
                    .setKeyName(encrypted.keyName())
                    .setKeyVersion(encrypted.keyVersion())
                    .setCiphertext(UnsafeByteOperations.unsafeWrap(encrypted.ciphertext()))
                    .build());
  }

  CompletableFuture<DecryptResponse> decrypt(DecryptRequest request) {
    byte[] ciphertext = request.getCiphertext().toByteArray();
    return guarded(
        () -> {
          authorizeCiphertext(Operation.DECRYPT, ciphertext, request.getContextMap());
          return dataPlane
              .decryptAsync(ciphertext, request.getContextMap())
              .thenApply(DataPlaneCalls::reply);
        });
  }

  CompletableFuture<ReEncryptResponse> reEncrypt(ReEncryptRequest request) {
    DataPlane.ReEncryption item = reEncryption(request);
    return guarded(
        () -> {
          authorizeReEncryption(Operation.RE_ENCRYPT, Operation.RE_ENCRYPT_DESTINATION, item);
          return dataPlane.reEncryptAsync(item).thenApply(DataPlaneCalls::reply);
        });
  }

  /** The source key's DECRYPT and the destination key's ENCRYPT, each with its context. */
  private void authorizeReEncryption(
      Operation source, Operation destination, DataPlane.ReEncryption item) {
    authorizeCiphertext(source, item.ciphertext(), item.context());
    authorize(
        destination,
        item.destinationKeyName(),
        item.destinationContextOrNull() == null ? item.context() : item.destinationContextOrNull());
  }

  CompletableFuture<BatchDecryptResponse> batchDecrypt(BatchDecryptRequest request) {
    try {
      checkBatch(request.getItemsCount());
    } catch (StatusRuntimeException refused) {
      return CompletableFuture.failedFuture(refused);
    }
    List<DataPlane.Decryption> items =
        request.getItemsList().stream()
            .map(i -> new DataPlane.Decryption(i.getCiphertext().toByteArray(), i.getContextMap()))
            .toList();
    try {
      // A batch is one call: refused whole when any item's key is not permitted.
      for (DataPlane.Decryption item : items) {
        authorizeCiphertext(Operation.BATCH_DECRYPT, item.ciphertext(), item.context());
      }
    } catch (StatusRuntimeException refused) {
      return CompletableFuture.failedFuture(refused);
    }
    return dataPlane
        .batchDecryptAsync(items)
        .thenApply(
            outcomes -> {
              BatchDecryptResponse.Builder out = BatchDecryptResponse.newBuilder();
              for (DataPlane.ItemOutcome<DataPlane.Decrypted> outcome : outcomes) {
                var item = out.addItemsBuilder().setStatus(itemStatus(outcome));
                if (outcome.errorOrNull() == null) {
                  item.setResult(reply(outcome.resultOrNull()));
                }
              }
              return out.build();
            });
  }

  CompletableFuture<BatchReEncryptResponse> batchReEncrypt(BatchReEncryptRequest request) {
    try {
      checkBatch(request.getItemsCount());
    } catch (StatusRuntimeException refused) {
      return CompletableFuture.failedFuture(refused);
    }
    List<DataPlane.ReEncryption> items =
        request.getItemsList().stream().map(DataPlaneCalls::reEncryption).toList();
    try {
      for (DataPlane.ReEncryption item : items) {
        authorizeReEncryption(
            Operation.BATCH_RE_ENCRYPT, Operation.BATCH_RE_ENCRYPT_DESTINATION, item);
      }
    } catch (StatusRuntimeException refused) {
      return CompletableFuture.failedFuture(refused);
    }
    return dataPlane
        .batchReEncryptAsync(items)
        .thenApply(
            outcomes -> {
              BatchReEncryptResponse.Builder out = BatchReEncryptResponse.newBuilder();
              for (DataPlane.ItemOutcome<DataPlane.ReEncrypted> outcome : outcomes) {
                var item = out.addItemsBuilder().setStatus(itemStatus(outcome));
                if (outcome.errorOrNull() == null) {
                  item.setResult(reply(outcome.resultOrNull()));
                }
              }
              return out.build();
            });
  }

  /** OK for a result, else the status of the item's refusal (through the one error mapper). */
  private ItemStatus itemStatus(DataPlane.ItemOutcome<?> outcome) {
    return outcome.errorOrNull() == null
        ? OK_ITEM
        : ApiErrors.itemStatus(errors.toStatus(outcome.errorOrNull()));
  }

  /** The data plane's spec for the API's; UNSPECIFIED is AES-256. */
  static DataKeySpec spec(io.keyrotor.api.v1.DataKeySpec spec) throws DataPlaneException {
    return switch (spec) {
      case DATA_KEY_SPEC_UNSPECIFIED, DATA_KEY_SPEC_AES_256 -> DataKeySpec.AES_256;
      case DATA_KEY_SPEC_AES_128 -> DataKeySpec.AES_128;
      default ->
          throw new DataPlaneException(
              ErrorReason.INVALID_DATA_KEY_SPEC,
              "unknown data key spec " + spec + "; use DATA_KEY_SPEC_AES_256 or _AES_128");
    };
  }

  private static DataPlane.ReEncryption reEncryption(ReEncryptRequest request) {
    return new DataPlane.ReEncryption(
        request.getCiphertext().toByteArray(),
        request.getContextMap(),
        request.getDestinationKeyName(),
        request.hasDestinationContext() ? request.getDestinationContext().getPairsMap() : null);
  }

  private static DecryptResponse reply(DataPlane.Decrypted opened) {
    return DecryptResponse.newBuilder()
        .setKeyName(opened.keyName())
        .setKeyVersion(opened.keyVersion())
        .setPlaintext(UnsafeByteOperations.unsafeWrap(opened.plaintext()))
        .build();
  }

  private static ReEncryptResponse reply(DataPlane.ReEncrypted moved) {
    return ReEncryptResponse.newBuilder()
        .setKeyName(moved.keyName())
        .setSourceKeyVersion(moved.sourceKeyVersion())
        .setKeyVersion(moved.keyVersion())
        .setCiphertext(UnsafeByteOperations.unsafeWrap(moved.ciphertext()))
        .build();
  }
}
