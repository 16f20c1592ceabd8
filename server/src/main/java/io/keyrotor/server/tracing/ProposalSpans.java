package io.keyrotor.server.tracing;

import com.google.rpc.Code;
import io.keyrotor.consensus.KeyrotorStateMachine;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CommandResult;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The write path's spans on the node that proposes a command: {@code keyrotor.propose} (from the
 * proposal to its result), its child {@code keyrotor.raft.commit} (until the committed entry
 * reaches this node's state machine) and that span's child {@code keyrotor.apply} (the apply of the
 * command on this node).
 *
 * <p>The trace context travels with the command in memory only, keyed by its request id: nothing of
 * it enters the Raft log, so apply stays deterministic and the log is the same traced or not. The
 * apply listener runs on the state machine's thread before the proposal completes, so the proposing
 * leader always sees its own apply; a follower that proposed sees it when it applies the entry. At
 * most {@link #MAX_PENDING} commands wait for their apply; beyond that a command is traced without
 * its commit and apply spans, and commit spans older than {@link #ABANDONED_AFTER_NANOS} are ended
 * when room is needed (a node that never applies an entry it proposed, e.g. one removed meanwhile).
 */
@SuppressWarnings("try") // the Scope is held only to be closed
public final class ProposalSpans implements KeyrotorStateMachine.ApplyListener {
  /** The most commands whose commit span waits for their apply on this node. */
  static final int MAX_PENDING = 10_000;

  /** A commit span still waiting after this long is ended, unapplied, when room is needed. */
  static final long ABANDONED_AFTER_NANOS = TimeUnit.MINUTES.toNanos(1);

  static final AttributeKey<String> COMMAND = AttributeKey.stringKey("keyrotor.command");
  static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("keyrotor.outcome");
  static final AttributeKey<Long> LOG_INDEX = AttributeKey.longKey("keyrotor.raft.log_index");

  private record Pending(Span commit, long startedNanos) {}

  private final Tracer tracer;
  private final boolean enabled;
  private final Map<String, Pending> pending = new ConcurrentHashMap<>();

  ProposalSpans(Tracer tracer, boolean enabled) {
    this.tracer = tracer;
    this.enabled = enabled;
  }

  /**
   * Proposes {@code command} through {@code proposer} under a propose span, child of {@code
   * parent}; without a span in {@code parent} (a call nobody traces), it proposes untraced.
   */
  public CompletableFuture<CommandResult> propose(
      Context parent,
      Command command,
      Function<Command, CompletableFuture<CommandResult>> proposer) {
    String requestId = command.getRequestId();
    if (!enabled || !Span.fromContext(parent).getSpanContext().isValid()) {
      return proposer.apply(command);
    }
    Span propose =
        tracer
            .spanBuilder("keyrotor.propose")
            .setParent(parent)
            .setAttribute(COMMAND, command.getBodyCase().name())
            .startSpan();
    Context proposing = parent.with(propose);
    if (!requestId.isEmpty() && room()) {
      Span commit = tracer.spanBuilder("keyrotor.raft.commit").setParent(proposing).startSpan();
      if (pending.putIfAbsent(requestId, new Pending(commit, System.nanoTime())) != null) {
        commit.end();
      }
    }
    CompletableFuture<CommandResult> result;
    try (Scope unused = proposing.makeCurrent()) {
      result = proposer.apply(command);
    } catch (RuntimeException e) {
      failed(requestId, propose, e);
      throw e;
    }
    return result.whenComplete(
        (applied, error) -> {
          if (error != null) {
            failed(requestId, propose, error);
            return;
          }
          propose.setAttribute(OUTCOME, outcome(applied));
          propose.end();
        });
  }

  @Override
  public void applied(Command command, CommandResult result, long index, long nanos) {
    if (pending.isEmpty()) {
      return;
    }
    Pending waiting = pending.remove(command.getRequestId());
    if (waiting == null) {
      return;
    }
    Instant now = Instant.now();
    long endNanos = TimeUnit.SECONDS.toNanos(now.getEpochSecond()) + now.getNano();
    long startNanos = endNanos - nanos;
    waiting.commit().setAttribute(LOG_INDEX, index);
    waiting.commit().end(startNanos, TimeUnit.NANOSECONDS);
    tracer
        .spanBuilder("keyrotor.apply")
        .setParent(Context.root().with(waiting.commit()))
        .setStartTimestamp(startNanos, TimeUnit.NANOSECONDS)
        .setAttribute(COMMAND, command.getBodyCase().name())
        .setAttribute(LOG_INDEX, index)
        .setAttribute(OUTCOME, outcome(result))
        .startSpan()
        .end(endNanos, TimeUnit.NANOSECONDS);
  }

  /** How many commit spans wait for their apply (for tests). */
  int pending() {
    return pending.size();
  }

  private void failed(String requestId, Span propose, Throwable error) {
    Pending waiting = requestId.isEmpty() ? null : pending.remove(requestId);
    if (waiting != null) {
      waiting.commit().setStatus(StatusCode.ERROR, "not committed");
      waiting.commit().end();
    }
    // The exception's class only: a message may quote the request.
    Throwable cause = error.getCause() != null ? error.getCause() : error;
    propose.setStatus(StatusCode.ERROR, cause.getClass().getSimpleName());
    propose.end();
  }

  /** Whether another command may wait for its apply, ending abandoned ones if needed. */
  private boolean room() {
    if (pending.size() < MAX_PENDING) {
      return true;
    }
    long now = System.nanoTime();
    pending
        .entrySet()
        .removeIf(
            e -> {
              if (now - e.getValue().startedNanos() < ABANDONED_AFTER_NANOS) {
                return false;
              }
              e.getValue().commit().setStatus(StatusCode.ERROR, "not applied on this node");
              e.getValue().commit().end();
              return true;
            });
    return pending.size() < MAX_PENDING;
  }

  private static String outcome(CommandResult result) {
    Code code = Code.forNumber(result.getOutcome().getCode());
    return code == null ? String.valueOf(result.getOutcome().getCode()) : code.name();
  }
}
