package io.keyrotor.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.keyrotor.bench.echo.EchoMessage;
import io.keyrotor.bench.echo.EchoServiceGrpc;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The echo baseline's mutual TLS, over a real socket on loopback with real certificates. */
class EchoServerTest {
  @TempDir Path tls;

  @Test
  void servesMutualTls_toACallerWithItsCertificate() throws Exception {
    Server server = EchoServer.start("127.0.0.1", 0, "default", tls);
    try (EchoTarget echo = new EchoTarget("127.0.0.1:" + server.getPort(), tls)) {
      assertEquals(EchoTarget.MUTUAL_TLS, echo.name());
      EchoMessage reply = (EchoMessage) echo.echo(40, 60).start(0).get(30, TimeUnit.SECONDS);
      assertTrue(
          Math.abs(reply.getSerializedSize() - 60) <= 1,
          "reply of " + reply.getSerializedSize() + " bytes");
    } finally {
      server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void refusesACallerWithoutAClientCertificate_andPlaintext() throws Exception {
    Server server = EchoServer.start("127.0.0.1", 0, "default", tls);
    String address = "127.0.0.1:" + server.getPort();
    try {
      ChannelCredentials noCertificate =
          TlsChannelCredentials.newBuilder().trustManager(tls.resolve("ca.pem").toFile()).build();
      for (ChannelCredentials credentials :
          new ChannelCredentials[] {noCertificate, Targets.plaintext()}) {
        ManagedChannel channel = Targets.channel(address, credentials);
        try {
          StatusRuntimeException refused =
              assertThrows(
                  StatusRuntimeException.class,
                  () ->
                      EchoServiceGrpc.newBlockingStub(channel)
                          .withDeadlineAfter(30, TimeUnit.SECONDS)
                          .echo(EchoTarget.message(40, 60)));
          assertEquals(Status.Code.UNAVAILABLE, refused.getStatus().getCode(), refused::toString);
        } finally {
          channel.shutdownNow();
        }
      }
    } finally {
      server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
  }
}
