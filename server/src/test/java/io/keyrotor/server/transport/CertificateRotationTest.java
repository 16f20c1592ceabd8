package io.keyrotor.server.transport;

import static io.keyrotor.consensus.testing.Replicas.waitUntil;
import static io.keyrotor.server.transport.TlsTestServer.whoAmI;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import io.keyrotor.server.config.TlsSettings;
import io.keyrotor.tls.DevelopmentCa;
import io.keyrotor.tls.IssuedCertificate;
import io.keyrotor.tls.ReloadingCredentials;
import io.keyrotor.tls.TlsFiles;
import java.math.BigInteger;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node's and a caller's certificates rotate under a steady stream of calls: no call fails, the
 * connection made before keeps working, and connections made after present the new certificates
 * (the serial numbers each end sees).
 */
class CertificateRotationTest {
  private static final Clock CLOCK = Clock.systemUTC();
  private static final int CALLS = 600;
  private static final int FRESH_CONNECTION_EVERY = 20;

  @TempDir Path directory;

  @Test
  void nodeAndClientCertificatesRotate_underLoad_noCallFails() throws Exception {
    DevelopmentCa ca =
        DevelopmentCa.create(
            "test CA", DevelopmentCa.DEFAULT_TRUST_DOMAIN, Duration.ofDays(10), CLOCK);
    Files.createDirectories(directory.resolve("node"));
    Files.createDirectories(directory.resolve("client"));
    TlsFiles nodeFiles = TlsFiles.inDirectory(directory.resolve("node"), "n1");
    TlsFiles clientFiles = TlsFiles.inDirectory(directory.resolve("client"), "admin");
    ca.write(nodeFiles.trustedCertificates(), directory.resolve("ca-key.pem"));
    ca.write(clientFiles.trustedCertificates(), directory.resolve("ca-key.pem"));
    IssuedCertificate oldNode = ca.issueNode("n1", List.of("127.0.0.1"), Duration.ofDays(1));
    IssuedCertificate oldClient = ca.issueClient("admin", Duration.ofDays(1));
    oldNode.write(nodeFiles.certificate(), nodeFiles.privateKey());
    oldClient.write(clientFiles.certificate(), clientFiles.privateKey());
    IssuedCertificate newNode = ca.issueNode("n1", List.of("127.0.0.1"), Duration.ofDays(2));
    IssuedCertificate newClient = ca.issueClient("admin", Duration.ofDays(2));

    Duration reload = Duration.ofMillis(50);
    ApiTransport transport =
        ApiTransport.open(
            new TlsSettings(Optional.of(nodeFiles), false, reload, Duration.ofDays(30)), CLOCK);
    ReloadingCredentials client = ReloadingCredentials.open(clientFiles, reload, CLOCK);
    List<BigInteger> serverSerials = new CopyOnWriteArrayList<>();
    TlsChannelCredentials credentials =
        (TlsChannelCredentials)
            TlsChannelCredentials.newBuilder()
                .keyManager(client.keyManager())
                .trustManager(new RecordingServerSerials(client.trustManager(), serverSerials))
                .build();

    Set<String> clientSerialsSeen = ConcurrentHashMap.newKeySet();
    List<Throwable> failures = new CopyOnWriteArrayList<>();
    AtomicInteger done = new AtomicInteger();
    AtomicReference<String> lastFreshAnswer = new AtomicReference<>("");
    ExecutorService load = Executors.newSingleThreadExecutor();
    try (TlsTestServer server = new TlsTestServer(transport)) {
      ManagedChannel longLived = server.channel(credentials);
      try {
        Future<?> stream =
            load.submit(
                () -> {
                  for (int i = 0; i < CALLS; i++) {
                    try {
                      String answer = whoAmI(longLived);
                      clientSerialsSeen.add(serial(answer));
                      if (i % FRESH_CONNECTION_EVERY == 0) {
                        ManagedChannel fresh = server.channel(credentials);
                        try {
                          String freshAnswer = whoAmI(fresh);
                          clientSerialsSeen.add(serial(freshAnswer));
                          lastFreshAnswer.set(freshAnswer);
                        } finally {
                          fresh.shutdownNow();
                        }
                      }
                    } catch (RuntimeException e) {
                      failures.add(e);
                    }
                    done.incrementAndGet();
                  }
                });
        waitUntil(() -> done.get() >= CALLS / 4, Duration.ofSeconds(60), "a quarter of the calls");
        // The swap: each IssuedCertificate.write replaces the key, then the certificate; in
        // between, the files do not match, and the credentials keep the old pair.
        newNode.write(nodeFiles.certificate(), nodeFiles.privateKey());
        newClient.write(clientFiles.certificate(), clientFiles.privateKey());
        String newNodeSerial = hex(newNode.certificate().getSerialNumber());
        String newClientSerial = hex(newClient.certificate().getSerialNumber());
        waitUntil(
            () ->
                !serverSerials.isEmpty()
                    && serverSerials
                        .get(serverSerials.size() - 1)
                        .equals(newNode.certificate().getSerialNumber())
                    && serial(lastFreshAnswer.get()).equals(newClientSerial),
            Duration.ofSeconds(30),
            "new connections presenting the new certificates");
        stream.get(120, TimeUnit.SECONDS);

        assertEquals(List.of(), failures, "calls that failed during the rotation");
        assertEquals(CALLS, done.get());
        assertEquals(
            oldNode.certificate().getSerialNumber(),
            serverSerials.get(0),
            "the first connection saw the old node certificate");
        assertTrue(
            clientSerialsSeen.containsAll(
                Set.of(hex(oldClient.certificate().getSerialNumber()), newClientSerial)),
            "the node saw both client certificates: " + clientSerialsSeen);
        assertEquals(newNodeSerial, transport.status().getCertificateSerial());
        assertEquals("", transport.status().getLastReloadFailure());
        // The connection made before the rotation still works with what it was made with.
        assertEquals("admin", ApiTransportTest.principal(whoAmI(longLived)));
      } finally {
        longLived.shutdownNow();
      }
    } finally {
      load.shutdownNow();
    }
  }

  private static String hex(BigInteger serial) {
    return serial.toString(16);
  }

  private static String serial(String answer) {
    return answer.isEmpty() ? "" : answer.substring(answer.indexOf(' ') + 1);
  }

  /** The client's trust manager, noting the serial number of every node certificate it checks. */
  private static final class RecordingServerSerials extends X509ExtendedTrustManager {
    private final X509ExtendedTrustManager delegate;
    private final List<BigInteger> serials;

    RecordingServerSerials(X509ExtendedTrustManager delegate, List<BigInteger> serials) {
      this.delegate = delegate;
      this.serials = serials;
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      delegate.checkServerTrusted(chain, authType, engine);
      serials.add(chain[0].getSerialNumber());
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      delegate.checkServerTrusted(chain, authType, socket);
      serials.add(chain[0].getSerialNumber());
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      delegate.checkServerTrusted(chain, authType);
      serials.add(chain[0].getSerialNumber());
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      delegate.checkClientTrusted(chain, authType, engine);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      delegate.checkClientTrusted(chain, authType, socket);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      delegate.checkClientTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return delegate.getAcceptedIssuers();
    }
  }
}
