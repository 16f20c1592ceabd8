package io.keyrotor.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import io.keyrotor.api.v1.CreateKeyRequest;
import io.keyrotor.api.v1.NodeStatus;
import io.keyrotor.api.v1.RotateKeyRequest;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.client.testing.FakeKeyService;
import io.keyrotor.client.testing.FakeNode;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/** The picocli command run in-process against a scripted server on a loopback port. */
class KeyrotorCliTest extends CliHarness<FakeKeyService> {

  KeyrotorCliTest() {
    super(new FakeKeyService());
  }

  @Test
  void zoneRotateMaster_wait_pollsUntilCompletedAndPrintsTheRotation() {
    var running =
        io.keyrotor.api.v1.ZoneMasterKeyRotation.newBuilder()
            .setZone("eu")
            .setFromVersion(1)
            .setTargetVersion(2)
            .setState(
                io.keyrotor.api.v1.ZoneMasterKeyRotationState
                    .ZONE_MASTER_KEY_ROTATION_STATE_RUNNING)
            .setRemaining(40)
            .build();
    admin.rotation(running);
    admin.nodeStatus(
        NodeStatus.newBuilder()
            .addZoneMasterKeyRotations(
                running.toBuilder()
                    .setState(
                        io.keyrotor.api.v1.ZoneMasterKeyRotationState
                            .ZONE_MASTER_KEY_ROTATION_STATE_COMPLETED)
                    .setRemaining(0)
                    .setRewrapped(40))
            .build());

    int status =
        run(
            "--servers",
            node.address(),
            "zone",
            "rotate-master",
            "eu",
            "--version",
            "2",
            "--wait",
            "--json");

    assertEquals(0, status, stderr);
    JsonObject json = stdoutJson();
    assertEquals("eu", json.get("zone").getAsString());
    assertEquals("COMPLETED", json.get("state").getAsString());
    assertEquals(40, json.get("rewrapped").getAsInt());
    assertEquals(2, admin.lastRotateRequest().getTargetVersion());
    assertFalse(admin.lastRotateRequest().getRequestId().isEmpty(), "a request id for retries");
  }

  @Test
  void keyCreate_json_printsKeyObjectAndSendsLabelsZoneAndDelay() {
    int status =
        run(
            "--servers",
            node.address(),
            "key",
            "create",
            "payments",
            "--zone",
            "eu",
            "--activation-delay",
            "1h30m",
            "--label",
            "team=pay",
            "--label",
            "env=prod",
            "--json");

    assertEquals(0, status, stderr);
    assertEquals("", stderr);
    JsonObject key = stdoutJson();
    assertEquals("payments", key.get("name").getAsString());
    assertEquals("eu", key.get("zone").getAsString());
    assertEquals(0, key.get("primary_version").getAsInt());
    assertEquals(
        "PENDING",
        key.getAsJsonArray("versions").get(0).getAsJsonObject().get("state").getAsString());
    assertEquals(
        "2025-03-01T13:30:00Z",
        key.getAsJsonArray("versions")
            .get(0)
            .getAsJsonObject()
            .get("activation_time")
            .getAsString());
    CreateKeyRequest sent = keys.received(CreateKeyRequest.class).get(0);
    assertEquals(5400, sent.getActivationDelay().getSeconds());
    assertEquals("pay", sent.getLabelsMap().get("team"));
    assertFalse(sent.getRequestId().isEmpty(), "the SDK attaches a request id");
  }

  @Test
  void keyGet_json_printsExactlyTheDocumentedLeadingFields() {
    run("--servers", node.address(), "key", "create", "payments");

    int status = run("--servers", node.address(), "key", "get", "payments", "--json");

    assertEquals(0, status, stderr);
    assertTrue(
        stdout.startsWith(
            "{\"name\":\"payments\",\"zone\":\"default\",\"primary_version\":1,\"versions\":"
                + "[{\"version\":1,\"state\":\"PRIMARY\","
                + "\"activation_time\":\"2025-03-01T12:00:00Z\""),
        stdout);
  }

  @Test
  void keyGet_missingKey_printsOneErrorLineAndExitsNonZero() {
    int status = run("--servers", node.address(), "key", "get", "payments");

    assertEquals(1, status);
    assertEquals("", stdout);
    assertEquals("error: key \"payments\" not found (KEY_NOT_FOUND)\n", stderr);
  }

  @Test
  void keyGet_missingKeyWithVerbose_addsStackTrace() {
    int status = run("--servers", node.address(), "key", "get", "payments", "--verbose");

    assertEquals(1, status);
    assertTrue(stderr.startsWith("error: key \"payments\" not found (KEY_NOT_FOUND)\n"), stderr);
    assertTrue(stderr.contains("\tat "), "stack trace expected with --verbose");
  }

  @Test
  void keyRotate_json_addsNewVersionAndSendsReason() {
    run("--servers", node.address(), "key", "create", "payments");

    int status =
        run(
            "--servers",
            node.address(),
            "key",
            "rotate",
            "payments",
            "--activation-delay",
            "5m",
            "--reason",
            "compromise",
            "--json");

    assertEquals(0, status, stderr);
    JsonObject json = stdoutJson();
    assertEquals(2, json.get("new_version").getAsInt());
    assertEquals("2025-03-01T12:05:00Z", json.get("activation_time").getAsString());
    assertEquals(2, json.getAsJsonArray("versions").size());
    RotateKeyRequest sent = keys.received(RotateKeyRequest.class).get(0);
    assertEquals(RotationReason.ROTATION_REASON_COMPROMISE, sent.getReason());
    assertEquals(300, sent.getActivationDelay().getSeconds());
  }

  @Test
  void keyList_json_printsKeysArrayAcrossPages() {
    for (String name : new String[] {"b", "a", "c"}) {
      run("--servers", node.address(), "key", "create", name);
    }

    int status = run("--servers", node.address(), "key", "list", "--json");

    assertEquals(0, status, stderr);
    JsonObject json = stdoutJson();
    assertEquals(3, json.getAsJsonArray("keys").size());
    assertEquals(
        "a", json.getAsJsonArray("keys").get(0).getAsJsonObject().get("name").getAsString());
  }

  @Test
  void keyDisableThenEnable_changesVersionState() {
    run("--servers", node.address(), "key", "create", "payments");

    assertEquals(0, run("--servers", node.address(), "key", "disable", "payments", "1", "--json"));
    assertEquals(
        "DISABLED",
        stdoutJson()
            .getAsJsonArray("versions")
            .get(0)
            .getAsJsonObject()
            .get("state")
            .getAsString());
    assertEquals(0, run("--servers", node.address(), "key", "enable", "payments", "v1"));
    assertTrue(stdout.startsWith("enabled payments v1\n"), stdout);
  }

  @Test
  void keyDisable_unknownVersion_namesKeyAndVersion() {
    run("--servers", node.address(), "key", "create", "payments");

    assertEquals(1, run("--servers", node.address(), "key", "disable", "payments", "7"));
    assertEquals("error: key \"payments\" has no version 7 (VERSION_NOT_FOUND)\n", stderr);
  }

  @Test
  void clusterStatus_fromDefaultClusterDir_printsNodes() throws IOException {
    admin.clusterStatus(
        TestClusters.clusterOf(
            TestClusters.leader("n1", "eu")
                .setTerm(2)
                .setAppliedIndex(17)
                .setStateDigest("9f86d081884c7d65")
                .setApiAddress(node.address())));
    clusterDirectory(workingDirectory.resolve(".keyrotor/cluster"), "%s\n");

    assertEquals(0, runAsGiven("cluster", "status", "--json"), stderr);
    JsonObject nodeJson = stdoutJson().getAsJsonArray("nodes").get(0).getAsJsonObject();
    assertEquals("LEADER", nodeJson.get("role").getAsString());
    assertEquals(17, nodeJson.get("applied_index").getAsLong());
    assertEquals("9f86d081884c7d65", nodeJson.get("state_digest").getAsString());

    assertEquals(0, runAsGiven("cluster", "status"));
    assertTrue(stdout.startsWith("ID   REGION  ROLE    TERM  APPLIED  DIGEST"), stdout);
    assertTrue(stdout.contains("n1*  eu      LEADER  2     17       9f86d081884c"), stdout);
  }

  @Test
  void clusterAddNode_replica_asksForAReadReplicaAndListsIt() {
    String[] node4 = {
      "--servers",
      node.address(),
      "cluster",
      "add-node",
      "n4",
      "--address",
      "127.0.0.1:7204",
      "--api-address",
      "127.0.0.1:7104",
      "--region",
      "ap"
    };
    String[] replica = java.util.Arrays.copyOf(node4, node4.length + 1);
    replica[node4.length] = "--replica";

    assertEquals(0, run(replica), stderr);
    assertTrue(admin.lastAddNodeRequest().getReplica());
    assertEquals(
        "added n4 as a read replica (zones proved: [default]); voters: [n1, n2, n3];"
            + " read replicas: [n4]",
        stdout);

    assertEquals(0, run(node4), stderr);
    assertFalse(admin.lastAddNodeRequest().getReplica(), "without --replica: a voter");
    assertEquals("added n4 (zones proved: [default]); voters: [n1, n2, n3, n4]", stdout);
  }

  @Test
  void clusterDirOption_relativePath_isResolvedAgainstWorkingDirectory() throws IOException {
    clusterDirectory(workingDirectory.resolve("elsewhere/c1"), "servers=%s\n");

    assertEquals(0, run("--cluster-dir", "elsewhere/c1", "key", "list"), stderr);
    assertEquals("no keys\n", stdout);
  }

  @Test
  void missingClusterDir_explainsHowToPointAtACluster() {
    assertEquals(1, runAsGiven("key", "list"));
    assertEquals(
        "error: no cluster at "
            + workingDirectory.toAbsolutePath().resolve(".keyrotor/cluster")
            + " (no servers file; start one with scripts/cluster up, or pass --servers"
            + " host:port,...)\n",
        stderr);
  }

  @Test
  void noServerReachable_printsOneLineListingTheServers() {
    String down1 = FakeNode.downAddress();
    String down2 = FakeNode.downAddress();

    int status =
        run("--servers", down1 + "," + down2, "--deadline", "300ms", "key", "get", "payments");

    assertEquals(1, status);
    assertEquals("error: no server reachable at " + down1 + "," + down2 + "\n", stderr);
  }

  @Test
  void badDuration_isAUsageErrorWithExitTwo() {
    int status =
        run("--servers", node.address(), "key", "rotate", "payments", "--activation-delay", "5y");

    assertEquals(2, status);
    assertEquals(1, stderr.lines().count(), stderr);
    assertTrue(stderr.startsWith("error: Invalid value for option '--activation-delay'"), stderr);
    assertTrue(stderr.contains("unknown unit \"y\""), stderr);
    assertTrue(stderr.endsWith("(see: keyrotor key rotate --help)\n"), stderr);
    assertTrue(keys.received().isEmpty(), "nothing is sent for a bad command line");
  }

  @Test
  void missingCommand_isAUsageError() {
    assertEquals(2, run("--servers", node.address()));
    assertEquals(
        "error: missing command: key, rotations, datakey, encrypt, decrypt, reencrypt, cluster or"
            + " zone (see: keyrotor --help)\n",
        stderr);
    assertEquals(2, run("--servers", node.address(), "key"));
    assertEquals(1, stderr.lines().count(), stderr);
  }

  @Test
  void serversAndClusterDirTogether_areRefused() {
    assertEquals(1, run("--servers", node.address(), "--cluster-dir", "x", "key", "list"));
    assertEquals("error: give either --servers or --cluster-dir, not both\n", stderr);
  }

  @Test
  void jsonFlag_beforeCommand_isHonouredToo() {
    run("--servers", node.address(), "key", "create", "payments");

    assertEquals(0, run("--json", "--servers", node.address(), "key", "get", "payments"));
    assertEquals("payments", stdoutJson().get("name").getAsString());
  }
}
