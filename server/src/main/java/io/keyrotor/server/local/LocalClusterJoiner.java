package io.keyrotor.server.local;

import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.software.SoftwareKeyStoreFile;
import io.keyrotor.server.hsm.SecretFiles;
import io.keyrotor.storage.OwnerOnly;
import io.keyrotor.tls.DevelopmentCa;
import io.keyrotor.tls.TlsFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Writes a node that joins a running local cluster (scripts/cluster add): its certificate from the
 * cluster's development CA, an empty HSM (a software key file, or nothing for SoftHSM2, whose token
 * the key ceremony makes), and its node.properties, derived from the first node's with the new
 * node's id, region, zones, addresses and {@code cluster.join=true}. Its zones' master keys are not
 * written here: they reach its HSM through the key ceremony (scripts/hsm share-zone), as on a real
 * cluster. Ports follow the layout of {@link LocalClusterLayout}: node nI listens on base+I (API),
 * base+100+I (Raft) and base+200+I (HTTPS).
 */
public final class LocalClusterJoiner {
  private static final Pattern NODE = Pattern.compile("n([1-9])");
  private static final Pattern API_PORT = Pattern.compile("peer\\.n([1-9])\\.api=(.+):(\\d+)");

  private final Path directory;
  private final String id;
  private final int index;
  private final String region;

  /**
   * @param nodeId n1..n9, not yet in the cluster
   * @param region the node's region; its zones are "default" and the region's
   */
  public LocalClusterJoiner(Path directory, String nodeId, String region) {
    Matcher m = NODE.matcher(nodeId);
    if (!m.matches()) {
      throw new IllegalArgumentException("a local cluster's nodes are n1 to n9, not " + nodeId);
    }
    if (!region.matches("[A-Za-z0-9_-]{1,64}")) {
      throw new IllegalArgumentException("invalid region '" + region + "'");
    }
    this.directory = directory.toAbsolutePath();
    this.id = nodeId;
    this.index = Integer.parseInt(m.group(1));
    this.region = region;
  }

  /** The zones the node serves: "default" and its region's zone. */
  public Set<String> zones() {
    return new TreeSet<>(List.of("default", region));
  }

  /** Writes the node; prints nothing. Refuses a node that exists already. */
  public Addresses write() throws IOException, HsmException {
    Path template = template();
    Path nodeDir = directory.resolve(id);
    if (Files.exists(nodeDir.resolve("node.properties"))) {
      throw new IOException(id + " already exists in " + directory);
    }
    List<String> lines = Files.readAllLines(template, StandardCharsets.UTF_8);
    Matcher api =
        lines.stream()
            .map(API_PORT::matcher)
            .filter(Matcher::matches)
            .findFirst()
            .orElseThrow(() -> new IOException(template + " has no peer API address"));
    String host = api.group(2);
    int basePort = Integer.parseInt(api.group(3)) - Integer.parseInt(api.group(1));
    Addresses addresses =
        new Addresses(
            host + ":" + (basePort + index),
            host + ":" + (basePort + 100 + index),
            host + ":" + (basePort + 200 + index));
    boolean pkcs11 = lines.contains("hsm.kind=pkcs11");
    OwnerOnly.directory(nodeDir.resolve("hsm"));
    OwnerOnly.directory(nodeDir.resolve("data"));
    issueCertificate(host);
    if (!pkcs11) {
      char[] passphrase = SecretFiles.newHexSecret(24);
      try {
        SecretFiles.write(nodeDir.resolve("hsm").resolve("passphrase"), passphrase);
        SoftwareKeyStoreFile.create(nodeDir.resolve("hsm").resolve("zmk.p12"), passphrase);
      } finally {
        Arrays.fill(passphrase, '\0');
      }
    }
    Files.write(
        nodeDir.resolve("node.properties"), configFrom(lines, addresses), StandardCharsets.UTF_8);
    return addresses;
  }

  /** The configuration of the first node of the cluster, which the new one's is derived from. */
  private Path template() throws IOException {
    for (int i = 1; i <= 9; i++) {
      Path candidate = directory.resolve("n" + i).resolve("node.properties");
      if (i != index && Files.exists(candidate)) {
        return candidate;
      }
    }
    throw new IOException("no cluster in " + directory + " (no nI/node.properties)");
  }

  private List<String> configFrom(List<String> template, Addresses addresses) {
    List<String> out = new ArrayList<>();
    out.add(
        "# keyrotor node " + id + ", written by scripts/cluster add (joins the running cluster)");
    for (String line : template) {
      if (line.startsWith("#")) {
        continue;
      }
      if (line.startsWith("node.id=")) {
        out.add("node.id=" + id);
      } else if (line.startsWith("node.region=")) {
        out.add("node.region=" + region);
      } else if (line.startsWith("node.zones=")) {
        out.add("node.zones=" + String.join(",", zones()));
        out.add("cluster.join=true");
      } else if (line.startsWith("hsm.pkcs11.token-label=")) {
        out.add("hsm.pkcs11.token-label=keyrotor-" + id);
      } else if (line.startsWith("tls.certificate=")) {
        out.add("tls.certificate=../tls/" + id + ".pem");
      } else if (line.startsWith("tls.private-key=")) {
        out.add("tls.private-key=../tls/" + id + "-key.pem");
      } else if (line.startsWith("http.address=")) {
        out.add("http.address=" + addresses.http());
      } else if (!line.startsWith("peer." + id + ".")) {
        out.add(line);
      }
    }
    // Its own lines after the members': the members it can reach, and itself.
    int last = 0;
    for (int i = 0; i < out.size(); i++) {
      if (out.get(i).startsWith("peer.")) {
        last = i;
      }
    }
    out.add(last + 1, "peer." + id + ".api=" + addresses.api());
    out.add(last + 1, "peer." + id + ".raft=" + addresses.raft());
    return out;
  }

  private void issueCertificate(String host) throws IOException {
    Path tls = directory.resolve("tls");
    TlsFiles files = TlsFiles.inDirectory(tls, id);
    if (Files.exists(files.certificate())) {
      return;
    }
    DevelopmentCa ca =
        DevelopmentCa.load(
            tls.resolve("ca.pem"),
            tls.resolve("ca-key.pem"),
            DevelopmentCa.DEFAULT_TRUST_DOMAIN,
            Clock.systemUTC());
    Set<String> hosts = new LinkedHashSet<>(List.of("127.0.0.1", "localhost", host));
    ca.issueNode(id, List.copyOf(hosts), LocalClusterLayout.CERTIFICATE_VALIDITY)
        .write(files.certificate(), files.privateKey());
  }

  /** Where the new node listens. */
  public record Addresses(String api, String raft, String http) {}
}
