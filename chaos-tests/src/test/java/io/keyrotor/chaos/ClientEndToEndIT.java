package io.keyrotor.chaos;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.keyrotor.api.v1.ClusterStatus;
import io.keyrotor.api.v1.NodeRole;
import io.keyrotor.api.v1.NodeStatus;
import io.keyrotor.client.KeyrotorClient;
import io.keyrotor.client.envelope.EnvelopeCipher;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java SDK as a service uses it, against real node processes: envelope encryption through a
 * SIGKILLed leader with no failed decrypt of data written before, and the streaming format for a
 * payload far larger than one message.
 */
class ClientEndToEndIT {
  private static final Path REPO = Path.of("").toAbsolutePath().getParent();

  @TempDir Path work;
  private Path clusterDir;

  private String script(String name, String... args) throws Exception {
    return ScriptedCluster.script(work, name, args);
  }

  @AfterEach
  void stopCluster() throws Exception {
    if (clusterDir != null) {
      new ProcessBuilder(
              REPO.resolve("scripts/cluster").toString(),
              "down",
              "--dir",
              clusterDir.toString(),
              "--wipe")
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .start()
          .waitFor(60, TimeUnit.SECONDS);
    }
  }

  @Test
  void envelopeEncryption_throughALeaderKill_noFailedDecryptOfEarlierData() throws Exception {
    clusterDir = work.resolve("cluster");
    String up =
        script(
            "cluster",
            "up",
            "--dir",
            clusterDir.toString(),
            "--base-port",
            String.valueOf(LocalPorts.freeBasePort(3)));
    // `cluster up` prints `servers=...` and, on its own line, `http=...`.
    String serversLine = up.substring(up.lastIndexOf("servers=") + 8).lines().findFirst().get();
    List<String> servers = List.of(serversLine.strip().split(","));
    try (KeyrotorClient client =
        KeyrotorClient.builder()
            .endpoints(servers)
            .clusterDirectory(clusterDir, "admin") // DIR/tls/ca.pem, admin.pem, admin-key.pem
            .deadline(Duration.ofSeconds(20))
            .build()) {
      client.createKey("orders");
      EnvelopeCipher cipher = EnvelopeCipher.builder(client).build();
      SplittableRandom random = new SplittableRandom(7);
      List<byte[]> plaintexts = new ArrayList<>();
      List<byte[]> blobs = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        byte[] plaintext =
            ("order " + i + " " + random.nextLong()).getBytes(StandardCharsets.UTF_8);
        plaintexts.add(plaintext);
        blobs.add(cipher.encrypt("orders", plaintext, Map.of("tenant", "t" + (i % 3))));
      }

      script("cluster", "kill", leaderOf(client.clusterStatus()), "--dir", clusterDir.toString());

      int decrypted = 0;
      for (int round = 0; round < 40; round++) {
        int i = round % 20;
        // Decrypt data written before the kill (the SDK follows the new leader and retries).
        assertArrayEquals(
            plaintexts.get(i),
            cipher.decrypt(blobs.get(i), Map.of("tenant", "t" + (i % 3))),
            "blob " + i + " after the leader kill");
        decrypted++;
        // And keep writing: a new envelope round-trips at once.
        byte[] fresh = ("after " + round).getBytes(StandardCharsets.UTF_8);
        assertArrayEquals(
            fresh, cipher.decrypt(cipher.encrypt("orders", fresh, Map.of()), Map.of()));
      }
      assertEquals(40, decrypted);

      // A payload of several streaming segments (3 MiB), through the stream API.
      byte[] large = new byte[3 << 20];
      new SplittableRandom(11).nextBytes(large);
      Path sealed = work.resolve("large.kr");
      try (OutputStream out =
          cipher.encryptingStream(Files.newOutputStream(sealed), "orders", Map.of("f", "large"))) {
        out.write(large);
      }
      try (InputStream in =
          cipher.decryptingStream(Files.newInputStream(sealed), Map.of("f", "large"))) {
        assertArrayEquals(large, in.readAllBytes());
      }
      assertTrue(Files.size(sealed) > large.length, "the envelope adds its header and tags");
    }
  }

  private static String leaderOf(ClusterStatus status) {
    for (NodeStatus node : status.getNodesList()) {
      if (node.getRole() == NodeRole.NODE_ROLE_LEADER) {
        return node.getId();
      }
    }
    fail("no leader in " + status);
    return null;
  }
}
