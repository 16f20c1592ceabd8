package io.keyrotor.server;

import static io.keyrotor.server.TestHttps.clientAs;
import static io.keyrotor.server.TestHttps.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.keyrotor.api.v1.ClusterStatus;
import io.keyrotor.api.v1.GetClusterStatusRequest;
import io.keyrotor.api.v1.NodeStatus;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTPS endpoint of a 3-node cluster as scripts/cluster writes it (DIR/http): a real Prometheus
 * scrapes every node over mutual TLS with the admin certificate and answers a query for each node;
 * headless Chromium, holding the admin certificate in its NSS database and selecting it by managed
 * policy, shows the status page with the cluster's leader, members and applied indices; and a
 * request without a certificate, or from a principal without PERMISSION_ADMINISTER, is refused.
 */
class HttpEndpointIT extends ClusterTestBase {
  /** Generous: the machine may be loaded; nothing here measures speed. */
  private static final Duration WAIT = Duration.ofMinutes(3);

  private Path tls;
  private List<String> urls;
  private Path work;

  HttpEndpointIT() {
    super(List.of("local"), Map.of());
  }

  @BeforeAll
  void readUrls(@TempDir Path directory) throws Exception {
    work = directory;
    tls = cluster.directory.resolve("tls");
    urls = Files.readAllLines(cluster.directory.resolve("http"));
    assertEquals(3, urls.size(), "DIR/http lists every node");
  }

  @Test
  void adminScrapes_othersAreRefused() throws Exception {
    HttpClient admin = clientAs(tls, "admin");
    HttpResponse<String> metrics = get(admin, urls.get(0) + "metrics");
    assertEquals(200, metrics.statusCode(), metrics.body());
    assertTrue(metrics.body().contains("keyrotor_node_info{node=\"n1\""), metrics.body());
    assertTrue(metrics.body().contains("keyrotor_raft_commit_index"), "Raft gauges");
    assertTrue(metrics.body().contains("keyrotor_rpc_duration_seconds_bucket"), "RPC histograms");
    assertTrue(metrics.body().contains("keyrotor_tls_certificate_expiry_seconds"), "cert expiry");

    // "service" holds a data-plane role only: authenticated, but not an administrator.
    HttpResponse<String> service = get(clientAs(tls, "service"), urls.get(0) + "metrics");
    assertEquals(403, service.statusCode(), service.body());
    assertTrue(service.body().contains("service"), service.body());

    HttpResponse<String> nobody = get(clientAs(tls, null), urls.get(1));
    assertEquals(401, nobody.statusCode(), nobody.body());
    assertTrue(nobody.body().contains("no client certificate"), nobody.body());

    assertEquals(404, get(admin, urls.get(0) + "nothing-here").statusCode());
  }

  @Test
  void prometheusScrapesEveryNodeOverMutualTls() throws Exception {
    Path dir = Files.createDirectories(work.resolve("prometheus"));
    int port = freePort();
    StringBuilder targets = new StringBuilder();
    for (String url : urls) {
      targets
          .append(targets.length() == 0 ? "" : ", ")
          .append('\'')
          .append(hostPort(url))
          .append('\'');
    }
    Files.writeString(
        dir.resolve("prometheus.yml"),
        "global:\n"
            + "  scrape_interval: 1s\n"
            + "  scrape_timeout: 1s\n"
            + "scrape_configs:\n"
            + "  - job_name: keyrotor\n"
            + "    scheme: https\n"
            + "    tls_config:\n"
            + "      ca_file: "
            + tls.resolve("ca.pem")
            + "\n      cert_file: "
            + tls.resolve("admin.pem")
            + "\n      key_file: "
            + tls.resolve("admin-key.pem")
            + "\n    static_configs:\n"
            + "      - targets: ["
            + targets
            + "]\n");
    Process prometheus =
        new ProcessBuilder(
                "prometheus",
                "--config.file=" + dir.resolve("prometheus.yml"),
                "--storage.tsdb.path=" + dir.resolve("data"),
                "--web.listen-address=127.0.0.1:" + port)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("prometheus.log").toFile())
            .start();
    try {
      HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
      String query =
          "http://127.0.0.1:"
              + port
              + "/api/v1/query?query="
              + URLEncoder.encode(
                  "keyrotor_raft_commit_index * on(instance) group_left(node) keyrotor_node_info",
                  StandardCharsets.UTF_8);
      Set<String> nodes = Set.of();
      String last = "";
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (System.nanoTime() < deadline) {
        try {
          last =
              plain
                  .send(
                      HttpRequest.newBuilder(URI.create(query)).build(),
                      HttpResponse.BodyHandlers.ofString())
                  .body();
          nodes = matches(Pattern.compile("\"node\":\"(n\\d)\""), last);
          if (nodes.size() == 3) {
            break;
          }
        } catch (IOException e) {
          last = e.toString(); // not listening yet
        }
        TimeUnit.MILLISECONDS.sleep(500);
      }
      assertEquals(
          Set.of("n1", "n2", "n3"),
          nodes,
          () -> "Prometheus's answer: " + readQuietly(dir.resolve("prometheus.log")));
      assertTrue(last.contains("\"status\":\"success\""), last);
    } finally {
      prometheus.destroy();
      if (!prometheus.waitFor(30, TimeUnit.SECONDS)) {
        prometheus.destroyForcibly();
      }
    }
  }

  @Test
  void chromiumShowsTheStatusPageWithAClientCertificate() throws Exception {
    ClusterStatus before =
        cluster.admin("n1").getClusterStatus(GetClusterStatusRequest.getDefaultInstance());
    Path home = Files.createDirectories(work.resolve("chromium-home"));
    Path nss = Files.createDirectories(home.resolve(".pki/nssdb"));
    String db = "sql:" + nss;
    run(home, "certutil", "-N", "-d", db, "--empty-password");
    run(
        home,
        "certutil",
        "-A",
        "-d",
        db,
        "-n",
        "keyrotor-dev-ca",
        "-t",
        "C,,",
        "-i",
        tls.resolve("ca.pem").toString());
    Path p12 = home.resolve("admin.p12");
    run(
        home,
        "openssl",
        "pkcs12",
        "-export",
        "-in",
        tls.resolve("admin.pem").toString(),
        "-inkey",
        tls.resolve("admin-key.pem").toString(),
        "-out",
        p12.toString(),
        "-passout",
        "pass:keyrotor");
    run(home, "pk12util", "-i", p12.toString(), "-d", db, "-W", "keyrotor");
    String url = urls.get(1);
    // Chromium asks which certificate to present unless a managed policy selects one.
    Path policies = Files.createDirectories(Path.of("/etc/chromium/policies/managed"));
    Path policy = policies.resolve("keyrotor-http-it-" + UUID.randomUUID() + ".json");
    Files.writeString(
        policy,
        "{\"AutoSelectCertificateForUrls\": [\"{\\\"pattern\\\":\\\"https://"
            + hostPort(url)
            + "\\\",\\\"filter\\\":{}}\"]}\n");
    String dom;
    try {
      dom =
          run(
              home,
              "chromium",
              "--headless",
              "--no-sandbox",
              "--disable-gpu",
              "--disable-dev-shm-usage",
              "--user-data-dir=" + home.resolve("profile"),
              "--dump-dom",
              url);
    } finally {
      Files.deleteIfExists(policy);
    }
    ClusterStatus after =
        cluster.admin("n1").getClusterStatus(GetClusterStatusRequest.getDefaultInstance());
    Matcher leader = Pattern.compile("<b id=\"leader\">([^<]*)</b>").matcher(dom);
    assertTrue(leader.find(), () -> "no leader on the page: " + dom);
    assertEquals(before.getLeaderId(), leader.group(1), dom);
    assertEquals(after.getLeaderId(), leader.group(1), dom);
    Map<String, Long> applied = new TreeMap<>();
    Matcher row =
        Pattern.compile(
                "<tr class=\"member\" data-node=\"(n\\d)\">.*?<td class=\"applied\">(\\d+)</td>",
                Pattern.DOTALL)
            .matcher(dom);
    while (row.find()) {
      applied.put(row.group(1), Long.parseLong(row.group(2)));
    }
    assertEquals(Set.of("n1", "n2", "n3"), applied.keySet(), dom);
    for (NodeStatus node : after.getNodesList()) {
      long low =
          before.getNodesList().stream()
              .filter(n -> n.getId().equals(node.getId()))
              .findFirst()
              .orElseThrow()
              .getAppliedIndex();
      long shown = applied.get(node.getId());
      assertTrue(
          shown >= low && shown <= node.getAppliedIndex(),
          () ->
              node.getId()
                  + " shows applied index "
                  + shown
                  + ", between "
                  + low
                  + " and "
                  + node.getAppliedIndex()
                  + " expected");
    }
    assertTrue(dom.contains("Seen from node <b id=\"node\">n2</b>"), dom);
  }

  private static String run(Path home, String... command) throws Exception {
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().put("HOME", home.toString());
    Path output = Files.createTempFile(home, "out", ".txt");
    builder.redirectOutput(output.toFile());
    Process process = builder.start();
    if (!process.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)) {
      process.destroyForcibly();
      fail(command[0] + " did not finish: " + Files.readString(output));
    }
    String out = Files.readString(output);
    assertEquals(0, process.exitValue(), () -> String.join(" ", command) + ": " + out);
    return out;
  }

  private static String readQuietly(Path file) {
    try {
      String text = Files.readString(file);
      return text.substring(Math.max(0, text.length() - 4_000));
    } catch (IOException e) {
      return e.toString();
    }
  }

  private static Set<String> matches(Pattern pattern, String text) {
    Set<String> out = new TreeSet<>();
    Matcher m = pattern.matcher(text);
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }

  private static String hostPort(String url) {
    return URI.create(url).getAuthority();
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
