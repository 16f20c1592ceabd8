package io.keyrotor.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The interface SREs script against, end to end: scripts/cluster starts real node processes,
 * scripts/keyrotor drives them, the leader is killed with SIGKILL and the key survives.
 */
class ScriptsEndToEndIT {
  @TempDir Path work;
  private Path clusterDir;
  private ScriptRunner scripts;

  @BeforeEach
  void scripts() {
    scripts = new ScriptRunner(work, Duration.ofMinutes(3), Map.of());
  }

  @AfterEach
  void stopCluster() throws Exception {
    if (clusterDir != null) {
      scripts.run("cluster", "down", "--dir", clusterDir.toString(), "--wipe");
    }
  }

  @Test
  void clusterUp_createRotate_killLeader_keySurvivesWithSameActivationTimes() throws Exception {
    int basePort = LocalPorts.freeBasePort(3);
    clusterDir = work.resolve("cluster");

    ScriptRunner.Run up =
        scripts.ok(
            "cluster",
            "up",
            "--dir",
            clusterDir.toString(),
            "--base-port",
            String.valueOf(basePort));
    String servers =
        "127.0.0.1:"
            + (basePort + 1)
            + ",127.0.0.1:"
            + (basePort + 2)
            + ",127.0.0.1:"
            + (basePort + 3);
    assertTrue(up.stdout().contains("servers=" + servers), up.stdout());
    assertEquals(servers, Files.readString(clusterDir.resolve("servers")).strip());

    JsonObject created = scripts.cli(clusterDir, "key", "create", "payments", "--json").json();
    assertEquals("payments", created.get("name").getAsString());
    assertEquals(1, created.get("primary_version").getAsInt());
    JsonObject rotated = scripts.cli(clusterDir, "key", "rotate", "payments", "--json").json();
    assertEquals(2, rotated.get("new_version").getAsInt());
    JsonObject before = scripts.cli(clusterDir, "key", "get", "payments", "--json").json();
    assertEquals(2, before.get("primary_version").getAsInt());
    JsonArray versions = before.getAsJsonArray("versions");
    assertEquals("DECRYPT_ONLY", versions.get(0).getAsJsonObject().get("state").getAsString());
    assertEquals("PRIMARY", versions.get(1).getAsJsonObject().get("state").getAsString());
    OffsetDateTime.parse(versions.get(1).getAsJsonObject().get("activation_time").getAsString());

    String leader = leaderOf(scripts.cli(clusterDir, "cluster", "status", "--json").json());
    scripts.ok("cluster", "kill", leader, "--dir", clusterDir.toString());

    JsonObject after = scripts.cli(clusterDir, "key", "get", "payments", "--json").json();
    assertEquals(
        before.get("versions"), after.get("versions"), "same versions and activation times");
    JsonObject third = scripts.cli(clusterDir, "key", "rotate", "payments", "--json").json();
    assertEquals(3, third.get("new_version").getAsInt());
    String newLeader = leaderOf(scripts.cli(clusterDir, "cluster", "status", "--json").json());
    assertNotEquals(leader, newLeader);

    scripts.ok("cluster", "start", leader, "--dir", clusterDir.toString());
    JsonObject converged = awaitConvergence();
    for (JsonElement node : converged.getAsJsonArray("nodes")) {
      assertEquals(
          converged.getAsJsonArray("nodes").get(0).getAsJsonObject().get("state_digest"),
          node.getAsJsonObject().get("state_digest"));
    }

    // The whole cluster stopped and started again keeps its keys.
    JsonObject beforeRestart = scripts.cli(clusterDir, "key", "get", "payments", "--json").json();
    scripts.ok("cluster", "down", "--dir", clusterDir.toString());
    scripts.ok("cluster", "up", "--dir", clusterDir.toString());
    assertEquals(
        beforeRestart.get("versions"),
        scripts.cli(clusterDir, "key", "get", "payments", "--json").json().get("versions"));

    ScriptRunner.Run missing =
        scripts.run("keyrotor", "--cluster-dir", clusterDir.toString(), "key", "get", "nope");
    assertNotEquals(0, missing.exitCode());
    assertEquals(1, missing.stderr().lines().count(), missing.stderr());
    assertTrue(missing.stderr().startsWith("error: "), missing.stderr());
    assertTrue(missing.stderr().contains("KEY_NOT_FOUND"), missing.stderr());
  }

  private String leaderOf(JsonObject status) {
    for (JsonElement node : status.getAsJsonArray("nodes")) {
      if ("LEADER".equals(node.getAsJsonObject().get("role").getAsString())) {
        return node.getAsJsonObject().get("id").getAsString();
      }
    }
    fail("no leader in " + status);
    return null;
  }

  /** Polls cluster status until every node reports the same applied index and digest. */
  private JsonObject awaitConvergence() throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    JsonObject status = null;
    while (System.nanoTime() < deadline) {
      status = scripts.cli(clusterDir, "cluster", "status", "--json").json();
      Set<String> seen = new HashSet<>();
      for (JsonElement node : status.getAsJsonArray("nodes")) {
        JsonObject n = node.getAsJsonObject();
        seen.add(n.get("applied_index") + "/" + n.get("state_digest") + "/" + n.get("role"));
      }
      boolean allUp =
          status.getAsJsonArray("nodes").asList().stream()
              .noneMatch(n -> "UNREACHABLE".equals(n.getAsJsonObject().get("role").getAsString()));
      long distinctStates =
          seen.stream().map(s -> s.substring(0, s.lastIndexOf('/'))).distinct().count();
      if (allUp && distinctStates == 1) {
        return status;
      }
      Thread.sleep(500);
    }
    fail("nodes did not converge: " + status);
    return null;
  }
}
