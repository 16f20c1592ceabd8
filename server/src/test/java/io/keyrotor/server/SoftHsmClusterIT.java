package io.keyrotor.server;

import static io.keyrotor.server.KeyRequests.newKey;
import static io.keyrotor.server.KeyRequests.rotation;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.keyrotor.api.v1.CreateKeyRequest;
import io.keyrotor.api.v1.GetNodeStatusRequest;
import io.keyrotor.api.v1.NodeStatus;
import io.keyrotor.api.v1.RetireZoneMasterKeyVersionRequest;
import io.keyrotor.api.v1.RotateKeyRequest;
import io.keyrotor.api.v1.RotateZoneMasterKeyRequest;
import io.keyrotor.api.v1.ZoneMasterKeyRotation;
import io.keyrotor.api.v1.ZoneMasterKeyRotationState;
import io.keyrotor.api.v1.ZoneMasterKeyVersion;
import io.keyrotor.consensus.testing.Replicas;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.SecretKeyBytes;
import io.keyrotor.hsm.WrapMechanism;
import io.keyrotor.hsm.WrappedKey;
import io.keyrotor.hsm.pkcs11.Pkcs11Ceremonies;
import io.keyrotor.hsm.pkcs11.TokenLocator;
import io.keyrotor.proto.internal.v1.AuditRecord;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.WrappedKeyMaterial;
import io.keyrotor.server.hsm.HsmHealthProbe;
import io.keyrotor.server.hsm.ZoneMasterKeyRotationDriver;
import io.keyrotor.server.local.LocalClusterLayout;
import io.keyrotor.server.testing.ByteSearch;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 3-node cluster in three regions (n1 eu, n2 us, n3 ap) on real SoftHSM2 tokens, one per node,
 * with zone master keys made by the key ceremonies: zone residency, zone master key rotation with
 * the leader stopped in the middle, retirement of the old version, a scan of every file for
 * plaintext KEKs. The steps build on each other, in order.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SoftHsmClusterIT {
  private static final List<String> REGIONS = List.of("eu", "us", "ap");
  private static final int DEFAULT_KEYS = 30;

  private Path directory;
  private LocalTestCluster cluster;

  /** Every plaintext KEK the test saw (unwrapped through an HSM), for the leak scan. */
  private final List<byte[]> plaintextKeks = new ArrayList<>();

  private static String label(String nodeId) {
    return "zmk-it-" + nodeId;
  }

  @BeforeAll
  void startCluster(@TempDir Path tempDirectory) throws Exception {
    System.setProperty(ZoneMasterKeyRotationDriver.BATCH_SIZE_PROPERTY, "3");
    System.setProperty(ZoneMasterKeyRotationDriver.INTERVAL_PROPERTY, "100");
    System.setProperty(HsmHealthProbe.INTERVAL_PROPERTY, "300");
    directory = tempDirectory.resolve("cluster");
    SoftHsmTestTokens.initialise(List.of(label("n1"), label("n2"), label("n3")));
    cluster = new LocalTestCluster(directory, 3, REGIONS, LocalClusterLayout.SOFTHSM2);
    Map<String, Set<String>> holders = new TreeMap<>();
    for (String id : List.of("n1", "n2", "n3")) {
      SoftHsmTestTokens.useToken(directory.resolve(id), label(id));
      for (String zone : cluster.layout().zonesOf(id)) {
        holders.computeIfAbsent(zone, z -> new TreeSet<>()).add(id);
      }
    }
    // The ceremonies: each zone created in its first node's token and shared to the others.
    for (Map.Entry<String, Set<String>> zone : holders.entrySet()) {
      List<String> nodes = new ArrayList<>(zone.getValue());
      createAndShare(zone.getKey(), nodes);
    }
    cluster.startAll();
  }

  @AfterAll
  void stopCluster() {
    System.clearProperty(ZoneMasterKeyRotationDriver.BATCH_SIZE_PROPERTY);
    System.clearProperty(ZoneMasterKeyRotationDriver.INTERVAL_PROPERTY);
    System.clearProperty(HsmHealthProbe.INTERVAL_PROPERTY);
    LocalTestCluster.closeChecked(cluster);
  }

  /** Creates the next version of a zone in the first node's token and shares it to the others. */
  private static int createAndShare(String zone, List<String> nodes) throws HsmException {
    TokenLocator first = TokenLocator.softHsm2(label(nodes.get(0)));
    int version = Pkcs11Ceremonies.createZone(first, SoftHsmTestTokens.USER_PIN, zone);
    for (String other : nodes.subList(1, nodes.size())) {
      String checkValue =
          Pkcs11Ceremonies.shareZone(
              first,
              SoftHsmTestTokens.SO_PIN,
              SoftHsmTestTokens.USER_PIN,
              TokenLocator.softHsm2(label(other)),
              SoftHsmTestTokens.USER_PIN,
              zone,
              version);
      assertEquals(
          Pkcs11Ceremonies.keyCheckValue(first, SoftHsmTestTokens.USER_PIN, zone, version),
          checkValue);
    }
    return version;
  }

  private static WrappedKey wrapped(WrappedKeyMaterial kek) {
    return new WrappedKey(
        kek.getZone(),
        kek.getZoneMasterKeyVersion(),
        WrapMechanism.valueOf(kek.getMechanism()),
        kek.getCiphertext().toByteArray());
  }

  /** The plaintext of a wrapped KEK, unwrapped by a node's HSM (and remembered for the scan). */
  private byte[] unwrapOn(String nodeId, WrappedKeyMaterial kek) throws HsmException {
    try (SecretKeyBytes plain = cluster.nodes.get(nodeId).hsm().unwrap(wrapped(kek))) {
      byte[] bytes = plain.revealCopy();
      plaintextKeks.add(bytes.clone());
      return bytes;
    }
  }

  private static String reason(StatusRuntimeException e) {
    return GrpcErrors.reason(e);
  }

  private ZoneMasterKeyRotation rotationOn(String nodeId, String zone) {
    NodeStatus status =
        cluster.admin(nodeId).getNodeStatus(GetNodeStatusRequest.getDefaultInstance());
    return status.getZoneMasterKeyRotationsList().stream()
        .filter(r -> r.getZone().equals(zone))
        .findFirst()
        .orElse(ZoneMasterKeyRotation.getDefaultInstance());
  }

  private void awaitCompleted(String nodeId, String zone, int target) {
    Replicas.waitUntil(
        () -> {
          ZoneMasterKeyRotation r = rotationOn(nodeId, zone);
          return r.getTargetVersion() == target
              && r.getState()
                  == ZoneMasterKeyRotationState.ZONE_MASTER_KEY_ROTATION_STATE_COMPLETED;
        },
        Duration.ofSeconds(60),
        "the rotation of " + zone + " to version " + target + " to complete on " + nodeId);
  }

  @Test
  @Order(1)
  void residency_usNodeNeverServesZoneEu() throws Exception {
    var key = cluster.keys("n1").createKey(newKey("eu-orders", "eu"));
    assertEquals("eu", key.getZone());

    StatusRuntimeException create =
        assertThrows(
            StatusRuntimeException.class,
            () -> cluster.keys("n2").createKey(newKey("eu-from-us", "eu")));
    assertEquals(Status.Code.FAILED_PRECONDITION, create.getStatus().getCode());
    assertEquals("ZONE_NOT_HELD", reason(create));
    assertTrue(
        create.getStatus().getDescription().contains(cluster.apiAddress("n1")),
        create.getStatus().getDescription());

    StatusRuntimeException rotate =
        assertThrows(
            StatusRuntimeException.class,
            () -> cluster.keys("n2").rotateKey(rotation("eu-orders")));
    assertEquals("ZONE_NOT_HELD", reason(rotate));

    // Every node replicates the wrapped KEK; only the eu node's HSM can unwrap it.
    cluster.awaitConvergence();
    WrappedKeyMaterial kek =
        cluster
            .nodes
            .get("n2")
            .raft()
            .state()
            .key("eu-orders")
            .orElseThrow()
            .getVersions(0)
            .getKek();
    assertEquals(1, kek.getZoneMasterKeyVersion());
    for (String outside : List.of("n2", "n3")) {
      HsmException refused =
          assertThrows(
              HsmException.class, () -> cluster.nodes.get(outside).hsm().unwrap(wrapped(kek)));
      assertEquals(HsmException.Reason.ZONE_NOT_HELD, refused.reason());
    }
    assertEquals(32, unwrapOn("n1", kek).length);

    // NodeStatus shows each node's zones, token and master key versions.
    NodeStatus us = cluster.admin("n2").getNodeStatus(GetNodeStatusRequest.getDefaultInstance());
    assertEquals(List.of("default", "us"), us.getZonesList());
    assertEquals("pkcs11", us.getHsm().getKind());
    assertEquals(label("n2"), us.getHsm().getTokenLabel());
    assertTrue(us.getHsm().getHealthy());
    assertTrue(us.getZoneMasterKeysList().stream().noneMatch(v -> v.getZone().equals("eu")));
  }

  @Test
  @Order(2)
  void rotationOfZoneEu_isDrivenByTheEuNodeOnly() throws Exception {
    int version = createAndShare("eu", List.of("n1"));
    assertEquals(2, version);
    // A us node cannot pick the version (it does not hold the zone) ...
    StatusRuntimeException refused =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                cluster
                    .admin("n2")
                    .rotateZoneMasterKey(
                        RotateZoneMasterKeyRequest.newBuilder().setZone("eu").build()));
    assertEquals("ZONE_NOT_HELD", reason(refused));
    // ... but may relay a rotation to an explicit version, which the eu node carries out.
    ZoneMasterKeyRotation started =
        cluster
            .admin("n2")
            .rotateZoneMasterKey(
                RotateZoneMasterKeyRequest.newBuilder().setZone("eu").setTargetVersion(2).build())
            .getRotation();
    assertEquals(2, started.getTargetVersion());
    awaitCompleted("n2", "eu", 2);
    cluster.awaitConvergence();

    List<AuditRecord> audit = cluster.nodes.get("n3").raft().state().audit(0, 100_000);
    List<AuditRecord> batches =
        audit.stream()
            .filter(a -> a.getAction().equals("REWRAP_KEKS") && a.getDetail().contains("zone=eu "))
            .toList();
    assertFalse(batches.isEmpty());
    batches.forEach(a -> assertEquals("n1", a.getProposerNode(), a.toString()));
    KeyRecord key = cluster.nodes.get("n1").raft().state().key("eu-orders").orElseThrow();
    assertEquals(2, key.getVersions(0).getKek().getZoneMasterKeyVersion());
  }

  @Test
  @Order(3)
  void rotationOfDefault_survivesLeaderStop_everyKekEndsOnNewVersion() throws Exception {
    String leader = cluster.leaderId();
    for (int i = 0; i < DEFAULT_KEYS; i++) {
      cluster.keys(leader).createKey(CreateKeyRequest.newBuilder().setName("k" + i).build());
    }
    for (int i = 0; i < 5; i++) {
      cluster.keys(leader).rotateKey(RotateKeyRequest.newBuilder().setName("k" + i).build());
    }
    cluster.awaitConvergence();
    // The plaintext of every KEK of zone default before the rotation, through the HSM.
    Map<String, byte[]> before = new LinkedHashMap<>();
    for (KeyRecord key : cluster.nodes.get(leader).raft().state().allKeys()) {
      if (key.getZone().equals("default")) {
        for (KeyVersionRecord v : key.getVersionsList()) {
          assertEquals(1, v.getKek().getZoneMasterKeyVersion());
          before.put(key.getName() + "/" + v.getVersion(), unwrapOn(leader, v.getKek()));
        }
      }
    }
    assertEquals(DEFAULT_KEYS + 5, before.size());

    assertEquals(2, createAndShare("default", List.of("n1", "n2", "n3")));
    // Every node now reports default/2 with one check value.
    Set<String> checkValues = new TreeSet<>();
    for (String id : List.of("n1", "n2", "n3")) {
      for (ZoneMasterKeyVersion v :
          cluster
              .admin(id)
              .getNodeStatus(GetNodeStatusRequest.getDefaultInstance())
              .getZoneMasterKeysList()) {
        if (v.getZone().equals("default") && v.getVersion() == 2) {
          checkValues.add(v.getKeyCheckValue());
        }
      }
    }
    assertEquals(1, checkValues.size(), checkValues.toString());

    ZoneMasterKeyRotation started =
        cluster
            .admin(leader)
            .rotateZoneMasterKey(
                RotateZoneMasterKeyRequest.newBuilder()
                    .setZone("default")
                    .setRequestId("rotate-default-2")
                    .build())
            .getRotation();
    assertEquals(2, started.getTargetVersion());
    assertEquals(1, started.getFromVersion());
    assertEquals(
        ZoneMasterKeyRotationState.ZONE_MASTER_KEY_ROTATION_STATE_RUNNING, started.getState());

    // Stop the leader once some batches are in, well before the end.
    Replicas.waitUntil(
        () -> rotationOn(leader, "default").getBatches() >= 2,
        Duration.ofSeconds(30),
        "two rewrap batches");
    ZoneMasterKeyRotation midway = rotationOn(leader, "default");
    assertTrue(midway.getRemaining() > 0, "stopped too late: " + midway);
    cluster.stop(leader);
    String survivor = cluster.followerIds().get(0);

    // Versions still under 1 keep unwrapping while the job runs.
    KeyRecord k0 = cluster.nodes.get(survivor).raft().state().key("k" + (DEFAULT_KEYS - 1)).get();
    if (k0.getVersions(0).getKek().getZoneMasterKeyVersion() == 1) {
      assertArrayEquals(
          before.get(k0.getName() + "/1"), unwrapOn(survivor, k0.getVersions(0).getKek()));
    }

    awaitCompleted(survivor, "default", 2);
    ZoneMasterKeyRotation done = rotationOn(survivor, "default");
    assertEquals(0, done.getRemaining());
    assertEquals(before.size(), done.getRewrapped(), done.toString());

    // Every KEK is on version 2, and it is the same KEK as before (so data it protects decrypts).
    for (KeyRecord key : cluster.nodes.get(survivor).raft().state().allKeys()) {
      if (!key.getZone().equals("default")) {
        continue;
      }
      for (KeyVersionRecord v : key.getVersionsList()) {
        assertEquals(2, v.getKek().getZoneMasterKeyVersion(), key.getName());
        assertArrayEquals(
            before.get(key.getName() + "/" + v.getVersion()),
            unwrapOn(survivor, v.getKek()),
            key.getName() + "/" + v.getVersion());
      }
    }
    // The stopped node comes back, catches up and agrees.
    cluster.start(leader);
    cluster.awaitConvergence();
    assertEquals(
        ZoneMasterKeyRotationState.ZONE_MASTER_KEY_ROTATION_STATE_COMPLETED,
        rotationOn(leader, "default").getState());
    // New keys are wrapped under the new version.
    cluster.keys(survivor).createKey(newKey("after"));
    cluster.awaitConvergence();
    assertEquals(
        2,
        cluster
            .nodes
            .get(leader)
            .raft()
            .state()
            .key("after")
            .orElseThrow()
            .getVersions(0)
            .getKek()
            .getZoneMasterKeyVersion());
  }

  @Test
  @Order(4)
  void retire_oldVersionOnceUnused_currentRefused() throws Exception {
    ZoneMasterKeyRotation retired =
        cluster
            .admin("n3")
            .retireZoneMasterKeyVersion(
                RetireZoneMasterKeyVersionRequest.newBuilder()
                    .setZone("default")
                    .setVersion(1)
                    .build())
            .getRotation();
    assertEquals(List.of(1), retired.getRetiredVersionsList());
    StatusRuntimeException current =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                cluster
                    .admin("n3")
                    .retireZoneMasterKeyVersion(
                        RetireZoneMasterKeyVersionRequest.newBuilder()
                            .setZone("default")
                            .setVersion(2)
                            .build()));
    assertEquals(Status.Code.FAILED_PRECONDITION, current.getStatus().getCode());
    assertEquals("ZMK_VERSION_CURRENT", reason(current));
    // Zone ap was never rotated: its only version is current.
    StatusRuntimeException never =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                cluster
                    .admin("n1")
                    .retireZoneMasterKeyVersion(
                        RetireZoneMasterKeyVersionRequest.newBuilder()
                            .setZone("ap")
                            .setVersion(1)
                            .build()));
    assertEquals("ZMK_VERSION_CURRENT", reason(never));
  }

  @Test
  @Order(5)
  void noPlaintextKek_inDataDirsTokensOrLogs() throws Exception {
    cluster.awaitConvergence();
    // Snapshots too: every node writes a checkpoint of its state.
    for (String id : cluster.nodes.keySet()) {
      cluster.admin(id).takeSnapshot(io.keyrotor.api.v1.TakeSnapshotRequest.getDefaultInstance());
    }
    assertTrue(
        plaintextKeks.size() >= DEFAULT_KEYS * 2, "too few KEKs seen: " + plaintextKeks.size());
    List<byte[]> needles = new ArrayList<>();
    for (byte[] kek : plaintextKeks) {
      needles.add(kek);
      needles.add(HexFormat.of().formatHex(kek).getBytes(StandardCharsets.US_ASCII));
      needles.add(
          HexFormat.of().withUpperCase().formatHex(kek).getBytes(StandardCharsets.US_ASCII));
      needles.add(Base64.getEncoder().encode(kek));
      needles.add(Base64.getUrlEncoder().withoutPadding().encode(kek));
    }
    List<Path> roots = new ArrayList<>();
    roots.add(directory); // node configs, PIN files, Raft logs, snapshots, RocksDB
    roots.add(SoftHsmTestTokens.tokenDirectory());
    String testLog = System.getProperty("keyrotor.test.log");
    if (testLog != null) {
      roots.add(Path.of(testLog).getParent());
    }
    Path reports = Path.of("target", "failsafe-reports");
    if (Files.isDirectory(reports)) {
      roots.add(reports);
    }
    int scanned = 0;
    long bytes = 0;
    for (Path root : roots) {
      List<Path> files;
      try (Stream<Path> walk = Files.walk(root)) {
        files = walk.filter(Files::isRegularFile).toList();
      }
      for (Path file : files) {
        byte[] content;
        try {
          content = Files.readAllBytes(file);
        } catch (IOException e) {
          continue; // a file removed while we walked (a RocksDB compaction, a log roll)
        }
        scanned++;
        bytes += content.length;
        for (byte[] needle : needles) {
          assertEquals(
              -1,
              ByteSearch.indexOf(content, needle),
              () -> "plaintext KEK material found in " + file);
        }
      }
    }
    assertTrue(scanned > 20, "scanned only " + scanned + " files");
    assertTrue(bytes > 0);
  }
}
