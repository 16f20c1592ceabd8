package io.keyrotor.consensus;

import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CommandBatch;
import io.keyrotor.proto.internal.v1.CommandResult;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * Group commit: gathers the client commands proposed while this node's previous proposal is in
 * flight into one {@code CommandBatch} log entry, so a burst of writes costs one Raft round (one
 * append, one replication, one apply hand-off) instead of one each. See {@link GroupCommitConfig}.
 *
 * <p>Each caller gets its own result: apply answers a batch with one result per command, and a
 * command refused by the rules is a result like any other, so it never fails its neighbours. A
 * batch the group could not commit (no leader, timeout) fails each of its callers with that
 * failure; they retry with their request ids, which apply deduplicates wherever the retry lands.
 *
 * <p>The waiting queue holds at most the commands callers have in flight, which the server bounds
 * (its flow control), and empties by up to {@code maxCommands} a round.
 */
final class GroupCommitProposer {
  private final Function<Command, CompletableFuture<CommandResult>> send;
  private final GroupCommitConfig config;
  private final BooleanSupplier enabled;
  private final ArrayDeque<Pending> waiting = new ArrayDeque<>();
  private final AtomicLong entries = new AtomicLong();
  private final AtomicLong batchedCommands = new AtomicLong();
  private int inFlight;

  private record Pending(Command command, CompletableFuture<CommandResult> reply) {}

  /**
   * @param send proposes one log entry and completes with its apply result
   * @param enabled asked for every command: whether it may be gathered now (the configuration's
   *     switch, and whatever else must allow batch entries, such as the cluster's version)
   */
  GroupCommitProposer(
      Function<Command, CompletableFuture<CommandResult>> send,
      GroupCommitConfig config,
      BooleanSupplier enabled) {
    this.send = send;
    this.config = config;
    this.enabled = () -> config.enabled() && enabled.getAsBoolean();
  }

  /** Proposes {@code command}, alone or with others, and completes with its own result. */
  CompletableFuture<CommandResult> propose(Command command) {
    if (!gatherable(command) || !enabled.getAsBoolean()) {
      entries.incrementAndGet();
      return send.apply(command);
    }
    Pending pending = new Pending(command, new CompletableFuture<>());
    List<Pending> round;
    synchronized (waiting) {
      waiting.add(pending);
      round = nextRound();
    }
    if (round != null) {
      dispatch(round);
    }
    return pending.reply();
  }

  /** Log entries this proposer sent (a batch counts once). */
  long entriesProposed() {
    return entries.get();
  }

  /** Commands that went out inside a batch entry. */
  long commandsInBatches() {
    return batchedCommands.get();
  }

  /**
   * Commands with a request id (every client write has one), so a retry after a failed batch is
   * deduplicated; the rest go alone.
   */
  private static boolean gatherable(Command command) {
    return !command.getRequestId().isEmpty() && !command.hasBatch();
  }

  /** The commands to send now, or null when the in-flight slots are taken or none waits. */
  private List<Pending> nextRound() {
    if (inFlight >= config.maxInFlight() || waiting.isEmpty()) {
      return null;
    }
    List<Pending> round = new ArrayList<>(Math.min(waiting.size(), config.maxCommands()));
    long bytes = 0;
    while (!waiting.isEmpty() && round.size() < config.maxCommands()) {
      int size = waiting.peek().command().getSerializedSize();
      if (!round.isEmpty() && bytes + size > config.maxBytes()) {
        break;
      }
      bytes += size;
      round.add(waiting.poll());
    }
    inFlight++;
    return round;
  }

  private void dispatch(List<Pending> round) {
    entries.incrementAndGet();
    CompletableFuture<CommandResult> sent;
    try {
      if (round.size() == 1) {
        sent = send.apply(round.get(0).command());
      } else {
        batchedCommands.addAndGet(round.size());
        CommandBatch.Builder batch = CommandBatch.newBuilder();
        round.forEach(p -> batch.addCommands(p.command()));
        sent = send.apply(Command.newBuilder().setBatch(batch).build());
      }
    } catch (RuntimeException e) {
      sent = CompletableFuture.failedFuture(e);
    }
    var unused = sent.whenComplete((result, failure) -> finished(round, result, failure));
  }

  private void finished(List<Pending> round, CommandResult result, Throwable failure) {
    // The next round goes out before the callers of this one are answered: answering runs their
    // replies on this thread.
    List<Pending> next;
    synchronized (waiting) {
      inFlight--;
      next = nextRound();
    }
    if (next != null) {
      dispatch(next);
    }
    if (failure != null) {
      round.forEach(p -> p.reply().completeExceptionally(failure));
    } else if (round.size() == 1) {
      round.get(0).reply().complete(result);
    } else if (result.getBatchResultsCount() != round.size()) {
      ConsensusException unreadable =
          new ConsensusException(
              ConsensusException.Kind.FAILED,
              "the state machine answered a batch of "
                  + round.size()
                  + " commands with "
                  + result.getBatchResultsCount()
                  + " results",
              null,
              null);
      round.forEach(p -> p.reply().completeExceptionally(unreadable));
    } else {
      for (int i = 0; i < round.size(); i++) {
        round.get(i).reply().complete(result.getBatchResults(i));
      }
    }
  }
}
