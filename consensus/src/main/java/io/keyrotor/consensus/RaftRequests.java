package io.keyrotor.consensus;

import com.google.protobuf.InvalidProtocolBufferException;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CommandResult;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientAsynchronousProtocol;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.AlreadyClosedException;
import org.apache.ratis.protocol.exceptions.LeaderNotReadyException;
import org.apache.ratis.protocol.exceptions.LeaderSteppingDownException;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.apache.ratis.protocol.exceptions.RaftException;
import org.apache.ratis.protocol.exceptions.RaftRetryFailureException;
import org.apache.ratis.protocol.exceptions.ReadException;
import org.apache.ratis.protocol.exceptions.ReadIndexException;
import org.apache.ratis.protocol.exceptions.ServerNotReadyException;
import org.apache.ratis.protocol.exceptions.TimeoutIOException;

/**
 * A node's proposals and read barriers, submitted to its own Ratis server division in-process (a
 * follower forwards proposals through the Ratis client, which follows the leader), and the
 * translation of what Ratis reports into {@link ConsensusException}s.
 */
final class RaftRequests {
  private final ConsensusConfig config;
  private final RaftPeerId selfId;
  private final RaftGroupId groupId;

  /**
   * The group's server division, called directly: the server proxy would hop to its client executor
   * and wait for that thread, which costs more than a lease-checked read itself.
   */
  private final RaftClientAsynchronousProtocol division;

  private final RaftClient forwarder;
  private final KeyrotorStateMachine stateMachine;
  private final Supplier<Optional<String>> leaderId;
  private final ListenerReads listenerReads;
  private final ClientId localClientId;
  private final AtomicLong callIds = new AtomicLong();

  RaftRequests(
      ConsensusConfig config,
      RaftGroupId groupId,
      RaftClientAsynchronousProtocol division,
      RaftClient forwarder,
      KeyrotorStateMachine stateMachine,
      Supplier<Optional<String>> leaderId,
      ListenerReads listenerReads) {
    this.config = config;
    this.selfId = RaftPeerId.valueOf(config.nodeId());
    this.localClientId = RaftIdentities.clientIdOf(config.nodeId());
    this.groupId = groupId;
    this.division = division;
    this.forwarder = forwarder;
    this.stateMachine = stateMachine;
    this.leaderId = leaderId;
    this.listenerReads = listenerReads;
  }

  /** See {@link RaftNode#propose}. */
  CompletableFuture<CommandResult> propose(Command command) {
    // Keeps the command object: the leader's state machine reads it without parsing it again.
    Message message = InProcessMessages.of(command);
    RaftClientRequest request = localRequest(message, RaftClientRequest.writeRequestType());
    CompletableFuture<RaftClientReply> local;
    try {
      local = division.submitClientRequestAsync(request);
    } catch (ServerNotReadyException notRunning) {
      // A node that joined as a listener runs its division in Ratis's STARTING state until it
      // votes, and takes no client request itself: forward, as a follower does.
      local = CompletableFuture.completedFuture(null);
    } catch (IOException e) {
      return CompletableFuture.failedFuture(translate(e));
    }
    return local
        .thenCompose(
            reply -> {
              if (reply == null || reply.getNotLeaderException() != null) {
                // Not the leader: forward through the Ratis client, which follows the leader.
                // Bounded: the caller retries with the same request id if this times out.
                return forwarder
                    .async()
                    .send(message)
                    .orTimeout(config.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
              }
              return CompletableFuture.completedFuture(reply);
            })
        .thenApply(this::commandResult)
        .exceptionally(
            e -> {
              throw translate(e);
            });
  }

  /** See {@link RaftNode#readBarrier}. */
  CompletableFuture<Long> readBarrier() {
    RaftClientRequest request = localRequest(Message.EMPTY, RaftClientRequest.readRequestType());
    CompletableFuture<Long> barrier;
    try {
      barrier =
          division
              .submitClientRequestAsync(request)
              .thenApply(
                  reply -> {
                    checkReply(reply);
                    return stateMachine.store().appliedPosition().index();
                  });
    } catch (ServerNotReadyException notRunning) {
      // A listener added by a configuration change (a read replica) takes no client request:
      // ask the leader for the read index and wait to apply it, as Ratis's follower read does.
      barrier = listenerReads.barrier(request);
    } catch (IOException e) {
      return CompletableFuture.failedFuture(translate(e));
    }
    return barrier.exceptionally(
        e -> {
          throw translate(e);
        });
  }

  private RaftClientRequest localRequest(Message message, RaftClientRequest.Type type) {
    return RaftClientRequest.newBuilder()
        .setClientId(localClientId)
        .setServerId(selfId)
        .setGroupId(groupId)
        .setCallId(callIds.incrementAndGet())
        .setMessage(message)
        .setType(type)
        .build();
  }

  private CommandResult commandResult(RaftClientReply reply) {
    checkReply(reply);
    CommandResult inProcess = InProcessMessages.resultOrNull(reply.getMessage());
    if (inProcess != null) {
      return inProcess;
    }
    try {
      return CommandResult.parseFrom(reply.getMessage().getContent().toByteArray());
    } catch (InvalidProtocolBufferException e) {
      throw new ConsensusException(
          ConsensusException.Kind.FAILED, "unreadable reply from the state machine", null, e);
    }
  }

  /** Throws the reply's failure, translated, unless it succeeded. */
  void checkReply(RaftClientReply reply) {
    if (reply.isSuccess()) {
      return;
    }
    RaftException exception = reply.getException();
    throw translate(exception == null ? new IOException("request failed: " + reply) : exception);
  }

  /** What Ratis reported, as a {@link ConsensusException} of the kind a caller can act on. */
  ConsensusException translate(Throwable e) {
    Throwable cause = unwrap(e);
    if (cause instanceof ConsensusException c) {
      return c;
    }
    String clockUnsafe = clockRefusal(cause);
    if (clockUnsafe != null) {
      return new ConsensusException(
          ConsensusException.Kind.CLOCK_UNSAFE, clockUnsafe, leaderId.get().orElse(null), cause);
    }
    if (cause instanceof NotLeaderException notLeader) {
      RaftPeer suggested = notLeader.getSuggestedLeader();
      String leader = suggested == null ? null : suggested.getId().toString();
      return new ConsensusException(
          leader == null ? ConsensusException.Kind.NO_LEADER : ConsensusException.Kind.NOT_LEADER,
          "node " + config.nodeId() + " is not the leader",
          leader,
          cause);
    }
    if (cause instanceof LeaderNotReadyException
        || cause instanceof LeaderSteppingDownException
        || cause instanceof ReadIndexException
        || cause instanceof ReadException
        || cause instanceof ServerNotReadyException) {
      return new ConsensusException(
          ConsensusException.Kind.NO_LEADER,
          "no leader can serve right now (" + cause.getClass().getSimpleName() + ")",
          leaderId.get().orElse(null),
          cause);
    }
    if (cause instanceof TimeoutException
        || cause instanceof TimeoutIOException
        || cause instanceof RaftRetryFailureException) {
      return new ConsensusException(
          ConsensusException.Kind.TIMEOUT,
          "the cluster did not answer in time (no leader or no quorum)",
          leaderId.get().orElse(null),
          cause);
    }
    if (cause instanceof AlreadyClosedException) {
      return new ConsensusException(
          ConsensusException.Kind.NOT_RUNNING, "this node is shutting down", null, cause);
    }
    return new ConsensusException(
        ConsensusException.Kind.FAILED, rootMessage(cause), leaderId.get().orElse(null), cause);
  }

  /**
   * The leader's words when {@code e} is its refusal to stamp ({@link ClockUnsafeException},
   * carried back by Ratis as a state machine exception, whose message keeps the marker), or null.
   */
  private static String clockRefusal(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      String message = t.getMessage();
      int at = message == null ? -1 : message.indexOf(ClockUnsafeException.MARKER);
      if (at >= 0) {
        return message.substring(at + ClockUnsafeException.MARKER.length());
      }
    }
    return null;
  }

  private static Throwable unwrap(Throwable e) {
    Throwable t = e;
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  /** The message of {@code e}, with its innermost cause when it has one. */
  static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t == e ? String.valueOf(e.getMessage()) : e.getMessage() + " (cause: " + t + ")";
  }
}
