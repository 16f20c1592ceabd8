package io.keyrotor.cli.resident;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.SocketException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ResidentServer} on a real Unix domain socket: who it answers, where it agrees to live, and
 * what it does with a request that is too long or not a request.
 */
class ResidentServerTest {

  @TempDir Path temp;

  @Test
  void peerOfAnotherUser_isClosedUnanswered() throws Exception {
    UserPrincipal someoneElse =
        temp.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody");
    Path socket = temp.resolve("run/cli.sock");
    ResidentServer server = open(socket, someoneElse);
    CompletableFuture<String> served = CompletableFuture.supplyAsync(server::serve);
    try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      channel.connect(UnixDomainSocketAddress.of(socket));
      try {
        send(channel, "{\"control\":\"status\"}");
      } catch (IOException closedAlready) {
        // Closed before the request was written: refused all the same.
      }

      String answer;
      try {
        answer = readAll(channel);
      } catch (SocketException reset) {
        answer = ""; // closed with the request unread: a reset, and no answer either
      }
      assertEquals("", answer, "no answer, connection closed");
    } finally {
      server.stop("test over");
    }
    assertEquals("test over", served.get(30, TimeUnit.SECONDS));
    assertTrue(Files.notExists(socket), "socket removed");
  }

  @Test
  void peerOfItsOwnUser_isAnswered_andStopEndsTheProcess() throws Exception {
    Path socket = temp.resolve("run/cli.sock");
    ResidentServer server = open(socket, null);
    CompletableFuture<String> served = CompletableFuture.supplyAsync(server::serve);
    assertEquals(
        "rwx------",
        PosixFilePermissions.toString(Files.getPosixFilePermissions(socket.getParent())));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
    try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      channel.connect(UnixDomainSocketAddress.of(socket));
      send(channel, "{\"control\":\"stop\"}");

      String answer = readAll(channel);
      assertTrue(answer.contains("stopping the resident CLI process"), answer);
    }
    assertEquals("keyrotor resident stop", served.get(30, TimeUnit.SECONDS));
  }

  @Test
  void tooLongOrMalformedRequest_isDeclinedAndRunsNothing() throws Exception {
    Path socket = temp.resolve("run/cli.sock");
    ResidentServer server = open(socket, null);
    CompletableFuture<String> served = CompletableFuture.supplyAsync(server::serve);
    try {
      try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
        channel.connect(UnixDomainSocketAddress.of(socket));
        channel.write(ByteBuffer.allocate(4).putInt(ResidentProtocol.MAX_REQUEST_BYTES + 1).flip());
        String answer = readAll(channel);
        assertEquals('D', answer.charAt(0), answer);
        assertTrue(answer.contains("bad request: request length"), answer);
      }
      try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
        channel.connect(UnixDomainSocketAddress.of(socket));
        send(channel, "{\"args\":[\"key\",3],\"cwd\":\"/\"}");
        String answer = readAll(channel);
        assertEquals('D', answer.charAt(0), answer);
        assertTrue(answer.contains("\"args\" must be an array of strings"), answer);
      }
    } finally {
      server.stop("test over");
    }
    served.get(30, TimeUnit.SECONDS);
  }

  @Test
  void directoryOthersMayEnter_isRefused() throws Exception {
    Path open = Files.createDirectory(temp.resolve("open"));
    Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxr-x---"));

    IllegalArgumentException refused =
        assertThrows(IllegalArgumentException.class, () -> open(open.resolve("cli.sock"), null));

    assertTrue(
        refused.getMessage().contains("must be accessible to its owner only"),
        refused.getMessage());
    assertTrue(Files.notExists(open.resolve("cli.sock")));
  }

  @Test
  void secondProcessForTheSameSocket_findsItTakenAndReturnsNull() throws Exception {
    Path socket = temp.resolve("run/cli.sock");
    ResidentServer first = open(socket, null);
    try {
      assertNull(open(socket, null));
    } finally {
      first.stop("test over");
      first.serve();
    }
  }

  private ResidentServer open(Path socket, UserPrincipal allowedPeer) throws Exception {
    return ResidentServer.open(
        socket, Duration.ofMinutes(1), jar(), allowedPeer, Clock.systemUTC());
  }

  private Path jar() throws IOException {
    Path jar = temp.resolve("keyrotor-cli.jar");
    if (!Files.exists(jar)) {
      Files.writeString(jar, "a jar");
    }
    return jar;
  }

  private static void send(SocketChannel channel, String json) throws IOException {
    byte[] body = json.getBytes(StandardCharsets.UTF_8);
    ByteBuffer buffer = ByteBuffer.allocate(4 + body.length).putInt(body.length).put(body).flip();
    while (buffer.hasRemaining()) {
      channel.write(buffer);
    }
  }

  private static String readAll(SocketChannel channel) throws IOException {
    StringBuilder text = new StringBuilder();
    ByteBuffer buffer = ByteBuffer.allocate(4096);
    while (channel.read(buffer) >= 0) {
      buffer.flip();
      text.append(StandardCharsets.ISO_8859_1.decode(buffer));
      buffer.clear();
    }
    return text.toString();
  }
}
