package io.keyrotor.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.protobuf.Timestamp;
import io.keyrotor.api.v1.ClockStatus;
import io.keyrotor.api.v1.DecryptRequest;
import io.keyrotor.api.v1.GenerateDataKeyRequest;
import io.keyrotor.api.v1.HsmStatus;
import io.keyrotor.api.v1.NodeRole;
import io.keyrotor.api.v1.NodeStatus;
import io.keyrotor.api.v1.PeerClockOffset;
import io.keyrotor.api.v1.ReEncryptRequest;
import io.keyrotor.api.v1.ThrottledPrincipal;
import io.keyrotor.api.v1.TransportMode;
import io.keyrotor.api.v1.TransportSecurity;
import io.keyrotor.client.testing.FakeDataPlaneService;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code datakey}, {@code encrypt}, {@code decrypt}, {@code reencrypt} and the HSM columns of
 * {@code cluster status}, run in-process against a scripted data plane on a loopback port.
 */
class DataCommandsCliTest extends CliHarness<FakeDataPlaneService> {

  DataCommandsCliTest() {
    super(new FakeDataPlaneService());
  }

  @BeforeEach
  void addKeys() {
    keys.addKey("payments").addKey("archive");
  }

  private Path file(String name, byte[] content) throws IOException {
    return Files.write(workingDirectory.resolve(name), content);
  }

  private static byte[] bytes(int length) {
    byte[] bytes = new byte[length];
    new SplittableRandom(length).nextBytes(bytes);
    return bytes;
  }

  private List<String> directoryListing() throws IOException {
    try (Stream<Path> files = Files.list(workingDirectory)) {
      return files.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
    }
  }

  @Test
  void datakey_json_printsKeyVersionPlaintextAndWrappedAndSendsContext() {
    int status =
        run("datakey", "payments", "--context", "tenant=acme", "--context", "purpose=", "--json");

    assertEquals(0, status, stderr);
    assertEquals("", stderr);
    JsonObject json = stdoutJson();
    assertEquals(
        List.of("key", "version", "plaintext_b64", "wrapped_b64"), List.copyOf(json.keySet()));
    assertEquals("payments", json.get("key").getAsString());
    assertEquals(1, json.get("version").getAsInt());
    assertEquals(32, Base64.getDecoder().decode(json.get("plaintext_b64").getAsString()).length);
    assertTrue(Base64.getDecoder().decode(json.get("wrapped_b64").getAsString()).length > 32);
    GenerateDataKeyRequest sent = keys.received(GenerateDataKeyRequest.class).get(0);
    assertEquals(Map.of("tenant", "acme", "purpose", ""), sent.getContextMap());
  }

  @Test
  void datakey_noPlaintext_printsNullPlaintextAndNeverAsksForOne() {
    assertEquals(0, run("datakey", "payments", "--no-plaintext", "--json"), stderr);

    assertTrue(stdoutJson().get("plaintext_b64").isJsonNull());
    assertEquals(1, keys.received(GenerateDataKeyRequest.class).size());
    assertTrue(stdout.contains("\"wrapped_b64\":\""), stdout);

    assertEquals(0, run("datakey", "payments", "--no-plaintext"), stderr);
    assertFalse(stdout.contains("plaintext_b64"), "the table leaves out what it does not have");
  }

  @Test
  void datakey_unknownKey_printsOneErrorLineAndExitsOne() {
    assertEquals(1, run("datakey", "nobody"));

    assertEquals("", stdout);
    assertEquals("error: key \"nobody\" not found (KEY_NOT_FOUND)\n", stderr);
  }

  @Test
  void contextWithEmptyKey_isAUsageError() {
    assertEquals(2, run("datakey", "payments", "--context", "=x"));

    assertEquals(1, stderr.lines().count(), stderr);
    assertTrue(stderr.startsWith("error: invalid --context \"=x\": empty key"), stderr);
    assertTrue(keys.received().isEmpty());
  }

  @Test
  void encryptThenDecrypt_fileOfSeveralSegments_roundTripsWithJsonSummaries() throws IOException {
    byte[] plaintext = bytes(200_000); // four 64 KiB segments
    file("report.csv", plaintext);

    assertEquals(
        0,
        run(
            "encrypt",
            "payments",
            "--in",
            "report.csv",
            "--out",
            "report.enc",
            "--context",
            "tenant=acme",
            "--json"),
        stderr);
    JsonObject encrypted = stdoutJson();
    assertEquals("payments", encrypted.get("key").getAsString());
    assertEquals(1, encrypted.get("version").getAsInt());
    assertEquals(200_000, encrypted.get("plaintext_bytes").getAsLong());
    byte[] envelope = Files.readAllBytes(workingDirectory.resolve("report.enc"));
    assertEquals(envelope.length, encrypted.get("envelope_bytes").getAsLong());
    assertEquals(0x02, envelope[0], "a streaming envelope");

    assertEquals(
        0,
        run(
            "decrypt",
            "--in",
            "report.enc",
            "--out",
            "report.out",
            "--context",
            "tenant=acme",
            "--json"),
        stderr);
    JsonObject decrypted = stdoutJson();
    assertEquals(200_000, decrypted.get("plaintext_bytes").getAsLong());
    assertEquals(envelope.length, decrypted.get("envelope_bytes").getAsLong());
    assertArrayEquals(plaintext, Files.readAllBytes(workingDirectory.resolve("report.out")));
    assertEquals(List.of("report.csv", "report.enc", "report.out"), directoryListing());
  }

  @Test
  void encryptThenDecrypt_withoutJson_printOneSummaryLineEach() throws IOException {
    file("note.txt", bytes(10));

    assertEquals(0, run("encrypt", "payments", "--in", "note.txt", "--out", "note.enc"), stderr);
    long envelopeBytes = Files.size(workingDirectory.resolve("note.enc"));
    assertEquals(
        "encrypted note.txt (10 bytes) into note.enc ("
            + envelopeBytes
            + " bytes) under payments v1\n",
        stdout);
    assertEquals(0, run("decrypt", "--in", "note.enc", "--out", "note.out"), stderr);
    assertEquals("decrypted note.enc into note.out (10 bytes; payments v1)\n", stdout);
  }

  @Test
  void datakey_withoutJson_printsATable() {
    assertEquals(0, run("datakey", "payments"), stderr);

    List<String> lines = stdout.lines().collect(Collectors.toList());
    assertEquals(4, lines.size(), stdout);
    assertEquals("key            payments", lines.get(0));
    assertEquals("version        v1", lines.get(1));
    assertTrue(lines.get(2).startsWith("plaintext_b64  "), lines.get(2));
    assertTrue(lines.get(3).startsWith("wrapped_b64    "), lines.get(3));
  }

  @Test
  void encryptThenDecrypt_throughStdinAndStdout_writesOnlyTheBytes() {
    stdin = bytes(1000);
    assertEquals(0, run("encrypt", "payments", "--in", "-", "--out", "-"), stderr);
    byte[] envelope = stdoutBytes;
    assertEquals(0x02, envelope[0]);

    stdin = envelope;
    assertEquals(0, run("decrypt", "--in", "-", "--out", "-"), stderr);

    assertArrayEquals(bytes(1000), stdoutBytes);
  }

  @Test
  void decrypt_wrongContext_failsWithOneLineAndWritesNoFile() throws IOException {
    file("secret.txt", bytes(100));
    run("encrypt", "payments", "--in", "secret.txt", "--out", "secret.enc", "--context", "a=1");

    assertEquals(
        1, run("decrypt", "--in", "secret.enc", "--out", "secret.out", "--context", "a=2"));

    assertEquals("", stdout);
    assertEquals(1, stderr.lines().count(), stderr);
    assertTrue(stderr.startsWith("error: "), stderr);
    assertTrue(stderr.endsWith("(" + FakeDataPlaneService.INVALID_CIPHERTEXT + ")\n"), stderr);
    assertEquals(List.of("secret.enc", "secret.txt"), directoryListing());
  }

  @Test
  void decrypt_tamperedLastSegment_failsAndLeavesExistingOutputUntouched() throws IOException {
    file("big.bin", bytes(150_000)); // three segments
    run("encrypt", "payments", "--in", "big.bin", "--out", "big.enc");
    byte[] envelope = Files.readAllBytes(workingDirectory.resolve("big.enc"));
    envelope[envelope.length - 5] ^= 0x01;
    file("big.enc", envelope);
    file("big.out", "previous".getBytes(StandardCharsets.UTF_8));

    assertEquals(1, run("decrypt", "--in", "big.enc", "--out", "big.out"));

    assertEquals(
        "error: segment 2 failed authentication: the envelope was changed, cut, reordered, or the"
            + " encryption context differs from the one it was sealed with"
            + " (AUTHENTICATION_FAILED)\n",
        stderr);
    assertEquals("previous", Files.readString(workingDirectory.resolve("big.out")));
    assertEquals(List.of("big.bin", "big.enc", "big.out"), directoryListing());
  }

  @Test
  void decrypt_truncatedAtASegmentBoundary_saysTruncated() throws IOException {
    file("big.bin", bytes(150_000));
    run("encrypt", "payments", "--in", "big.bin", "--out", "big.enc");
    byte[] envelope = Files.readAllBytes(workingDirectory.resolve("big.enc"));
    int header = 7 + (((envelope[5] & 0xFF) << 8) | (envelope[6] & 0xFF)) + 39;
    file("big.enc", java.util.Arrays.copyOf(envelope, header + 2 * (65536 + 16)));

    assertEquals(1, run("decrypt", "--in", "big.enc", "--out", "big.out"));

    assertTrue(stderr.endsWith("the envelope was cut short (TRUNCATED)\n"), stderr);
    assertFalse(Files.exists(workingDirectory.resolve("big.out")));
  }

  @Test
  void encrypt_missingInputFile_saysSo() {
    assertEquals(1, run("encrypt", "payments", "--in", "nope.txt", "--out", "x.enc"));

    assertEquals("error: cannot read nope.txt: no such file or directory\n", stderr);
    assertTrue(keys.received().isEmpty(), "no data key is asked for a missing file");
  }

  @Test
  void decryptWrapped_returnsTheDataKeyThatDatakeyPrinted() {
    run("datakey", "payments", "--context", "tenant=acme", "--json");
    JsonObject dataKey = stdoutJson();

    int status =
        run(
            "decrypt",
            "--wrapped",
            dataKey.get("wrapped_b64").getAsString(),
            "--context",
            "tenant=acme",
            "--json");

    assertEquals(0, status, stderr);
    JsonObject json = stdoutJson();
    assertEquals(
        dataKey.get("plaintext_b64").getAsString(), json.get("plaintext_b64").getAsString());
    assertEquals("payments", json.get("key").getAsString());
    assertEquals(
        "tenant",
        keys.received(DecryptRequest.class).get(0).getContextMap().keySet().iterator().next());
  }

  @Test
  void decrypt_conflictingOrMissingOptions_areUsageErrors() {
    assertEquals(2, run("decrypt", "--wrapped", "AAAA", "--in", "x"));
    assertEquals(
        "error: give either --wrapped or --in/--out, not both (see: keyrotor decrypt --help)\n",
        stderr);
    assertEquals(2, run("decrypt", "--in", "x"));
    assertEquals(
        "error: give --in FILE and --out FILE, or --wrapped B64 (see: keyrotor decrypt --help)\n",
        stderr);
    assertEquals(2, run("decrypt", "--wrapped", "not base64!"));
    assertEquals(
        "error: invalid --wrapped: not base64 or empty (see: keyrotor decrypt --help)\n", stderr);
    assertTrue(keys.received().isEmpty());
  }

  @Test
  void reencrypt_afterRotation_movesTheWrappedKeyToTheNewVersion() {
    run("datakey", "payments", "--json");
    JsonObject dataKey = stdoutJson();
    keys.rotate("payments");

    assertEquals(
        0,
        run("reencrypt", "--wrapped", dataKey.get("wrapped_b64").getAsString(), "--json"),
        stderr);

    JsonObject json = stdoutJson();
    assertEquals(
        List.of("wrapped_b64", "key", "version", "source_version"), List.copyOf(json.keySet()));
    assertEquals("payments", json.get("key").getAsString());
    assertEquals(2, json.get("version").getAsInt());
    assertEquals(1, json.get("source_version").getAsInt());
    run("decrypt", "--wrapped", json.get("wrapped_b64").getAsString(), "--json");
    assertEquals(
        dataKey.get("plaintext_b64").getAsString(),
        stdoutJson().get("plaintext_b64").getAsString());
  }

  @Test
  void reencrypt_toAnotherKeyAndContext_sendsDestinationAndRebinds() {
    run("datakey", "payments", "--context", "tenant=acme", "--json");
    String wrapped = stdoutJson().get("wrapped_b64").getAsString();

    int status =
        run(
            "reencrypt",
            "--wrapped",
            wrapped,
            "--context",
            "tenant=acme",
            "--to-key",
            "archive",
            "--to-context",
            "tenant=acme",
            "--to-context",
            "year=2025",
            "--json");

    assertEquals(0, status, stderr);
    ReEncryptRequest sent = keys.received(ReEncryptRequest.class).get(0);
    assertEquals("archive", sent.getDestinationKeyName());
    assertEquals(
        Map.of("tenant", "acme", "year", "2025"), sent.getDestinationContext().getPairsMap());
    String rewrapped = stdoutJson().get("wrapped_b64").getAsString();
    assertEquals(1, run("decrypt", "--wrapped", rewrapped, "--context", "tenant=acme"));
    assertEquals(
        0,
        run(
            "decrypt",
            "--wrapped",
            rewrapped,
            "--context",
            "tenant=acme",
            "--context",
            "year=2025"),
        stderr);
  }

  @Test
  void reencrypt_toUnknownKey_namesIt() {
    run("datakey", "payments", "--json");
    String wrapped = stdoutJson().get("wrapped_b64").getAsString();

    assertEquals(1, run("reencrypt", "--wrapped", wrapped, "--to-key", "nobody"));

    assertEquals("error: key \"nobody\" not found (KEY_NOT_FOUND)\n", stderr);
  }

  @Test
  void clusterStatus_showsEachNodesHsmAndZones() {
    admin.clusterStatus(
        TestClusters.clusterOf(
            TestClusters.leader("n1", "eu")
                .addZones("eu-west")
                .addZones("eu-central")
                .setHsm(
                    HsmStatus.newBuilder()
                        .setKind("pkcs11")
                        .setModule("/usr/lib/softhsm/libsofthsm2.so")
                        .setTokenLabel("keyrotor-n1")
                        .addMechanisms("CKM_AES_KEY_WRAP_KWP")
                        .addMechanisms("CKM_AES_KEY_WRAP")
                        .setHealthy(true))
                .setTransportSecurity(
                    TransportSecurity.newBuilder()
                        .setMode(TransportMode.TRANSPORT_MODE_MUTUAL_TLS)
                        .setCertificateSubject("CN=n1,O=keyrotor")
                        .setCertificateSerial("0a1b")
                        .setCertificateNotAfter(Timestamp.newBuilder().setSeconds(1_767_225_600L))
                        .setExpiryWarning("the node certificate expires in 4 days; renew it")
                        .setLastReloadFailure("tls/n1-key.pem is not the key of tls/n1.pem"))
                .addThrottled(
                    ThrottledPrincipal.newBuilder()
                        .setPrincipal("service")
                        .setQuota("service-encrypt")
                        .setRefused(42)
                        .setFirstRefused(Timestamp.newBuilder().setSeconds(1_767_225_600L))
                        .setLastRefused(Timestamp.newBuilder().setSeconds(1_767_225_630L))),
            NodeStatus.newBuilder()
                .setId("n2")
                .setRole(NodeRole.NODE_ROLE_FOLLOWER)
                .setHsm(HsmStatus.newBuilder().setKind("software").setHealthy(false))
                .setTransportSecurity(
                    TransportSecurity.newBuilder()
                        .setMode(TransportMode.TRANSPORT_MODE_INSECURE_PLAINTEXT)),
            NodeStatus.newBuilder()
                .setId("n3")
                .setRole(NodeRole.NODE_ROLE_UNREACHABLE)
                .setError("no answer")));

    assertEquals(0, run("cluster", "status", "--json"), stderr);
    JsonObject n1 = stdoutJson().getAsJsonArray("nodes").get(0).getAsJsonObject();
    assertEquals("[\"eu-west\",\"eu-central\"]", n1.get("zones").toString());
    assertEquals(
        "{\"kind\":\"pkcs11\",\"module\":\"/usr/lib/softhsm/libsofthsm2.so\","
            + "\"token_label\":\"keyrotor-n1\","
            + "\"mechanisms\":[\"CKM_AES_KEY_WRAP_KWP\",\"CKM_AES_KEY_WRAP\"],\"healthy\":true}",
        n1.get("hsm").toString());
    JsonObject n2 = stdoutJson().getAsJsonArray("nodes").get(1).getAsJsonObject();
    assertEquals(
        "{\"kind\":\"software\",\"module\":null,\"token_label\":null,\"mechanisms\":[],"
            + "\"healthy\":false}",
        n2.get("hsm").toString());
    assertTrue(
        stdoutJson().getAsJsonArray("nodes").get(2).getAsJsonObject().get("hsm").isJsonNull());
    assertEquals(
        "{\"mode\":\"mutual_tls\",\"certificate_subject\":\"CN=n1,O=keyrotor\","
            + "\"certificate_serial\":\"0a1b\",\"certificate_not_after\":\"2026-01-01T00:00:00Z\","
            + "\"expiry_warning\":\"the node certificate expires in 4 days; renew it\","
            + "\"last_reload_failure\":\"tls/n1-key.pem is not the key of tls/n1.pem\"}",
        n1.get("transport").toString());
    assertEquals("insecure_plaintext", n2.getAsJsonObject("transport").get("mode").getAsString());
    assertEquals(
        "[{\"principal\":\"service\",\"quota\":\"service-encrypt\",\"refused\":42,"
            + "\"first_refused\":\"2026-01-01T00:00:00Z\","
            + "\"last_refused\":\"2026-01-01T00:00:30Z\"}]",
        n1.get("throttled").toString());
    assertEquals("[]", n2.get("throttled").toString());

    assertEquals(0, run("cluster", "status"), stderr);
    List<String> lines = stdout.lines().collect(Collectors.toList());
    assertEquals(
        List.of(
            "ID   REGION  ROLE         TERM  APPLIED  DIGEST  API_ADDRESS  ZONES               HSM  "
                + "               HSM_OK  TLS                                   ERROR",
            "n1*  eu      LEADER       0     0        -       -            eu-west,eu-central  pkcs11"
                + ":keyrotor-n1  yes     mtls until 2026-01-01 (EXPIRES SOON)  -",
            "n2   -       FOLLOWER     0     0        -       -            -                   softwa"
                + "re            NO      INSECURE                              -",
            "n3   -       UNREACHABLE  0     0        -       -            -                   -     "
                + "              -       -                                     no answer",
            "warning: n1: the node certificate expires in 4 days; renew it",
            "warning: n1: certificate reload failed: tls/n1-key.pem is not the key of tls/n1.pem",
            "throttled: n1: service over quota service-encrypt: 42 calls refused since"
                + " 2026-01-01T00:00:00Z, last at 2026-01-01T00:00:30Z"),
        lines);
  }

  @Test
  void clusterStatus_showsAClockThatDisagreesWithTheMajority() {
    admin.clusterStatus(
        TestClusters.clusterOf(
            TestClusters.leader("n1", "eu")
                .setClock(
                    ClockStatus.newBuilder()
                        .setState("UNSAFE")
                        .setMaxOffsetMillis(500)
                        .setReason("this node's clock is more than 500 ms away from 2 of 2 peers")
                        .addPeers(
                            PeerClockOffset.newBuilder()
                                .setNodeId("n2")
                                .setMeasured(true)
                                .setOffsetMillis(-34_560_000_000L)
                                .setRoundTripMillis(3)
                                .setAgeMillis(200)))));

    assertEquals(0, run("cluster", "status", "--json"), stderr);
    JsonObject n1 = stdoutJson().getAsJsonArray("nodes").get(0).getAsJsonObject();
    assertEquals(
        "{\"state\":\"UNSAFE\",\"max_offset_millis\":500,"
            + "\"reason\":\"this node's clock is more than 500 ms away from 2 of 2 peers\","
            + "\"peers\":[{\"node_id\":\"n2\",\"measured\":true,\"offset_millis\":-34560000000,"
            + "\"round_trip_millis\":3,\"age_millis\":200,\"agrees\":false}]}",
        n1.get("clock").toString());

    assertEquals(0, run("cluster", "status"), stderr);
    assertTrue(
        stdout.contains(
            "warning: n1: clock UNSAFE: this node's clock is more than 500 ms away from 2 of 2"
                + " peers\n"),
        stdout);
  }
}
