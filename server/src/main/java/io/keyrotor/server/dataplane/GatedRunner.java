package io.keyrotor.server.dataplane;

import io.keyrotor.api.v1.ErrorReason;
import io.opentelemetry.context.Context;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Where and when a data-plane call's work runs: after the {@link ReadGate}, on the thread that
 * completed it when every key-encryption key the work needs is cached (no lock shared by all
 * requests), otherwise again on the slow-path executor, where it may ask the HSM; batches always
 * run there. Work whose key was evicted (and zeroed) under it runs again, a few times. Work that
 * must wait for a block of encryptions ({@link EncryptionReservations}) runs again on the slow path
 * once the block applied, without holding a thread meanwhile (on the slow path itself, it waits).
 * The caller's trace context goes with the work to whichever thread runs it, so the KEK lookups and
 * HSM unwraps are spans of the call.
 */
final class GatedRunner {
  /** How often one call retries after its key-encryption key was evicted under it. */
  private static final int MAX_EVICTION_RETRIES = 3;

  /** How often one call waits for a reservation of encryptions before it gives up. */
  private static final int MAX_RESERVATION_WAITS = 4;

  /** The longest a call on the slow path waits for one reservation. */
  private static final long RESERVATION_WAIT_SECONDS = 10;

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
    Context traced = Context.current();
    Executor tracedSlowPath = traced.wrap(slowPath);
    return gate.await(keyName)
        .thenCompose(
            traced.wrapFunction(
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
                        tracedSlowPath);
                  } catch (EncryptionReservations.NeedsReservation wait) {
                    return afterReservation(wait, work, 1);
                  } catch (DataPlaneException e) {
                    return CompletableFuture.failedFuture(e);
                  }
                }));
  }

  /** Runs {@code work} again on the slow path once the reservation {@code wait} names is done. */
  private <T> CompletableFuture<T> afterReservation(
      EncryptionReservations.NeedsReservation wait, Work<T> work, int waits) {
    Executor tracedSlowPath = Context.current().wrap(slowPath);
    return wait.future()
        .handle((ignored, failure) -> failure)
        .thenComposeAsync(
            failure -> {
              if (failure != null) {
                return CompletableFuture.failedFuture(failure);
              }
              try {
                return CompletableFuture.completedFuture(attemptOnce(work, true));
              } catch (EncryptionReservations.NeedsReservation again) {
                if (waits >= MAX_RESERVATION_WAITS) {
                  return CompletableFuture.failedFuture(reservationTooSlow());
                }
                return afterReservation(again, work, waits + 1);
              } catch (DataPlaneException e) {
                return CompletableFuture.failedFuture(e);
              }
            },
            tracedSlowPath);
  }

  private static DataPlaneException reservationTooSlow() {
    return new DataPlaneException(
        ErrorReason.ENCRYPTION_RESERVATION_UNAVAILABLE,
        "this node could not reserve encryptions under the key's version in time (other callers"
            + " used each block first); retry");
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
    Executor tracedSlowPath = Context.current().wrap(slowPath);
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
            tracedSlowPath);
  }

  /**
   * Runs {@code work}; on the slow path ({@code mayUnwrap}) it also waits here for reservations of
   * encryptions, elsewhere it throws {@link EncryptionReservations.NeedsReservation}.
   */
  private static <T> T attempt(Work<T> work, boolean mayUnwrap) throws DataPlaneException {
    if (!mayUnwrap) {
      return attemptOnce(work, false);
    }
    for (int waits = 1; ; waits++) {
      try {
        return attemptOnce(work, true);
      } catch (EncryptionReservations.NeedsReservation wait) {
        if (waits >= MAX_RESERVATION_WAITS) {
          throw reservationTooSlow();
        }
        awaitReservation(wait);
      }
    }
  }

  private static void awaitReservation(EncryptionReservations.NeedsReservation wait)
      throws DataPlaneException {
    try {
      wait.future().get(RESERVATION_WAIT_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DataPlaneException(
          ErrorReason.ENCRYPTION_RESERVATION_UNAVAILABLE,
          "interrupted while reserving encryptions");
    } catch (TimeoutException e) {
      throw new DataPlaneException(
          ErrorReason.ENCRYPTION_RESERVATION_UNAVAILABLE,
          "reserving encryptions through the log took longer than "
              + RESERVATION_WAIT_SECONDS
              + " s; retry");
    } catch (ExecutionException e) {
      if (e.getCause() instanceof DataPlaneException refused) {
        throw refused;
      }
      if (e.getCause() instanceof RuntimeException runtime) {
        throw runtime;
      }
      throw new CompletionException(e.getCause());
    }
  }

  private static <T> T attemptOnce(Work<T> work, boolean mayUnwrap) throws DataPlaneException {
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
