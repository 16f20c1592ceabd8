package io.keyrotor.consensus;

import com.google.protobuf.MessageLite;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CommandResult;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;

/**
 * Ratis messages that keep the protobuf object they carry. A proposal submitted to this node's own
 * Ratis division and the reply to it never leave the process, so the leader's state machine reads
 * the {@link Command} it was given and the proposer reads the {@link CommandResult} apply returned,
 * without encoding and parsing them again; the bytes are made once, only when Ratis asks for them
 * (a forwarded proposal, a reply sent to another node).
 */
final class InProcessMessages {
  private InProcessMessages() {}

  /** A message carrying {@code command}. */
  static Message of(Command command) {
    return new Carrying<>(command);
  }

  /** A message carrying {@code result}. */
  static Message of(CommandResult result) {
    return new Carrying<>(result);
  }

  /** The command {@code message} carries in-process, or null when it came as bytes. */
  static Command commandOrNull(Message message) {
    return message instanceof Carrying<?> carrying && carrying.value instanceof Command command
        ? command
        : null;
  }

  /** The result {@code message} carries in-process, or null when it came as bytes. */
  static CommandResult resultOrNull(Message message) {
    return message instanceof Carrying<?> carrying && carrying.value instanceof CommandResult result
        ? result
        : null;
  }

  private static final class Carrying<T extends MessageLite> implements Message {
    private final T value;
    private volatile ByteString content;

    Carrying(T value) {
      this.value = value;
    }

    @Override
    public ByteString getContent() {
      ByteString bytes = content;
      if (bytes == null) {
        // A fresh array nobody else holds: wrapping it without a copy is safe.
        bytes = UnsafeByteOperations.unsafeWrap(value.toByteArray());
        content = bytes;
      }
      return bytes;
    }

    @Override
    public int size() {
      return value.getSerializedSize();
    }

    @Override
    public String toString() {
      return value.getClass().getSimpleName() + "(" + value.getSerializedSize() + " bytes)";
    }
  }
}
