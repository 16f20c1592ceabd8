package io.keyrotor.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code scripts/cluster restore} end to end, as an operator runs it after losing a cluster: {@code
 * scripts/cluster up} with SoftHSM2 tokens, keys (one rotated) and data keys under each version,
 * {@code keyrotor backup create}, a key and a data key after the backup, {@code scripts/cluster
 * down}, then {@code scripts/cluster restore --from FILE --keys-from OLD_DIR NEW_DIR}: the new
 * nodes get the zones' master keys from the old tokens by the share ceremony and install the
 * backup. Every data key issued before the backup decrypts on the restored cluster to the same
 * plaintext; what came after the backup is absent; the restored cluster is a new one (its own
 * cluster name, its own CA, which refuses the old cluster's administrator certificate).
 */
class ClusterRestoreScriptIT {
  private static final Path REPO = Path.of("").toAbsolutePath().getParent();

  @TempDir Path work;
  private final List<Path> clusters = new ArrayList<>();

  private record Run(int exitCode, String stdout, String stderr) {
    JsonObject json() {
      return JsonParser.parseString(stdout).getAsJsonObject();
    }
  }

  /** Runs a script to its end (10 minutes at most: a restore runs many ceremony steps). */
  private Run run(String script, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(REPO.resolve("scripts").resolve(script).toString());
    command.addAll(List.of(args));
    Path out = Files.createTempFile(work, "out", ".txt");
    Path err = Files.createTempFile(work, "err", ".txt");
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .directory(work.toFile())
            .redirectOutput(out.toFile())
            .redirectError(err.toFile());
    builder
        .environment()
        .put("KEYROTOR_NODE_JAVA_OPTS", "-Xmx192m -XX:+UseSerialGC -XX:TieredStopAtLevel=1");
    Process process = builder.start();
    if (!process.waitFor(600, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      fail("timed out: " + command + "\n" + Files.readString(err));
    }
    return new Run(
        process.exitValue(),
        Files.readString(out, StandardCharsets.UTF_8).strip(),
        Files.readString(err, StandardCharsets.UTF_8).strip());
  }

  private Run ok(String script, String... args) throws IOException, InterruptedException {
    Run run = run(script, args);
    assertEquals(
        0,
        run.exitCode(),
        () -> script + " " + List.of(args) + " failed: " + run.stdout() + "\n" + run.stderr());
    return run;
  }

  private Run cli(Path cluster, String... args) throws IOException, InterruptedException {
    return ok("keyrotor", cliArgs(cluster, args));
  }

  private static String[] cliArgs(Path cluster, String... args) {
    List<String> all = new ArrayList<>(List.of("--cluster-dir", cluster.toString()));
    all.addAll(List.of(args));
    return all.toArray(String[]::new);
  }

  @AfterEach
  void stopClusters() throws Exception {
    for (Path cluster : clusters) {
      run("cluster", "down", "--dir", cluster.toString(), "--wipe");
    }
  }

  @Test
  void restoreFromBackup_everyDataKeyDecrypts_inANewCluster() throws Exception {
    Path old = work.resolve("old");
    clusters.add(old);
    ok(
        "cluster",
        "up",
        "--dir",
        old.toString(),
        "--nodes",
        "3",
        "--hsm",
        "softhsm2",
        "--base-port",
        String.valueOf(LocalPorts.freeBasePort(3)),
        "--timeout",
        "300");

    // Keys and data keys under several versions, then the backup.
    cli(old, "key", "create", "payments", "--json");
    cli(old, "key", "create", "ledger", "--json");
    Map<String, String> plaintextByWrapped = new LinkedHashMap<>();
    for (int round = 0; round < 2; round++) {
      for (String key : List.of("payments", "ledger")) {
        for (int i = 0; i < 2; i++) {
          JsonObject dataKey = cli(old, "datakey", key, "--json").json();
          plaintextByWrapped.put(
              dataKey.get("wrapped_b64").getAsString(), dataKey.get("plaintext_b64").getAsString());
        }
      }
      if (round == 0) {
        assertEquals(
            2,
            cli(old, "key", "rotate", "payments", "--json").json().get("new_version").getAsInt());
      }
    }
    Path backup = work.resolve("keyrotor.backup");
    cli(old, "backup", "create", "--out", backup.toString(), "--timeout", "5m");
    assertTrue(Files.size(backup) > 0);
    cli(old, "key", "create", "after-backup", "--json");
    String wrappedAfter =
        cli(old, "datakey", "after-backup", "--json").json().get("wrapped_b64").getAsString();
    String oldName = clusterName(old);
    ok("cluster", "down", "--dir", old.toString());

    // The restore: a new directory, new ports, the zone master keys from the old tokens.
    Path restored = work.resolve("restored");
    clusters.add(restored);
    Run restore =
        ok(
            "cluster",
            "restore",
            "--from",
            backup.toString(),
            "--keys-from",
            old.toString(),
            restored.toString(),
            "--hsm",
            "softhsm2",
            "--base-port",
            String.valueOf(LocalPorts.freeBasePort(3)),
            "--timeout",
            "300");
    assertTrue(restore.stdout().contains("restored from "), restore.stdout());

    for (Map.Entry<String, String> dataKey : plaintextByWrapped.entrySet()) {
      JsonObject decrypted =
          cli(restored, "decrypt", "--wrapped", dataKey.getKey(), "--json").json();
      assertEquals(dataKey.getValue(), decrypted.get("plaintext_b64").getAsString());
    }
    assertEquals(
        2,
        cli(restored, "key", "get", "payments", "--json").json().getAsJsonArray("versions").size());

    // What came after the backup is absent.
    Run missingKey = run("keyrotor", cliArgs(restored, "key", "get", "after-backup", "--json"));
    assertNotEquals(0, missingKey.exitCode(), missingKey.stdout());
    assertTrue(missingKey.stderr().contains("not found"), missingKey.stderr());
    Run missingDataKey =
        run("keyrotor", cliArgs(restored, "decrypt", "--wrapped", wrappedAfter, "--json"));
    assertNotEquals(0, missingDataKey.exitCode(), missingDataKey.stdout());

    // A new identity: its own cluster name (Raft group) and CA; the old administrator is refused.
    String newName = clusterName(restored);
    assertNotNull(newName);
    assertNotEquals(oldName, newName);
    assertTrue(newName.startsWith("keyrotor-restored-"), newName);
    assertNotEquals(
        Files.readString(old.resolve("tls/ca.pem")),
        Files.readString(restored.resolve("tls/ca.pem")));
    String servers = Files.readString(restored.resolve("servers")).strip();
    Run oldAdmin =
        run(
            "keyrotor",
            "--servers",
            servers,
            "--ca",
            old.resolve("tls/ca.pem").toString(),
            "--cert",
            old.resolve("tls/admin.pem").toString(),
            "--key",
            old.resolve("tls/admin-key.pem").toString(),
            "--deadline",
            "10s",
            "key",
            "get",
            "payments",
            "--json");
    assertNotEquals(0, oldAdmin.exitCode(), oldAdmin.stdout());
  }

  private static String clusterName(Path cluster) throws IOException {
    for (String line : Files.readAllLines(cluster.resolve("n1/node.properties"))) {
      if (line.startsWith("cluster.name=")) {
        return line.substring("cluster.name=".length());
      }
    }
    return null;
  }
}
