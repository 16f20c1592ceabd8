package io.keyrotor.server.api;

import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.server.access.Operation;
import io.keyrotor.server.access.Target;

/**
 * One write as the {@link WritePath} carries it out: the operation and its target (what the
 * authorisation step decides on), the request id the log deduplicates by, what building its command
 * needs, and how the command's body is filled in.
 *
 * @param requestId validated, or generated when the request named none
 */
record Write(Operation operation, Target target, String requestId, Needs needs, CommandBody body) {

  /** What building a command needs, which decides when and on which thread it is built. */
  enum Needs {
    /** The checked request alone: built at once, on the thread that handles the call. */
    REQUEST,
    /**
     * A new key-encryption key: built on the HSM executor, which mints and wraps it (never a Raft
     * or gRPC thread).
     */
    NEW_KEK,
    /**
     * The applied state and a new key-encryption key: built after the linearizable read barrier, on
     * the HSM executor (not on the thread that completed the barrier, which may be Ratis's).
     */
    STATE_AND_NEW_KEK,
    /**
     * The applied state and answers from other nodes and this node's HSM (blocking calls): built
     * after the read barrier, on the node's blocking executor.
     */
    STATE_AND_PEERS,
    /**
     * The applied state alone (a check of the key the request names): built after the read barrier,
     * on the node's blocking executor.
     */
    STATE;

    boolean readsState() {
      return this == STATE_AND_NEW_KEK || this == STATE_AND_PEERS || this == STATE;
    }

    boolean mintsKek() {
      return this == NEW_KEK || this == STATE_AND_NEW_KEK;
    }
  }

  /** Fills in a command's body; the request id and the origin node are set already. */
  @FunctionalInterface
  interface CommandBody {
    /**
     * Completes {@code command} from the request and the sources.
     *
     * @param command the command to complete
     * @param sources the applied state and new key material, as far as {@link Needs} allows
     * @throws io.grpc.StatusRuntimeException to refuse the write before it is proposed
     */
    void fill(Command.Builder command, WritePath.Sources sources);
  }

  /** A write whose command is made from the checked request alone. */
  static Write fromRequest(Operation operation, Target target, String requestId, CommandBody body) {
    return new Write(operation, target, requestId, Needs.REQUEST, body);
  }
}
