package io.keyrotor.server;

import static io.keyrotor.consensus.testing.Replicas.waitUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.keyrotor.api.v1.AdminServiceGrpc;
import io.keyrotor.api.v1.ClusterStatus;
import io.keyrotor.api.v1.CreateKeyRequest;
import io.keyrotor.api.v1.GetClusterStatusRequest;
import io.keyrotor.api.v1.KeyServiceGrpc;
import io.keyrotor.api.v1.NodeRole;
import io.keyrotor.api.v1.NodeStatus;
import io.keyrotor.api.v1.ZoneMasterKeyVersion;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The key ceremonies as an SRE runs them: {@code scripts/cluster up --hsm softhsm2} (a SoftHSM2
 * token per node, each ceremony step its own process with that node's own SOFTHSM2_CONF, zones
 * shared by the RSA-OAEP ceremony), {@code scripts/hsm rotate-master} against the running node
 * processes, and the real server refusing to start when its HSM cannot be used.
 */
class HsmScriptsIT {
  private static final Path SCRIPTS = Path.of("..", "scripts").toAbsolutePath().normalize();
  private static final Path SERVER_JAR = Path.of("target", "keyrotor-server.jar").toAbsolutePath();

  @TempDir Path workingDirectory;

  private record Result(int status, String stdout, String stderr) {
    String all() {
      return stdout + stderr;
    }
  }

  private Result run(Map<String, String> environment, List<String> command)
      throws IOException, InterruptedException {
    Path out = Files.createTempFile(workingDirectory, "out", ".txt");
    Path err = Files.createTempFile(workingDirectory, "err", ".txt");
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .directory(workingDirectory.toFile())
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    builder
        .environment()
        .put("KEYROTOR_NODE_JAVA_OPTS", "-Xmx192m -XX:+UseSerialGC -XX:TieredStopAtLevel=1");
    builder.environment().putAll(environment);
    Process process = builder.start();
    if (!process.waitFor(240, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("timed out: " + command + "\n" + Files.readString(err));
    }
    return new Result(
        process.exitValue(),
        Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8));
  }

  private Result script(String name, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("bash", SCRIPTS.resolve(name).toString()));
    command.addAll(List.of(args));
    return run(Map.of(), command);
  }

  private Result startServer(Path nodeDirectory, String softHsmConf) throws Exception {
    return run(
        Map.of("SOFTHSM2_CONF", softHsmConf),
        List.of(
            "java",
            "-Xmx128m",
            "-XX:TieredStopAtLevel=1",
            "-jar",
            SERVER_JAR.toString(),
            "run",
            "--config",
            nodeDirectory.resolve("node.properties").toString()));
  }

  @Test
  void softHsm2Cluster_ceremoniesRotationAndRefusedStarts() throws Exception {
    Path dir = workingDirectory.resolve("cluster");
    String basePort = String.valueOf(LocalTestCluster.freeBasePort(3));
    try {
      Result up =
          script(
              "cluster",
              "up",
              "--dir",
              dir.toString(),
              "--nodes",
              "3",
              "--regions",
              "eu,us",
              "--hsm",
              "softhsm2",
              "--base-port",
              basePort,
              "--timeout",
              "120");
      assertEquals(0, up.status(), up.all());
      assertTrue(up.stdout().contains("servers="), up.all());

      // Each node has its own token directory and 0600 PIN files; no PIN in node.properties.
      for (String id : List.of("n1", "n2", "n3")) {
        Path node = dir.resolve(id);
        assertTrue(Files.isDirectory(node.resolve("hsm/tokens")));
        String userPin = Files.readString(node.resolve("hsm/user-pin")).strip();
        assertEquals(
            Set.of(
                java.nio.file.attribute.PosixFilePermission.OWNER_READ,
                java.nio.file.attribute.PosixFilePermission.OWNER_WRITE),
            Files.getPosixFilePermissions(node.resolve("hsm/so-pin")));
        String properties = Files.readString(node.resolve("node.properties"));
        assertTrue(properties.contains("hsm.pkcs11.pin-file=hsm/user-pin"), properties);
        assertTrue(!properties.contains(userPin), "the PIN is in node.properties");
      }

      String n1 = "127.0.0.1:" + (Integer.parseInt(basePort) + 1);
      ManagedChannel channel = TestTls.adminChannel(dir, n1);
      try {
        // `up` returns once one node has registered; the others may still be opening their API.
        AtomicReference<ClusterStatus> answered = new AtomicReference<>();
        waitUntil(
            () -> {
              answered.set(
                  AdminServiceGrpc.newBlockingStub(channel)
                      .withWaitForReady()
                      .withDeadlineAfter(20, TimeUnit.SECONDS)
                      .getClusterStatus(GetClusterStatusRequest.getDefaultInstance()));
              return answered.get().getNodesList().stream()
                  .noneMatch(node -> node.getRole() == NodeRole.NODE_ROLE_UNREACHABLE);
            },
            Duration.ofSeconds(60),
            "every node answering the cluster status");
        ClusterStatus status = answered.get();
        Set<String> defaultCheckValues = new TreeSet<>();
        for (NodeStatus node : status.getNodesList()) {
          assertEquals("pkcs11", node.getHsm().getKind(), node.toString());
          assertEquals("keyrotor-" + node.getId(), node.getHsm().getTokenLabel());
          assertTrue(node.getHsm().getHealthy());
          for (ZoneMasterKeyVersion v : node.getZoneMasterKeysList()) {
            if (v.getZone().equals("default")) {
              defaultCheckValues.add(v.getKeyCheckValue());
            }
          }
        }
        assertEquals(1, defaultCheckValues.size(), defaultCheckValues.toString());
        NodeStatus us =
            status.getNodesList().stream().filter(n -> n.getId().equals("n2")).findFirst().get();
        assertTrue(us.getZoneMasterKeysList().stream().noneMatch(v -> v.getZone().equals("eu")));

        var keys = KeyServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
        keys.createKey(CreateKeyRequest.newBuilder().setName("eu-a").setZone("eu").build());
        keys.createKey(CreateKeyRequest.newBuilder().setName("eu-b").setZone("eu").build());
        keys.createKey(CreateKeyRequest.newBuilder().setName("plain").build());
      } finally {
        channel.shutdownNow();
      }

      // Version 2 of eu: created in n1's token, shared to n3's across processes, KEKs rewrapped.
      Result rotate = script("hsm", "rotate-master", "eu", "--dir", dir.toString());
      assertEquals(0, rotate.status(), rotate.all());
      Map<String, String> checkValues = checkValuesByNode(rotate.stdout());
      assertEquals(Set.of("n1", "n3"), checkValues.keySet(), rotate.stdout());
      assertEquals(checkValues.get("n1"), checkValues.get("n3"));
      assertTrue(
          rotate.stdout().contains("target=2 state=COMPLETED rewrapped=2 remaining=0"),
          rotate.stdout());
      Result list = script("hsm", "list", "--node", "n3", "--dir", dir.toString());
      assertTrue(
          list.stdout().contains("zone=eu version=2 kcv=" + checkValues.get("n1")), list.all());
      Result retire = script("hsm", "retire-version", "eu", "1", "--dir", dir.toString());
      assertEquals(0, retire.status(), retire.all());
      assertTrue(retire.stdout().contains("retired=[1]"), retire.all());

      assertEquals(0, script("cluster", "down", "--dir", dir.toString()).status());

      // The real server refuses to start, with a clear message, when its HSM is unusable.
      Path n3 = dir.resolve("n3");
      String ownConf = n3.resolve("hsm/softhsm2.conf").toString();
      Path pinFile = n3.resolve("hsm/user-pin");
      String pin = Files.readString(pinFile);
      Files.writeString(pinFile, "not-the-pin\n");
      Result wrongPin = startServer(n3, ownConf);
      Files.writeString(pinFile, pin);
      assertEquals(3, wrongPin.status(), wrongPin.all());
      assertTrue(wrongPin.stderr().contains("refused to start"), wrongPin.all());
      assertTrue(wrongPin.stderr().contains("the user PIN is wrong"), wrongPin.all());

      Result missingToken = startServer(n3, dir.resolve("n2/hsm/softhsm2.conf").toString());
      assertEquals(3, missingToken.status(), missingToken.all());
      assertTrue(
          missingToken.stderr().contains("no initialised token labelled 'keyrotor-n3'"),
          missingToken.all());

      Path properties = n3.resolve("node.properties");
      String original = Files.readString(properties);
      Files.writeString(
          properties,
          original.replace(
              "hsm.pkcs11.module=/usr/lib/softhsm/libsofthsm2.so",
              "hsm.pkcs11.module=/nonexistent/libpkcs11.so"));
      Result missingModule = startServer(n3, ownConf);
      Files.writeString(properties, original);
      assertEquals(3, missingModule.status(), missingModule.all());
      assertTrue(
          missingModule.stderr().contains("/nonexistent/libpkcs11.so does not exist"),
          missingModule.all());
      assertNotEquals("", pin);
    } finally {
      script("cluster", "down", "--dir", dir.toString(), "--wipe");
    }
  }

  private static Map<String, String> checkValuesByNode(String output) {
    Map<String, String> out = new HashMap<>();
    Matcher m = Pattern.compile("(?m)^(n\\d): zone=eu version=2 kcv=([0-9A-F]{6})").matcher(output);
    while (m.find()) {
      out.put(m.group(1), m.group(2));
    }
    return out;
  }
}
