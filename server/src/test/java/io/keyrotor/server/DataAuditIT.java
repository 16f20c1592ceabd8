package io.keyrotor.server;

import static io.keyrotor.consensus.testing.Replicas.waitUntil;
import static io.keyrotor.server.KeyRequests.newKey;
import static io.keyrotor.server.testing.ByteSearch.contains;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.keyrotor.api.v1.BatchDecryptRequest;
import io.keyrotor.api.v1.BatchReEncryptRequest;
import io.keyrotor.api.v1.DataAuditRecord;
import io.keyrotor.api.v1.DataAuditServiceGrpc;
import io.keyrotor.api.v1.DecryptRequest;
import io.keyrotor.api.v1.EncryptRequest;
import io.keyrotor.api.v1.GenerateDataKeyRequest;
import io.keyrotor.api.v1.GetKeyRequest;
import io.keyrotor.api.v1.KeyServiceGrpc;
import io.keyrotor.api.v1.ListDataAuditRecordsRequest;
import io.keyrotor.api.v1.ReEncryptRequest;
import io.keyrotor.proto.internal.v1.AuditRecord;
import io.keyrotor.server.audit.DataAuditVerifier;
import io.keyrotor.server.audit.DataAuditVerifier.CommittedHead;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The per-node data audit stream on a real 3-node cluster over mutual TLS: n1 audits into its data
 * directory and streams both audit streams to a JSON Lines file and to a syslog socket of the
 * test's; n2 and n3 cannot write their logs (their audit directory lies under a regular file), n2
 * failing closed (the default) and n3 open.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DataAuditIT {
  private static final String PLAINTEXT = "card 4111 1111 1111 1111";

  private LocalTestCluster cluster;
  private DatagramSocket syslog;
  private Path sinkFile;

  @BeforeAll
  void start(@TempDir Path directory) throws Exception {
    syslog = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    syslog.setSoTimeout(1_000);
    sinkFile = directory.resolve("sink").resolve("audit.jsonl");
    Path blocker = directory.resolve("not-a-directory");
    Files.writeString(blocker, "a regular file: nothing can be created under it");
    cluster = new LocalTestCluster(directory.resolve("cluster"), 3, List.of("eu"));
    for (String id : List.of("n1", "n2", "n3")) {
      cluster.configure(id, "reads.follower", "read-index");
      cluster.configure(id, "audit.data.head-interval", "200ms");
    }
    cluster.configure("n1", "audit.sink.file", sinkFile.toString());
    cluster.configure("n1", "audit.sink.syslog", "127.0.0.1:" + syslog.getLocalPort());
    cluster.configure("n2", "audit.data.directory", blocker.resolve("audit").toString());
    cluster.configure("n3", "audit.data.directory", blocker.resolve("audit").toString());
    cluster.configure("n3", "audit.data.failure-mode", "open");
    cluster.startAll();
  }

  @AfterAll
  void stop() {
    LocalTestCluster.closeChecked(cluster);
    if (syslog != null) {
      syslog.close();
    }
  }

  private String newKeyNamed(String prefix) {
    String name = prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    cluster.keysAs(cluster.leaderId(), "admin").createKey(newKey(name));
    return name;
  }

  private List<DataAuditRecord> records(String node, long afterSequence) {
    List<DataAuditRecord> out = new ArrayList<>();
    Iterator<DataAuditRecord> it =
        DataAuditServiceGrpc.newBlockingStub(cluster.channelAs(node, "admin"))
            .listDataAuditRecords(
                ListDataAuditRecordsRequest.newBuilder()
                    .setAfterSequence(afterSequence)
                    .setLimit(1_000)
                    .build());
    it.forEachRemaining(out::add);
    return out;
  }

  private EncryptRequest encrypt(String key) {
    return EncryptRequest.newBuilder()
        .setKeyName(key)
        .setPlaintext(ByteString.copyFromUtf8(PLAINTEXT))
        .putContext("app", "audit-test")
        .build();
  }

  private DecryptRequest decrypt(ByteString ciphertext) {
    return DecryptRequest.newBuilder()
        .setCiphertext(ciphertext)
        .putContext("app", "audit-test")
        .build();
  }

  @Test
  void everyDataPlaneCallReadAndDenial_oneRecordEach_withPrincipalAndOutcome_noSecrets() {
    String key = newKeyNamed("audited");
    KeyServiceGrpc.KeyServiceBlockingStub service = cluster.keysAs("n1", "service");
    // The key's creation reaches n1 before the first call (read-index reads wait for it).
    ByteString sealed = service.encrypt(encrypt(key)).getCiphertext();
    long before = cluster.nodes.get("n1").dataAudit().head().sequence();

    GenerateDataKeyRequest dataKey =
        GenerateDataKeyRequest.newBuilder().setKeyName(key).putContext("app", "x").build();
    ByteString plaintextKey = service.generateDataKey(dataKey).getPlaintext();
    service.generateDataKeyWithoutPlaintext(dataKey);
    ByteString again = service.encrypt(encrypt(key)).getCiphertext();
    service.decrypt(decrypt(sealed));
    service.reEncrypt(
        ReEncryptRequest.newBuilder()
            .setCiphertext(sealed)
            .putContext("app", "audit-test")
            .setDestinationKeyName(key)
            .build());
    service.batchDecrypt(
        BatchDecryptRequest.newBuilder()
            .addItems(decrypt(sealed))
            .addItems(decrypt(ByteString.copyFromUtf8("not a ciphertext")))
            .build());
    service.batchReEncrypt(
        BatchReEncryptRequest.newBuilder()
            .addItems(
                ReEncryptRequest.newBuilder()
                    .setCiphertext(again)
                    .putContext("app", "audit-test")
                    .setDestinationKeyName(key))
            .build());
    service.getKey(GetKeyRequest.newBuilder().setName(key).build());
    StatusRuntimeException denied =
        assertThrows(
            StatusRuntimeException.class,
            () -> cluster.keysAs("n1", "intruder").decrypt(decrypt(sealed)));
    assertEquals(Status.Code.PERMISSION_DENIED, denied.getStatus().getCode());
    StatusRuntimeException writeDenied =
        assertThrows(
            StatusRuntimeException.class, () -> service.createKey(newKey(key + "-not-allowed")));
    assertEquals(Status.Code.PERMISSION_DENIED, writeDenied.getStatus().getCode());

    // Closed: each record was durable before its call returned.
    List<DataAuditRecord> records = records("n1", before);
    List<String> methods = records.stream().map(DataAuditRecord::getMethod).toList();
    assertEquals(
        List.of(
            "keyrotor.v1.KeyService/GenerateDataKey",
            "keyrotor.v1.KeyService/GenerateDataKeyWithoutPlaintext",
            "keyrotor.v1.KeyService/Encrypt",
            "keyrotor.v1.KeyService/Decrypt",
            "keyrotor.v1.KeyService/ReEncrypt",
            "keyrotor.v1.KeyService/BatchDecrypt",
            "keyrotor.v1.KeyService/BatchReEncrypt",
            "keyrotor.v1.KeyService/GetKey",
            "keyrotor.v1.KeyService/Decrypt",
            "keyrotor.v1.KeyService/CreateKey"),
        methods,
        "one record per call, in order");
    for (int i = 0; i < 8; i++) {
      DataAuditRecord r = records.get(i);
      assertEquals("service", r.getPrincipal(), r.toString());
      assertEquals(0, r.getCode(), r.toString());
      assertEquals(key, r.getKeyName(), r.toString());
      assertEquals("n1", r.getNode());
      assertEquals(before + i + 1, r.getSequence());
    }
    assertEquals(1, records.get(0).getKeyVersion(), "the version used");
    assertEquals(key, records.get(4).getDestinationKeyName());
    assertEquals(2, records.get(5).getItems());
    assertEquals(1, records.get(5).getFailedItems(), "the malformed item failed");
    DataAuditRecord intruder = records.get(8);
    assertEquals("intruder", intruder.getPrincipal());
    assertEquals(Status.Code.PERMISSION_DENIED.value(), intruder.getCode());
    assertEquals("PERMISSION_DENIED", intruder.getReason());
    assertEquals(key, intruder.getKeyName(), "the key the ciphertext names");
    DataAuditRecord createDenied = records.get(9);
    assertEquals("service", createDenied.getPrincipal());
    assertEquals(Status.Code.PERMISSION_DENIED.value(), createDenied.getCode());

    // Neither plaintext, data key, ciphertext nor context values are in any record.
    for (DataAuditRecord r : records) {
      String bytes = new String(r.toByteArray(), StandardCharsets.ISO_8859_1);
      assertFalse(bytes.contains(PLAINTEXT), "plaintext in " + r);
      assertFalse(bytes.contains("audit-test"), "a context value in " + r);
      assertFalse(contains(r.toByteArray(), plaintextKey.toByteArray()), "the data key");
      assertFalse(contains(r.toByteArray(), sealed.substring(0, 48).toByteArray()), "ciphertext");
    }

    // Reading the stream needs READ_AUDIT.
    StatusRuntimeException noAudit =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                DataAuditServiceGrpc.newBlockingStub(cluster.channelAs("n1", "service"))
                    .listDataAuditRecords(ListDataAuditRecordsRequest.getDefaultInstance())
                    .hasNext());
    assertEquals(Status.Code.PERMISSION_DENIED, noAudit.getStatus().getCode());
    // Filters: by principal.
    Iterator<DataAuditRecord> byIntruder =
        DataAuditServiceGrpc.newBlockingStub(cluster.channelAs("n1", "admin"))
            .listDataAuditRecords(
                ListDataAuditRecordsRequest.newBuilder().setPrincipal("intruder").build());
    assertEquals(intruder, byIntruder.next());
    assertFalse(byIntruder.hasNext());
  }

  @Test
  void chainVerifies_editedRecordDetected_headsCommittedOnEveryNode() {
    String key = newKeyNamed("chained");
    KeyServiceGrpc.KeyServiceBlockingStub service = cluster.keysAs("n1", "service");
    for (int i = 0; i < 5; i++) {
      service.encrypt(encrypt(key));
    }
    long upTo = cluster.nodes.get("n1").dataAudit().head().sequence();
    List<DataAuditRecord> all = records("n1", 0);
    assertEquals(upTo, all.get(all.size() - 1).getSequence());
    assertTrue(
        DataAuditVerifier.verifyChain(all).ok(), DataAuditVerifier.verifyChain(all)::problem);

    List<DataAuditRecord> edited = new ArrayList<>(all);
    int victim = all.size() / 2;
    edited.set(victim, all.get(victim).toBuilder().setPrincipal("someone-else").build());
    DataAuditVerifier.Result broken = DataAuditVerifier.verifyChain(edited);
    assertFalse(broken.ok());
    assertEquals(all.get(victim).getSequence(), broken.failedSequence(), broken.problem());

    // Every node applies n1's head into its replicated audit chain.
    for (String node : List.of("n1", "n2", "n3")) {
      waitUntil(
          () -> committedHead(node, "n1").map(h -> h.sequence() >= upTo).orElse(false),
          Duration.ofSeconds(60),
          node + " holds n1's data audit head at " + upTo + " or later");
    }
    CommittedHead head = committedHead("n2", "n1").orElseThrow();
    List<DataAuditRecord> exported = records("n1", 0);
    DataAuditVerifier.Result matched = DataAuditVerifier.verifyAgainst(exported, head);
    assertTrue(matched.ok(), matched.problem());
    List<DataAuditRecord> rewritten = new ArrayList<>(exported);
    int at = (int) head.sequence() - 1;
    rewritten.set(at, exported.get(at).toBuilder().setKeyName("elsewhere").build());
    assertFalse(DataAuditVerifier.verifyAgainst(rewritten, head).ok());
  }

  /** The latest data audit head of {@code of} in {@code node}'s replicated audit chain. */
  private Optional<CommittedHead> committedHead(String node, String of) {
    Optional<CommittedHead> latest = Optional.empty();
    long from = 0;
    while (true) {
      List<AuditRecord> page = cluster.nodes.get(node).raft().state().audit(from, 1_000);
      for (AuditRecord r : page) {
        if (r.getAction().equals("RECORD_DATA_AUDIT_HEAD") && r.getResultCode() == 0) {
          Optional<CommittedHead> h = CommittedHead.parse(r.getDetail());
          if (h.isPresent() && h.get().node().equals(of)) {
            latest = h;
          }
        }
      }
      if (page.size() < 1_000) {
        return latest;
      }
      from = page.get(page.size() - 1).getLogIndex() + 1;
    }
  }

  @Test
  void unwritableLog_closedRefusesWithTheAuditReason_openServes() {
    String key = newKeyNamed("unwritable");
    ByteString sealed = cluster.keysAs("n1", "service").encrypt(encrypt(key)).getCiphertext();

    StatusRuntimeException refused =
        assertThrows(
            StatusRuntimeException.class,
            () -> cluster.keysAs("n2", "service").decrypt(decrypt(sealed)));
    assertEquals(Status.Code.UNAVAILABLE, refused.getStatus().getCode());
    assertEquals("AUDIT_UNAVAILABLE", GrpcErrors.reason(refused));
    assertTrue(
        refused.getStatus().getDescription().contains("audit"),
        refused.getStatus().getDescription());
    StatusRuntimeException noKey =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                cluster
                    .keysAs("n2", "service")
                    .generateDataKey(GenerateDataKeyRequest.newBuilder().setKeyName(key).build()));
    assertEquals("AUDIT_UNAVAILABLE", GrpcErrors.reason(noKey));

    assertArrayEquals(
        PLAINTEXT.getBytes(StandardCharsets.UTF_8),
        cluster.keysAs("n3", "service").decrypt(decrypt(sealed)).getPlaintext().toByteArray(),
        "open: served without its record");
    assertTrue(cluster.nodes.get("n3").dataAudit().failures() > 0, "and counted");
  }

  @Test
  void fileAndSyslogSinks_receiveDataAndReplicatedRecords() throws Exception {
    // What earlier tests sent may fill the socket's buffer: read it empty first.
    syslog.setSoTimeout(200);
    byte[] drain = new byte[16_384];
    for (int i = 0; i < 100_000; i++) {
      try {
        syslog.receive(new DatagramPacket(drain, drain.length));
      } catch (SocketTimeoutException empty) {
        break;
      }
    }
    syslog.setSoTimeout(1_000);
    String key = newKeyNamed("sunk");
    ByteString sealed = cluster.keysAs("n1", "service").encrypt(encrypt(key)).getCiphertext();
    cluster.keysAs("n1", "service").decrypt(decrypt(sealed));

    waitUntil(
        () -> {
          try {
            String text = Files.exists(sinkFile) ? Files.readString(sinkFile) : "";
            return text.lines()
                    .anyMatch(
                        l ->
                            l.contains("\"stream\":\"data\"")
                                && l.contains("\"method\":\"keyrotor.v1.KeyService/Decrypt\"")
                                && l.contains("\"key\":\"" + key + "\""))
                && text.lines()
                    .anyMatch(
                        l ->
                            l.contains("\"stream\":\"replicated\"")
                                && l.contains("\"action\":\"CREATE_KEY\"")
                                && l.contains("\"key\":\"" + key + "\""));
          } catch (java.io.IOException e) {
            return false;
          }
        },
        Duration.ofSeconds(60),
        "the file sink holds the Decrypt and the key's creation");
    assertFalse(Files.readString(sinkFile).contains(PLAINTEXT));

    boolean data = false;
    boolean replicated = false;
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    byte[] buffer = new byte[16_384];
    while (!(data && replicated) && System.nanoTime() < deadline) {
      DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
      try {
        syslog.receive(packet);
      } catch (SocketTimeoutException quiet) {
        continue;
      }
      String message = new String(packet.getData(), 0, packet.getLength(), StandardCharsets.UTF_8);
      assertTrue(
          message.matches("^<1\\d\\d>1 \\S+ n1 keyrotor - (data|replicated) - \\{.*"), message);
      data |= message.contains("\"stream\":\"data\"") && message.contains(key);
      replicated |= message.contains("\"stream\":\"replicated\"") && message.contains(key);
    }
    assertTrue(data, "a data record of " + key + " over syslog");
    assertTrue(replicated, "a replicated record of " + key + " over syslog");
  }
}
