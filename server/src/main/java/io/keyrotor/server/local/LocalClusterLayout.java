package io.keyrotor.server.local;

import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.software.SoftwareKeyStoreFile;
import io.keyrotor.server.hsm.SecretFiles;
import io.keyrotor.storage.OwnerOnly;
import io.keyrotor.tls.DevelopmentCa;
import io.keyrotor.tls.TlsFiles;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Writes everything a local cluster needs under one directory, for {@code scripts/cluster up}:
 *
 * <pre>
 * DIR/servers                 host:port of every node's API, comma-separated
 * DIR/http                    every node's HTTPS base URL (metrics, status page), one a line
 * DIR/tls/ca.pem, ca-key.pem  the cluster's development CA (key 0600)
 * DIR/tls/nI.pem, nI-key.pem  node nI's certificate (127.0.0.1, localhost, the host, its node URI)
 * DIR/tls/admin.pem, admin-key.pem      a caller certificate, principal "admin"
 * DIR/tls/service.pem, service-key.pem  a caller certificate, principal "service"
 * DIR/nI/node.properties      the node's configuration
 * DIR/nI/hsm/zmk.p12          the node's software HSM key file (zones it holds)
 * DIR/nI/hsm/passphrase       its passphrase (0600; a development cluster only)
 * DIR/nI/data/                Raft log, snapshots and RocksDB state
 * </pre>
 *
 * Nodes are n1..nN, spread over the regions round-robin. Every node holds zone "default"; each node
 * also holds the zone named after its region. A zone's master key is generated once and copied into
 * the key file of every node that holds it, so they can unwrap each other's keys.
 *
 * <p>Every node serves mutual TLS with the certificates under {@code DIR/tls}. When {@code
 * DIR/tls/ca.pem} already exists (a cluster written again into the same directory), its CA and
 * every certificate already there are kept; only missing ones are issued.
 *
 * <p>With {@link #SOFTHSM2} instead of {@link #SOFTWARE}, each node gets {@code hsm.kind=pkcs11}
 * with its own SoftHSM2 token (label {@code keyrotor-nI}, user PIN in {@code nI/hsm/user-pin}) and
 * no key file: the tokens and their zone master keys are made afterwards by the key ceremonies
 * ({@code scripts/hsm init-token}, {@code create-zone}, {@code share-zone}; see {@code
 * io.keyrotor.server.hsm.SoftHsmNodeFiles}), which {@code scripts/cluster up --hsm softhsm2} runs.
 */
public final class LocalClusterLayout {
  /** Where Debian's softhsm2 package installs its PKCS#11 module. */
  public static final String SOFTHSM2_MODULE = "/usr/lib/softhsm/libsofthsm2.so";

  /** The development CA's name. */
  public static final String CA_NAME = "keyrotor local development CA";

  /** How long the development CA is valid. */
  public static final Duration CA_VALIDITY = Duration.ofDays(3650);

  /** How long the certificates it issues are valid. */
  public static final Duration CERTIFICATE_VALIDITY = Duration.ofDays(365);

  /** The caller certificates a local cluster gets (their common names are the principals). */
  public static final List<String> CALLERS = List.of("admin", "service");

  /** The default first API port (n1 = 7101, n2 = 7102, ...; Raft ports are 100 higher). */
  public static final int DEFAULT_BASE_PORT = 7100;

  private final Path directory;
  private final int nodes;
  private final List<String> regions;
  private final int basePort;
  private final String host;
  private final String hsmKind;
  private String clusterName = "keyrotor-local";
  private boolean createZoneMasterKeys = true;

  /** The software HSM: key files with shared zone master keys, written here. */
  public static final String SOFTWARE = "software";

  /** One SoftHSM2 token per node, made by the key ceremonies after the layout is written. */
  public static final String SOFTHSM2 = "softhsm2";

  public LocalClusterLayout(
      Path directory, int nodes, List<String> regions, int basePort, String host) {
    this(directory, nodes, regions, basePort, host, SOFTWARE);
  }

  /**
   * @param hsmKind {@link #SOFTWARE} or {@link #SOFTHSM2}
   */
  public LocalClusterLayout(
      Path directory, int nodes, List<String> regions, int basePort, String host, String hsmKind) {
    if (!SOFTWARE.equals(hsmKind) && !SOFTHSM2.equals(hsmKind)) {
      throw new IllegalArgumentException(
          "the HSM of a local cluster is " + SOFTWARE + " or " + SOFTHSM2 + ", not " + hsmKind);
    }
    this.hsmKind = hsmKind;
    if (nodes < 1 || nodes > 9) {
      throw new IllegalArgumentException("a local cluster has 1 to 9 nodes, not " + nodes);
    }
    if (regions.isEmpty()) {
      throw new IllegalArgumentException("at least one region is needed");
    }
    this.directory = directory.toAbsolutePath();
    this.nodes = nodes;
    this.regions = List.copyOf(regions);
    this.basePort = basePort;
    this.host = host;
  }

  /**
   * Names the cluster (its Raft group) {@code name} instead of {@code keyrotor-local}: a cluster
   * restored from a backup gets a new identity.
   */
  public LocalClusterLayout withClusterName(String name) {
    if (!name.matches("[A-Za-z0-9._-]{1,64}")) {
      throw new IllegalArgumentException("a cluster name is 1 to 64 of A-Z a-z 0-9 . _ -");
    }
    this.clusterName = name;
    return this;
  }

  /**
   * Writes the software key files empty: the zone master keys come from elsewhere through the
   * ceremonies (a cluster restored from a backup needs the old cluster's, never new ones).
   */
  public LocalClusterLayout withoutZoneMasterKeys() {
    this.createZoneMasterKeys = false;
    return this;
  }

  /** Node id -> region. */
  public Map<String, String> regionsByNode() {
    Map<String, String> out = new LinkedHashMap<>();
    for (int i = 1; i <= nodes; i++) {
      out.put("n" + i, regions.get((i - 1) % regions.size()));
    }
    return out;
  }

  /** The zones a node holds: "default" and its region's zone. */
  public Set<String> zonesOf(String nodeId) {
    Set<String> zones = new TreeSet<>();
    zones.add("default");
    zones.add(regionsByNode().get(nodeId));
    return zones;
  }

  public String apiAddress(int index) {
    return host + ":" + (basePort + index);
  }

  /**
   * Where node {@code index} serves HTTPS (metrics and the status page): base port + 200 + index.
   */
  public String httpAddress(int index) {
    return host + ":" + (basePort + 200 + index);
  }

  /** The base URL of node {@code index}'s HTTPS endpoint, ending in '/'. */
  public String httpBaseUrl(int index) {
    return "https://" + httpAddress(index) + "/";
  }

  public String raftAddress(int index) {
    return host + ":" + (basePort + 100 + index);
  }

  /** Writes the layout. Refuses a directory that already holds a cluster. */
  public void write() throws IOException, HsmException {
    if (Files.exists(directory.resolve("servers"))) {
      throw new IOException(
          directory + " already holds a cluster (remove it or use another --dir)");
    }
    Files.createDirectories(directory);
    writeTls();
    if (SOFTHSM2.equals(hsmKind)) {
      writeForSoftHsm2();
      return;
    }
    Path ceremony = directory.resolve("zones.p12");
    char[] ceremonyPassphrase = SecretFiles.newHexSecret(24);
    try {
      Set<String> allZones = new TreeSet<>();
      regionsByNode().keySet().forEach(id -> allZones.addAll(zonesOf(id)));
      SoftwareKeyStoreFile.create(ceremony, ceremonyPassphrase);
      for (String zone : createZoneMasterKeys ? allZones : Set.<String>of()) {
        SoftwareKeyStoreFile.createZone(ceremony, ceremonyPassphrase, zone);
      }
      List<String> apis = new ArrayList<>();
      for (int i = 1; i <= nodes; i++) {
        String id = "n" + i;
        Path nodeDir = directory.resolve(id);
        Path hsmDir = nodeDir.resolve("hsm");
        OwnerOnly.directory(hsmDir);
        OwnerOnly.directory(nodeDir.resolve("data"));
        char[] passphrase = SecretFiles.newHexSecret(24);
        try {
          SecretFiles.write(hsmDir.resolve("passphrase"), passphrase);
          Path keyFile = hsmDir.resolve("zmk.p12");
          SoftwareKeyStoreFile.create(keyFile, passphrase);
          for (String zone : createZoneMasterKeys ? zonesOf(id) : Set.<String>of()) {
            SoftwareKeyStoreFile.copyZone(ceremony, ceremonyPassphrase, keyFile, passphrase, zone);
          }
        } finally {
          Arrays.fill(passphrase, '\0');
        }
        writeConfig(nodeDir.resolve("node.properties"), i);
        apis.add(apiAddress(i));
      }
      writeHttp();
      Files.writeString(directory.resolve("servers"), String.join(",", apis) + "\n");
    } finally {
      Arrays.fill(ceremonyPassphrase, '\0');
      // The zone keys now live in the nodes' key files only.
      Files.deleteIfExists(ceremony);
    }
  }

  private void writeForSoftHsm2() throws IOException {
    List<String> apis = new ArrayList<>();
    for (int i = 1; i <= nodes; i++) {
      String id = "n" + i;
      Path nodeDir = directory.resolve(id);
      OwnerOnly.directory(nodeDir.resolve("hsm"));
      OwnerOnly.directory(nodeDir.resolve("data"));
      writeConfig(nodeDir.resolve("node.properties"), i);
      apis.add(apiAddress(i));
    }
    writeHttp();
    Files.writeString(directory.resolve("servers"), String.join(",", apis) + "\n");
  }

  /** DIR/http: the nodes' HTTPS base URLs, one a line. */
  private void writeHttp() throws IOException {
    StringBuilder urls = new StringBuilder();
    for (int i = 1; i <= nodes; i++) {
      urls.append(httpBaseUrl(i)).append('\n');
    }
    Files.writeString(directory.resolve("http"), urls.toString());
  }

  /** Where the cluster's certificates are: {@code DIR/tls}. */
  public Path tlsDirectory() {
    return directory.resolve("tls");
  }

  /** The development CA, its node and caller certificates; what exists already is kept. */
  private void writeTls() throws IOException {
    Path tls = tlsDirectory();
    Files.createDirectories(tls);
    Path caFile = tls.resolve("ca.pem");
    Path caKey = tls.resolve("ca-key.pem");
    DevelopmentCa ca;
    if (Files.exists(caFile)) {
      ca = DevelopmentCa.load(caFile, caKey, DevelopmentCa.DEFAULT_TRUST_DOMAIN, Clock.systemUTC());
    } else {
      ca =
          DevelopmentCa.create(
              CA_NAME, DevelopmentCa.DEFAULT_TRUST_DOMAIN, CA_VALIDITY, Clock.systemUTC());
      ca.write(caFile, caKey);
    }
    for (int i = 1; i <= nodes; i++) {
      String id = "n" + i;
      TlsFiles files = TlsFiles.inDirectory(tls, id);
      if (!Files.exists(files.certificate())) {
        Set<String> hosts = new LinkedHashSet<>(List.of("127.0.0.1", "localhost", host));
        ca.issueNode(id, List.copyOf(hosts), CERTIFICATE_VALIDITY)
            .write(files.certificate(), files.privateKey());
      }
    }
    for (String caller : CALLERS) {
      TlsFiles files = TlsFiles.inDirectory(tls, caller);
      if (!Files.exists(files.certificate())) {
        ca.issueClient(caller, CERTIFICATE_VALIDITY).write(files.certificate(), files.privateKey());
      }
    }
  }

  private void writeConfig(Path file, int index) throws IOException {
    String id = "n" + index;
    try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      w.write("# keyrotor node " + id + ", written by scripts/cluster up\n");
      w.write("node.id=" + id + "\n");
      w.write("node.region=" + regionsByNode().get(id) + "\n");
      w.write("node.zones=" + String.join(",", zonesOf(id)) + "\n");
      w.write("cluster.name=" + clusterName + "\n");
      w.write("data.dir=data\n");
      for (int i = 1; i <= nodes; i++) {
        w.write("peer.n" + i + ".raft=" + raftAddress(i) + "\n");
        w.write("peer.n" + i + ".api=" + apiAddress(i) + "\n");
      }
      if (SOFTHSM2.equals(hsmKind)) {
        w.write("hsm.kind=pkcs11\n");
        w.write("hsm.pkcs11.module=" + SOFTHSM2_MODULE + "\n");
        w.write("hsm.pkcs11.token-label=keyrotor-" + id + "\n");
        w.write("hsm.pkcs11.pin-file=hsm/user-pin\n");
      } else {
        w.write("hsm.kind=software\n");
        w.write("hsm.software.key-file=hsm/zmk.p12\n");
        w.write("hsm.software.passphrase-file=hsm/passphrase\n");
      }
      w.write("raft.election-timeout-min=600ms\n");
      w.write("raft.election-timeout-max=1200ms\n");
      w.write("raft.leader-lease=true\n");
      w.write("keys.default-activation-delay=0s\n");
      // Development clusters: rotation periods and destroy waits short enough to watch live.
      w.write("rotation.minimum-period=1s\n");
      w.write("keys.destroy-minimum-wait=1s\n");
      // Mutual TLS with the development CA's certificates (DIR/tls, relative to DIR/nI).
      w.write("tls.certificate=../tls/" + id + ".pem\n");
      w.write("tls.private-key=../tls/" + id + "-key.pem\n");
      w.write("tls.ca=../tls/ca.pem\n");
      w.write("http.address=" + httpAddress(index) + "\n");
      // The development cluster's first authorisation policy: "admin" may do everything;
      // "service" may read keys, generate data keys, encrypt, decrypt and re-encrypt.
      w.write("access.bootstrap-admins=admin\n");
      w.write("access.bootstrap-role.data-plane=READ_KEYS,ENCRYPT,DECRYPT\n");
      w.write("access.bootstrap-binding.service=data-plane\n");
    }
  }
}
