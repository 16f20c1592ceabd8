package io.keyrotor.server.api;

import io.keyrotor.api.v1.BulkRotation;
import io.keyrotor.api.v1.DestructionReceipt;
import io.keyrotor.api.v1.GetBulkRotationRequest;
import io.keyrotor.api.v1.GetDestructionReceiptRequest;
import io.keyrotor.api.v1.GetKeyRequest;
import io.keyrotor.api.v1.Key;
import io.keyrotor.api.v1.ListKeyEventsRequest;
import io.keyrotor.api.v1.ListKeyEventsResponse;
import io.keyrotor.api.v1.ListKeysRequest;
import io.keyrotor.api.v1.ListKeysResponse;
import io.keyrotor.api.v1.ListRotationsRequest;
import io.keyrotor.api.v1.ListRotationsResponse;
import java.time.Clock;
import java.util.concurrent.CompletableFuture;

/**
 * KeyService's reads: the request is validated (INVALID_ARGUMENT before anything else), the call
 * passes the linearizable read barrier, and the answer is a view of this node's applied state at
 * its serving clock (floored at the last applied command's time, see {@code
 * AppliedTimeFloorClock}).
 */
final class KeyReads {
  /** Events ListKeyEvents returns when the request names no limit, and the most it returns. */
  static final int DEFAULT_EVENT_LIMIT = 1000;

  static final int MAX_EVENT_LIMIT = 10_000;

  private final Calls calls;
  private final Clock clock;

  KeyReads(Calls calls, Clock clock) {
    this.calls = calls;
    this.clock = clock;
  }

  CompletableFuture<Key> getKey(GetKeyRequest request) {
    String name = Requests.keyName(request.getName());
    return calls.afterReadBarrier(
        state -> KeyViews.toApi(KeyViews.existing(state, name), clock.millis()));
  }

  CompletableFuture<ListKeysResponse> listKeys(ListKeysRequest request) {
    KeyListing listing = KeyListing.of(request);
    return calls.afterReadBarrier(state -> listing.page(state, clock.millis()));
  }

  CompletableFuture<BulkRotation> getBulkRotation(GetBulkRotationRequest request) {
    return calls.afterReadBarrier(state -> BulkRotationViews.get(state, request.getId()));
  }

  CompletableFuture<ListRotationsResponse> listRotations(ListRotationsRequest request) {
    long window =
        request.hasDueWithin()
            ? Requests.millis(request.getDueWithin(), "due_within")
            : Long.MAX_VALUE;
    return calls.afterReadBarrier(state -> RotationViews.list(state, clock.millis(), window));
  }

  CompletableFuture<DestructionReceipt> destructionReceipt(GetDestructionReceiptRequest request) {
    String name = Requests.keyName(request.getName());
    int version = Requests.version(request.getVersion());
    return calls.afterReadBarrier(state -> DestructionReceiptViews.receipt(state, name, version));
  }

  CompletableFuture<ListKeyEventsResponse> listKeyEvents(ListKeyEventsRequest request) {
    String name = Requests.keyName(request.getName());
    int limit =
        request.getLimit() == 0
            ? DEFAULT_EVENT_LIMIT
            : Math.min(request.getLimit(), MAX_EVENT_LIMIT);
    return calls.afterReadBarrier(state -> RotationViews.keyEvents(state, name, limit));
  }
}
