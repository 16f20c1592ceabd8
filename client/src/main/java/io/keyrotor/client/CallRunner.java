package io.keyrotor.client;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.keyrotor.api.v1.ErrorReason;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Runs one logical call of {@link KeyrotorClient} as attempts against the cluster's endpoints: the
 * leader first when known, {@code NOT_LEADER} hints followed at once, a failed endpoint followed by
 * the next one, jittered backoff once every endpoint failed in a round, all under the call's
 * overall deadline; and a fresh request id for each logical write, reused on every attempt.
 * Idempotent reads may be hedged ({@link HedgedReads}). While an election is under way (NO_LEADER)
 * the client polls at most {@link #ELECTION_POLL_STEPS} backoff steps apart instead of backing off
 * further: the next answer names the new leader. Thread-safe.
 */
final class CallRunner {

  /** How a call may be retried. */
  enum RetryMode {
    /** Reads, and writes that carry a request id: any UNAVAILABLE or timed-out attempt. */
    SAFE,
    /** Calls without a request id that change something: only UNAVAILABLE. */
    UNAVAILABLE_ONLY
  }

  /** One attempt of a call against one endpoint, with the attempt's own timeout. */
  @FunctionalInterface
  interface Attempt<T> {
    T run(EndpointPool.Endpoint endpoint, long timeoutNanos);
  }

  /** One attempt of a write, given the request as sent (with its request id). */
  @FunctionalInterface
  interface WriteAttempt<M, T> {
    T run(EndpointPool.Endpoint endpoint, long timeoutNanos, M sent);
  }

  private final EndpointPool pool;
  private final LeaderDiscovery discovery;
  private final Duration deadline;
  private final Duration attemptTimeout;
  private final Backoff backoff;
  private final Clock clock;
  private final Sleeper sleeper;
  private final Supplier<String> requestIds;
  private final HedgedReads hedging;

  /**
   * The backoff step NO_LEADER waits stop growing at (with the default 50 ms initial backoff, a
   * ceiling of 200 ms): an election ends within an election timeout, and a longer sleep would only
   * delay the first call after it.
   */
  static final int ELECTION_POLL_STEPS = 2;

  /**
   * @param attemptTimeout the longest one attempt may take; at most {@code deadline}
   */
  CallRunner(
      EndpointPool pool,
      LeaderDiscovery discovery,
      Duration deadline,
      Duration attemptTimeout,
      Backoff backoff,
      Clock clock,
      Sleeper sleeper,
      Supplier<String> requestIds,
      HedgedReads hedging) {
    this.hedging = hedging;
    this.pool = pool;
    this.discovery = discovery;
    this.deadline = deadline;
    this.attemptTimeout = attemptTimeout;
    this.backoff = backoff;
    this.clock = clock;
    this.sleeper = sleeper;
    this.requestIds = requestIds;
  }

  /** The overall deadline of each call. */
  Duration deadline() {
    return deadline;
  }

  /** A call that changes nothing (or carries no log entry): retried on any retryable failure. */
  <T> T read(String rpc, Attempt<T> attempt) {
    return execute(rpc, RetryMode.SAFE, attempt, null);
  }

  /**
   * A read that changes and counts nothing, so it may be sent twice: hedged on another node when
   * the first call has no answer within the hedge delay (when hedging is on).
   */
  <T> T idempotentRead(String rpc, Attempt<T> attempt) {
    if (hedging == null) {
      return read(rpc, attempt);
    }
    return hedging.run(
        (avoid, attempting) -> execute(rpc, RetryMode.SAFE, attempt, null, avoid, attempting));
  }

  /** The hedging of idempotent reads, or null when it is off. */
  HedgedReads hedging() {
    return hedging;
  }

  /**
   * A write with a request id: {@code request} keeps its own {@code request_id} or gets a fresh
   * one, and that request is sent on every attempt, so the server applies it once.
   */
  <M extends Message, T> T write(String rpc, M request, WriteAttempt<M, T> attempt) {
    M sent = withRequestId(request);
    discovery.discoverIfUnknown();
    return execute(rpc, RetryMode.SAFE, (e, t) -> attempt.run(e, t, sent), null);
  }

  /** A change that carries no request id: retried on UNAVAILABLE only. */
  <T> T writeWithoutRequestId(String rpc, Attempt<T> attempt) {
    discovery.discoverIfUnknown();
    return execute(rpc, RetryMode.UNAVAILABLE_ONLY, attempt, null);
  }

  /** A call to the node at {@code address} only, retried there. */
  <T> T on(String address, String rpc, RetryMode mode, Attempt<T> attempt) {
    return execute(rpc, mode, attempt, address);
  }

  /** {@code request} as it is if it has a request id, else with a fresh one. */
  private <M extends Message> M withRequestId(M request) {
    FieldDescriptor field = request.getDescriptorForType().findFieldByName("request_id");
    if (field == null) {
      throw new IllegalArgumentException(
          request.getDescriptorForType().getFullName() + " has no request_id");
    }
    String id = (String) request.getField(field);
    if (!id.isEmpty()) {
      return request;
    }
    @SuppressWarnings("unchecked") // a message's builder builds a message of the same type
    M stamped = (M) request.toBuilder().setField(field, requestIds.get()).build();
    return stamped;
  }

  /**
   * Runs attempts until one succeeds, a final error arrives, or the deadline is spent.
   *
   * @param pinned the only endpoint to use, or null to choose (leader first) and fail over
   */
  private <T> T execute(String rpc, RetryMode mode, Attempt<T> attempt, String pinned) {
    return execute(rpc, mode, attempt, pinned, Set.of(), target -> {});
  }

  /**
   * As above; the first choice avoids {@code avoid} when another endpoint is left, and {@code
   * attempting} hears of every endpoint an attempt goes to (a hedge avoids the busy one).
   */
  private <T> T execute(
      String rpc,
      RetryMode mode,
      Attempt<T> attempt,
      String pinned,
      Set<String> avoid,
      Consumer<String> attempting) {
    Instant start = clock.instant();
    Instant deadlineAt = start.plus(deadline);
    Set<String> triedThisRound = new HashSet<>();
    Set<String> tried = new LinkedHashSet<>();
    int backoffs = 0;
    int attempts = 0;
    boolean connectionFailed = false;
    KeyrotorException last = null;
    KeyrotorException lastServerError = null;
    KeyrotorException verdict = null; // what the call gives up with if it gives up now
    String target = pinned != null ? pinned : pool.pick(avoid);
    if (target == null) {
      target = pool.pick(triedThisRound);
    }
    while (true) {
      Duration remaining = Duration.between(clock.instant(), deadlineAt);
      if (attempts > 0 && (remaining.isNegative() || remaining.isZero())) {
        throw giveUp(rpc, verdict, lastServerError, connectionFailed, attempts, tried, start);
      }
      long timeoutNanos = Math.max(1, Math.min(remaining.toNanos(), attemptTimeout.toNanos()));
      attempts++;
      tried.add(target);
      attempting.accept(target);
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
      // An attempt of a safe call that only the call's own deadline cut short says nothing about
      // the cluster: if the call gives up now, the server's last answer is its reason.
      verdict =
          !fromServer
                  && code == Status.Code.DEADLINE_EXCEEDED
                  && mode == RetryMode.SAFE
                  && timeoutNanos < attemptTimeout.toNanos()
                  && lastServerError != null
              ? lastServerError
              : last;
      if (last.hasReason(ErrorReason.QUOTA_EXCEEDED) || last.hasReason(ErrorReason.HSM_BUSY)) {
        // Nothing was done; the server said when the caller's quota (or the node's HSM queue) has
        // room again. Wait that long and ask the same node, if the call's deadline allows it.
        Optional<Duration> wait = last.retryDelay();
        if (wait.isPresent() && sleepUntilBefore(wait.get(), deadlineAt)) {
          continue;
        }
        throw last;
      }
      connectionFailed |= !fromServer && code == Status.Code.UNAVAILABLE;
      boolean retryable =
          code == Status.Code.UNAVAILABLE
              || (code == Status.Code.DEADLINE_EXCEEDED && mode == RetryMode.SAFE);
      if (!retryable) {
        throw last;
      }
      if (pinned != null) {
        if (!sleepBeforeRetry(backoffs++, deadlineAt)) {
          throw giveUp(rpc, verdict, lastServerError, connectionFailed, attempts, tried, start);
        }
        continue;
      }
      if (last.hasReason(ErrorReason.NOT_LEADER)) {
        String hint = LeaderDiscovery.validAddressOrNull(last.metadata().get("leader"));
        if (hint != null && pool.followHint(hint, target)) {
          triedThisRound.add(target);
          if (!triedThisRound.contains(hint)) {
            target = hint;
            continue; // follow the hint at once
          }
        } else {
          // No hint, or one to an address outside the cluster (ignored): the next endpoint.
          pool.forgetLeader(target);
        }
      } else if (last.hasReason(ErrorReason.NO_LEADER)
          || last.hasReason(ErrorReason.CLOCK_UNSAFE)) {
        // An election is under way (or the leader, whose clock disagrees with the cluster's, is
        // handing leadership over); any node will know the new leader (or forward) after it.
        pool.forgetLeader(pool.leaderOrNull());
        if (!sleepBeforeRetry(Math.min(backoffs++, ELECTION_POLL_STEPS), deadlineAt)) {
          throw giveUp(rpc, verdict, lastServerError, connectionFailed, attempts, tried, start);
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
          throw giveUp(rpc, verdict, lastServerError, connectionFailed, attempts, tried, start);
        }
        triedThisRound.clear();
        next = pool.pick(triedThisRound);
      }
      target = next;
    }
  }

  /** Sleeps {@code delay} unless that would reach the deadline; false if it would. */
  private boolean sleepUntilBefore(Duration delay, Instant deadlineAt) {
    if (!clock.instant().plus(delay).isBefore(deadlineAt)) {
      return false;
    }
    try {
      sleeper.sleep(delay);
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw KeyrotorException.clientSide(
          Status.Code.CANCELLED, ErrorReason.INTERRUPTED, "interrupted while waiting to retry", e);
    }
  }

  /**
   * Sleeps the next backoff delay unless that would reach the deadline.
   *
   * @return false if there is no time left for another attempt
   */
  private boolean sleepBeforeRetry(int backoffIndex, Instant deadlineAt) {
    if (!sleepUntilBefore(backoff.delay(backoffIndex), deadlineAt)) {
      return false;
    }
    pool.resetConnectBackoff();
    return true;
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
      if (last.getMessage().startsWith(KeyrotorException.TLS_FAILURE)) {
        message += " (" + last.getMessage() + ")"; // reachable, but not trusted (or not trusting)
      }
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
}
