package io.keyrotor.server.dataplane;

import io.keyrotor.api.v1.ErrorReason;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;

/**
 * Where and when a data-plane call's work runs: after the {@link ReadGate}, on the thread that
 * completed it when every key-encryption key the work needs is cached (no lock shared by all
 * requests), otherwise again on the slow-path executor, where it may ask the HSM; batches always
 * run there. Work whose key was evicted (and zeroed) under it runs again, a few times.
 */
final class GatedRunner {
  /** How often one call retries after its key-encryption key was evicted under it. */
  private static final int MAX_EVICTION_RETRIES = 3;

  private final ReadGate gate;
  private final Executor slowPath;

  /**
   * @param gate the read barrier every call passes first
   * @param slowPath where HSM unwraps and batches run (never a Raft thread)
   */
  GatedRunner(ReadGate gate, Executor slowPath) {
    this.gate = gate;
    this.slowPath = slowPath;
  }

  /** One unit of work after the barrier; {@code mayUnwrap} false means "cache hits only". */
  @FunctionalInterface
  interface Work<T> {
    T run(boolean mayUnwrap) throws DataPlaneException;
  }

  /** The work of one batch item, after its validation (which may refuse the item alone). */
  @FunctionalInterface
  interface ItemWork<I, T> {
    Work<T> validated(I item) throws DataPlaneException;
  }

  /**
   * Passes the gate, then runs {@code work} on the thread that completed it if every key it needs
   * is cached; otherwise again on the slow-path executor, where it may ask the HSM.
   */
  <T> CompletableFuture<T> serve(String keyName, Work<T> work) {
    return gate.await(keyName)
        .thenCompose(
            ignored -> {
              try {
                return CompletableFuture.completedFuture(attempt(work, false));
              } catch (KeyResolver.NeedsUnwrap slow) {
                return CompletableFuture.supplyAsync(
                    () -> {
                      try {
                        return attempt(work, true);
                      } catch (DataPlaneException e) {
                        throw new CompletionException(e);
                      }
                    },
                    slowPath);
              } catch (DataPlaneException e) {
                return CompletableFuture.failedFuture(e);
              }
            });
  }

  /** Waits for the gate, then runs {@code work} on the calling thread (unwrapping on a miss). */
  <T> T runHere(String keyName, Work<T> work) throws DataPlaneException {
    try {
      gate.await(keyName).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DataPlaneException(
          ErrorReason.HSM_UNAVAILABLE, "interrupted while waiting for the barrier");
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException runtime) {
        throw runtime;
      }
      throw new CompletionException(cause);
    }
    return attempt(work, true);
  }

  /**
   * Passes the gate once (for no key in particular), then validates and runs every item on the
   * slow-path executor; an item's refusal is its outcome, not the batch's.
   */
  <I, T> CompletableFuture<List<DataPlane.ItemOutcome<T>>> batch(
      List<I> items, ItemWork<I, T> itemWork) {
    return gate.await(null)
        .thenApplyAsync(
            ignored -> {
              List<DataPlane.ItemOutcome<T>> out = new ArrayList<>(items.size());
              for (I item : items) {
                try {
                  out.add(
                      new DataPlane.ItemOutcome<>(attempt(itemWork.validated(item), true), null));
                } catch (DataPlaneException e) {
                  out.add(new DataPlane.ItemOutcome<>(null, e));
                }
              }
              return out;
            },
            slowPath);
  }

  private static <T> T attempt(Work<T> work, boolean mayUnwrap) throws DataPlaneException {
    for (int attempt = 1; ; attempt++) {
      try {
        return work.run(mayUnwrap);
      } catch (Envelopes.KekEvicted evicted) {
        if (attempt == MAX_EVICTION_RETRIES) {
          throw new DataPlaneException(
              ErrorReason.HSM_UNAVAILABLE,
              "the key-encryption key was evicted from the cache while in use, repeatedly; retry");
        }
      }
    }
  }
}
