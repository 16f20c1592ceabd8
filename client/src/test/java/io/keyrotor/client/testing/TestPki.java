package io.keyrotor.client.testing;

import io.keyrotor.client.KeyrotorClient;
import io.keyrotor.tls.DevelopmentCa;
import io.keyrotor.tls.IssuedCertificate;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * Certificates for tests, laid out like a development cluster's directory: {@code DIR/tls/ca.pem},
 * the callers {@code DIR/tls/admin.pem} + {@code admin-key.pem} and {@code service.pem} + {@code
 * service-key.pem}, and the node certificate {@code DIR/tls/node.pem} + {@code node-key.pem} (for
 * {@code 127.0.0.1} and {@code localhost}) that {@link FakeNode} serves with. All from a fresh
 * {@link DevelopmentCa}.
 */
public final class TestPki {

  private static final Duration VALIDITY = Duration.ofDays(1);
  private static TestPki shared;

  private final Path clusterDirectory;
  private final DevelopmentCa ca;

  private TestPki(Path clusterDirectory, DevelopmentCa ca) {
    this.clusterDirectory = clusterDirectory;
    this.ca = ca;
  }

  /** A new CA and its certificates under {@code clusterDirectory/tls}. */
  public static TestPki create(Path clusterDirectory) {
    DevelopmentCa ca =
        DevelopmentCa.create(
            "keyrotor test CA", DevelopmentCa.DEFAULT_TRUST_DOMAIN, VALIDITY, Clock.systemUTC());
    TestPki pki = new TestPki(clusterDirectory, ca);
    try {
      Files.createDirectories(pki.tlsDirectory());
      ca.write(pki.tlsDirectory().resolve("ca.pem"), pki.tlsDirectory().resolve("ca-key.pem"));
      pki.write("node", ca.issueNode("node", List.of("127.0.0.1", "localhost"), VALIDITY));
      pki.write("admin", ca.issueClient("admin", VALIDITY));
      pki.write("service", ca.issueClient("service", VALIDITY));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return pki;
  }

  /**
   * The certificates every {@link FakeNode} of this JVM serves with unless told otherwise, made
   * once in a temporary directory that is removed when the JVM exits.
   */
  public static synchronized TestPki shared() {
    if (shared == null) {
      try {
        Path directory = Files.createTempDirectory("keyrotor-test-pki");
        shared = create(directory);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(directory)));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return shared;
  }

  /**
   * A client builder that trusts the shared CA and presents the shared {@code admin} certificate.
   */
  public static KeyrotorClient.Builder clientBuilder() {
    return KeyrotorClient.builder().clusterDirectory(shared().clusterDirectory(), "admin");
  }

  /**
   * {@link #clientBuilder()} to {@code node} on a manual clock: backoff sleeps advance {@code
   * clock} instead of waiting, and jitter comes from a random seeded with {@code seed}, so that a
   * test's retries are the same on every run. Hedging, which sends a second call once real time
   * passes, is off: these tests count every attempt, and a loaded machine would add one.
   */
  public static KeyrotorClient.Builder clientBuilder(FakeNode node, ManualClock clock, long seed) {
    return clientBuilder()
        .hedgeReadsAfter(Duration.ZERO)
        .endpoints(node.address())
        .clock(clock)
        .sleeper(clock.sleeper())
        .random(new SplittableRandom(seed));
  }

  /** The directory whose {@code tls} subdirectory holds the files. */
  public Path clusterDirectory() {
    return clusterDirectory;
  }

  /** {@code clusterDirectory()/tls}. */
  public Path tlsDirectory() {
    return clusterDirectory.resolve("tls");
  }

  /** The CA, to issue more certificates. */
  public DevelopmentCa ca() {
    return ca;
  }

  /** {@code tls/NAME.pem}. */
  public Path certificate(String name) {
    return tlsDirectory().resolve(name + ".pem");
  }

  /** {@code tls/NAME-key.pem}. */
  public Path privateKey(String name) {
    return tlsDirectory().resolve(name + "-key.pem");
  }

  /** {@code tls/ca.pem}. */
  public Path caCertificate() {
    return tlsDirectory().resolve("ca.pem");
  }

  /** Writes {@code issued} as {@code tls/NAME.pem} and {@code tls/NAME-key.pem}. */
  public void write(String name, IssuedCertificate issued) throws IOException {
    issued.write(certificate(name), privateKey(name));
  }

  private static void deleteTree(Path directory) {
    try (Stream<Path> paths = Files.walk(directory)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    } catch (IOException e) {
      // A temporary directory: what is left is the system's to clean.
    }
  }
}
