package io.keyrotor.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code scripts/cluster add} and {@code remove} on real node processes with SoftHSM2 tokens: n4
 * gets its token and its zones' master keys by the key ceremony (RSA-OAEP between tokens), starts
 * with cluster.join=true, joins as a listener, proves its zones and votes; it then serves the data
 * plane itself and takes leadership. n2 is removed: its process stops, and it leaves the cluster
 * status, the servers file and the other nodes' configurations.
 */
class ClusterMembershipScriptsIT {
  @TempDir Path work;
  private Path clusterDir;
  private ScriptRunner scripts;

  @BeforeEach
  void scripts() {
    scripts =
        new ScriptRunner(
            work,
            Duration.ofMinutes(5),
            Map.of("KEYROTOR_NODE_JAVA_OPTS", "-Xmx192m -XX:+UseSerialGC -XX:TieredStopAtLevel=1"));
  }

  @AfterEach
  void stopCluster() throws Exception {
    if (clusterDir != null) {
      scripts.run("cluster", "down", "--dir", clusterDir.toString(), "--wipe");
    }
  }

  @Test
  void addJoinsThroughTheCeremony_removeLeavesEverywhere() throws Exception {
    int basePort = LocalPorts.freeBasePort(4);
    clusterDir = work.resolve("cluster");
    String dir = clusterDir.toString();
    scripts.ok(
        "cluster",
        "up",
        "--dir",
        dir,
        "--nodes",
        "3",
        "--hsm",
        "softhsm2",
        "--base-port",
        String.valueOf(basePort),
        "--timeout",
        "120");
    scripts.cli(clusterDir, "key", "create", "payments", "--json");

    ScriptRunner.Run added = scripts.ok("cluster", "add", "n4", "--dir", dir, "--timeout", "180");
    assertTrue(added.stderr().contains("zone default shared from n1 to n4"), added.stderr());
    String n4 = "127.0.0.1:" + (basePort + 4);
    assertTrue(Files.readString(clusterDir.resolve("servers")).contains(n4));
    assertTrue(
        Files.readString(clusterDir.resolve("n1/node.properties")).contains("peer.n4.api=" + n4));
    assertTrue(
        Files.readString(clusterDir.resolve("n4/node.properties")).contains("cluster.join=true"));
    Map<String, String> roles =
        roles(scripts.cli(clusterDir, "cluster", "status", "--json").json());
    assertEquals(List.of("n1", "n2", "n3", "n4"), List.copyOf(roles.keySet()), "" + roles);

    // n4 answers a key read itself (its own read barrier) and takes leadership when asked.
    ScriptRunner.Run onN4 =
        scripts.ok(
            "keyrotor",
            "--servers",
            n4,
            "--ca",
            clusterDir.resolve("tls/ca.pem").toString(),
            "--cert",
            clusterDir.resolve("tls/admin.pem").toString(),
            "--key",
            clusterDir.resolve("tls/admin-key.pem").toString(),
            "key",
            "get",
            "payments",
            "--json");
    assertEquals("payments", onN4.json().get("name").getAsString());
    String n4Role = "";
    for (int attempt = 0; attempt < 5 && !"LEADER".equals(n4Role); attempt++) {
      // A transfer can lose to an election under load; asked again, it completes.
      scripts.run("keyrotor", "--cluster-dir", dir, "cluster", "transfer-leadership", "--to", "n4");
      n4Role = roles(scripts.cli(clusterDir, "cluster", "status", "--json").json()).get("n4");
    }
    assertEquals("LEADER", n4Role);

    scripts.ok("cluster", "remove", "n2", "--dir", dir);
    assertFalse(Files.exists(clusterDir.resolve("n2")));
    try (Stream<Path> removed = Files.list(clusterDir.resolve("removed"))) {
      assertTrue(removed.anyMatch(p -> p.getFileName().toString().startsWith("n2-")));
    }
    assertFalse(
        Files.readString(clusterDir.resolve("servers")).contains("127.0.0.1:" + (basePort + 2)));
    for (String node : List.of("n1", "n3", "n4")) {
      assertFalse(
          Files.readString(clusterDir.resolve(node).resolve("node.properties"))
              .contains("peer.n2."),
          node);
    }
    roles = roles(scripts.cli(clusterDir, "cluster", "status", "--json").json());
    assertEquals(List.of("n1", "n3", "n4"), List.copyOf(roles.keySet()), "" + roles);
    assertFalse(roles.containsValue("UNREACHABLE"), "" + roles);
    JsonObject rotated = scripts.cli(clusterDir, "key", "rotate", "payments", "--json").json();
    assertEquals(2, rotated.get("new_version").getAsInt());
  }

  private static Map<String, String> roles(JsonObject status) {
    TreeMap<String, String> out = new TreeMap<>();
    for (JsonElement node : status.getAsJsonArray("nodes")) {
      JsonObject n = node.getAsJsonObject();
      out.put(n.get("id").getAsString(), n.get("role").getAsString());
    }
    return out;
  }
}
