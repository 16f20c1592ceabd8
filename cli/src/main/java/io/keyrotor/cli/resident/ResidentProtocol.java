package io.keyrotor.cli.resident;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The resident CLI process's wire format on its Unix domain socket ({@code
 * scripts/lib/resident_client.py} is the other end).
 *
 * <p>The caller sends one request: a 4-byte big-endian length (at most {@link #MAX_REQUEST_BYTES}),
 * then that many bytes of UTF-8 JSON, either a command line {@code {"args": [...], "cwd":
 * "/absolute/dir", "stderr_terminal": true|false}} or a control request {@code {"control":
 * "status"|"stop"}}.
 *
 * <p>The process answers with frames, each a type byte, a 4-byte big-endian length and that many
 * bytes: {@code A} accepted (the command runs; until then the caller may still run it in a JVM of
 * its own), {@code O} bytes of standard output, {@code E} bytes of standard error, {@code X} the
 * exit status (4 bytes, big-endian), or {@code D} declined (a UTF-8 reason; the caller runs the
 * command itself, and starts a new resident process when the reason begins with {@code restart}).
 */
final class ResidentProtocol {

  /** The largest request accepted: command lines are short. */
  static final int MAX_REQUEST_BYTES = 1 << 20;

  /** The most arguments one command line may have. */
  static final int MAX_ARGUMENTS = 10_000;

  static final byte ACCEPTED = 'A';
  static final byte STDOUT = 'O';
  static final byte STDERR = 'E';
  static final byte EXIT = 'X';
  static final byte DECLINED = 'D';

  /** The largest frame written: longer output goes out in several. */
  private static final int MAX_FRAME_BYTES = 64 * 1024;

  private ResidentProtocol() {}

  /**
   * A request: {@code control} ({@code status}, {@code stop}) or null for a command line with its
   * arguments, the caller's working directory and whether its standard error is a terminal.
   */
  record Request(
      String control, List<String> args, Path workingDirectory, boolean stderrIsTerminal) {}

  /**
   * Reads one request from {@code channel}.
   *
   * @throws IllegalArgumentException if it is too long or malformed (the message says how)
   * @throws IOException if the caller went away before sending all of it
   */
  static Request read(SocketChannel channel) throws IOException {
    ByteBuffer length = readFully(channel, ByteBuffer.allocate(4));
    int size = length.getInt(0);
    if (size <= 0 || size > MAX_REQUEST_BYTES) {
      throw new IllegalArgumentException(
          "request length " + size + " is not between 1 and " + MAX_REQUEST_BYTES);
    }
    ByteBuffer body = readFully(channel, ByteBuffer.allocate(size));
    return parse(new String(body.array(), StandardCharsets.UTF_8));
  }

  /** Parses a request's JSON. */
  static Request parse(String json) {
    JsonObject object;
    try {
      JsonElement element = JsonParser.parseString(json);
      if (!element.isJsonObject()) {
        throw new IllegalArgumentException("the request is not a JSON object");
      }
      object = element.getAsJsonObject();
    } catch (JsonParseException e) {
      throw new IllegalArgumentException("the request is not JSON", e);
    }
    if (object.has("control")) {
      String control = string(object, "control");
      if (!control.equals("status") && !control.equals("stop")) {
        throw new IllegalArgumentException("unknown control request \"" + control + "\"");
      }
      return new Request(control, List.of(), null, false);
    }
    JsonElement argsElement = object.get("args");
    if (argsElement == null || !argsElement.isJsonArray()) {
      throw new IllegalArgumentException("\"args\" must be an array of strings");
    }
    JsonArray array = argsElement.getAsJsonArray();
    if (array.size() > MAX_ARGUMENTS) {
      throw new IllegalArgumentException("more than " + MAX_ARGUMENTS + " arguments");
    }
    List<String> args = new ArrayList<>(array.size());
    for (JsonElement arg : array) {
      if (!arg.isJsonPrimitive() || !arg.getAsJsonPrimitive().isString()) {
        throw new IllegalArgumentException("\"args\" must be an array of strings");
      }
      args.add(arg.getAsString());
    }
    Path workingDirectory = Path.of(string(object, "cwd"));
    if (!workingDirectory.isAbsolute()) {
      throw new IllegalArgumentException("\"cwd\" must be an absolute path");
    }
    JsonElement terminal = object.get("stderr_terminal");
    boolean stderrIsTerminal =
        terminal != null
            && terminal.isJsonPrimitive()
            && terminal.getAsJsonPrimitive().isBoolean()
            && terminal.getAsBoolean();
    return new Request(null, List.copyOf(args), workingDirectory, stderrIsTerminal);
  }

  private static String string(JsonObject object, String name) {
    JsonElement element = object.get(name);
    if (element == null || !element.isJsonPrimitive() || !element.getAsJsonPrimitive().isString()) {
      throw new IllegalArgumentException("\"" + name + "\" must be a string");
    }
    return element.getAsString();
  }

  private static ByteBuffer readFully(SocketChannel channel, ByteBuffer buffer) throws IOException {
    while (buffer.hasRemaining()) {
      if (channel.read(buffer) < 0) {
        throw new EOFException("the caller closed the connection mid-request");
      }
    }
    return buffer;
  }

  /** Writes frames to one caller; frames from several threads never interleave. */
  static final class FrameWriter {
    private final SocketChannel channel;

    FrameWriter(SocketChannel channel) {
      this.channel = channel;
    }

    synchronized void frame(byte type, byte[] bytes, int offset, int length) throws IOException {
      ByteBuffer header = ByteBuffer.allocate(5).put(type).putInt(length).flip();
      ByteBuffer body = ByteBuffer.wrap(bytes, offset, length);
      while (header.hasRemaining() || body.hasRemaining()) {
        channel.write(new ByteBuffer[] {header, body});
      }
    }

    void accepted() throws IOException {
      frame(ACCEPTED, new byte[0], 0, 0);
    }

    void exit(int status) throws IOException {
      byte[] bytes = ByteBuffer.allocate(4).putInt(status).array();
      frame(EXIT, bytes, 0, bytes.length);
    }

    void decline(String reason) throws IOException {
      byte[] bytes = reason.getBytes(StandardCharsets.UTF_8);
      frame(DECLINED, bytes, 0, bytes.length);
    }

    /** Standard output ({@link #STDOUT}) or error ({@link #STDERR}) as frames of that type. */
    OutputStream stream(byte type) {
      return new OutputStream() {
        @Override
        public void write(int b) throws IOException {
          write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] bytes, int offset, int length) throws IOException {
          for (int done = 0; done < length; done += MAX_FRAME_BYTES) {
            frame(type, bytes, offset + done, Math.min(MAX_FRAME_BYTES, length - done));
          }
        }
      };
    }
  }
}
