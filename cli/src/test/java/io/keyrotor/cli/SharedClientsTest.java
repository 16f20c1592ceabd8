package io.keyrotor.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.client.KeyrotorClient;
import io.keyrotor.client.testing.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link SharedClients}: when a command gets the client of an earlier one, and when a new one. */
class SharedClientsTest {

  @TempDir Path temp;

  private final AtomicInteger built = new AtomicInteger();

  private Supplier<KeyrotorClient> builder(Path tls) {
    return () -> {
      built.incrementAndGet();
      return KeyrotorClient.builder()
          .endpoints("127.0.0.1:1")
          .trustedCertificates(tls.resolve("ca.pem"))
          .clientCertificate(tls.resolve("admin.pem"), tls.resolve("admin-key.pem"))
          .build();
    };
  }

  @Test
  void sameSettingsAndFiles_shareOneClient_rewrittenFile_makesANewOne() throws Exception {
    Path tls = Files.createDirectories(temp.resolve("tls"));
    for (String name :
        List.of("ca.pem", "admin.pem", "admin-key.pem", "service.pem", "service-key.pem")) {
      Files.copy(TestPki.shared().tlsDirectory().resolve(name), tls.resolve(name));
    }
    List<Path> files =
        List.of(tls.resolve("ca.pem"), tls.resolve("admin.pem"), tls.resolve("admin-key.pem"));
    try (SharedClients clients = new SharedClients(4)) {
      String version = SharedClients.versionOf(files).orElseThrow();
      KeyrotorClient first = clients.acquire("a", version, builder(tls));
      KeyrotorClient second =
          clients.acquire("a", SharedClients.versionOf(files).orElseThrow(), builder(tls));
      assertSame(first, second);
      clients.release(first);
      clients.release(second);

      Files.copy(
          tls.resolve("service.pem"),
          tls.resolve("admin.pem"),
          StandardCopyOption.REPLACE_EXISTING);
      Files.copy(
          tls.resolve("service-key.pem"),
          tls.resolve("admin-key.pem"),
          StandardCopyOption.REPLACE_EXISTING);
      String rotated = SharedClients.versionOf(files).orElseThrow();
      assertNotEquals(version, rotated);
      KeyrotorClient third = clients.acquire("a", rotated, builder(tls));

      assertNotSame(first, third);
      assertEquals(2, built.get());
      assertEquals(1, clients.size());
      clients.release(third);
    }
  }

  @Test
  void missingFile_hasNoVersion_andCapacityBoundsTheClientsKept() throws Exception {
    assertTrue(SharedClients.versionOf(List.of(temp.resolve("absent.pem"))).isEmpty());
    Path tls = Files.createDirectories(temp.resolve("tls"));
    for (String name : List.of("ca.pem", "admin.pem", "admin-key.pem")) {
      Files.copy(TestPki.shared().tlsDirectory().resolve(name), tls.resolve(name));
    }
    try (SharedClients clients = new SharedClients(2)) {
      for (String settings : List.of("a", "b", "c", "d")) {
        clients.release(clients.acquire(settings, "v", builder(tls)));
      }
      assertEquals(2, clients.size());
      assertEquals(4, built.get());
    }
  }
}
