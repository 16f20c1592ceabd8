package io.keyrotor.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.keyrotor.client.testing.FakeNode;
import io.keyrotor.client.testing.TestPki;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The resident CLI process behind {@code scripts/keyrotor}, from the outside: the script run as a
 * separate process with its own runtime directory ({@code XDG_RUNTIME_DIR}), against a scripted
 * server over mutual TLS on a loopback port. Every command line answers the same bytes and exit
 * status through the resident process as in a JVM of its own.
 */
class ResidentCliScriptIT {

  private static final Pattern STATUS =
      Pattern.compile("resident CLI process (\\d+): up \\S+, (\\d+) commands served");

  private static FakeNode node;

  @TempDir Path work;
  @TempDir Path runtime;

  private Path script = ScriptProcess.SCRIPT;
  private final Map<String, String> environment = new HashMap<>();

  @BeforeAll
  static void startServer() {
    node = ScriptProcess.paymentsNode();
  }

  @AfterAll
  static void stopServer() {
    node.close();
  }

  @AfterEach
  void stopResident() throws Exception {
    Map<String, String> off = new HashMap<>(environment);
    off.put("XDG_RUNTIME_DIR", runtime.toString());
    Matcher status = STATUS.matcher(run(off, work, "resident", "status").stdout());
    run(off, work, "resident", "stop");
    if (status.find()) {
      ProcessHandle.of(Long.parseLong(status.group(1))).ifPresent(ProcessHandle::destroyForcibly);
    }
  }

  @Test
  void commandLines_answerTheSameBytesAndStatusDirectAndThroughTheResidentProcess()
      throws Exception {
    Files.write(work.resolve("data.bin"), new byte[] {1, 2, 3, 4, 5});
    List<List<String>> commands =
        List.of(
            withTls("--servers", node.address(), "key", "get", "payments", "--json"),
            withTls("--servers", node.address(), "key", "get", "payments"),
            withTls("--servers", node.address(), "key", "get", "orders"),
            withTls("--servers", node.address(), "key", "rotate"),
            withTls("--servers", node.address(), "key", "get", "payments", "--bogus"),
            withTls(
                "--servers",
                node.address(),
                "encrypt",
                "payments",
                "--in",
                "data.bin",
                "--out",
                "data.enc",
                "--context",
                "tenant=acme",
                "--json"),
            List.of("--deadline", "45s", "key", "get", "payments"),
            List.of("--insecure", "--servers", "10.0.0.1:7101", "key", "get", "payments"),
            List.of("--version"));

    List<ScriptProcess.Result> direct = new ArrayList<>();
    environment.put("KEYROTOR_RESIDENT", "off");
    for (List<String> command : commands) {
      direct.add(run(command.toArray(String[]::new)));
    }
    assertFalse(Files.exists(runtime.resolve("keyrotor")), "KEYROTOR_RESIDENT=off starts none");
    environment.remove("KEYROTOR_RESIDENT");
    long servedBefore = startResident();
    for (int i = 0; i < commands.size(); i++) {
      ScriptProcess.Result resident = run(commands.get(i).toArray(String[]::new));
      String what = String.join(" ", commands.get(i));
      assertEquals(direct.get(i).status(), resident.status(), what);
      assertArrayEquals(direct.get(i).stdoutBytes(), resident.stdoutBytes(), what);
      assertEquals(direct.get(i).stderr(), resident.stderr(), what);
    }
    assertEquals(servedBefore + commands.size(), served(), "every command went through it");
    assertEquals(0, direct.get(0).status());
    assertEquals(1, direct.get(2).status());
    assertEquals(2, direct.get(3).status());
  }

  @Test
  void relativePaths_meanTheCallersDirectory() throws Exception {
    startResident();
    for (String name : List.of("a", "b")) {
      Path directory = Files.createDirectories(work.resolve(name));
      clusterDirectory(directory.resolve(".keyrotor/cluster"));
      byte[] plaintext = name.repeat(1000).getBytes(java.nio.charset.StandardCharsets.UTF_8);
      Files.write(directory.resolve("in.txt"), plaintext);

      ScriptProcess.Result key = run(environment, directory, "key", "get", "payments", "--json");
      ScriptProcess.Result encrypted =
          run(environment, directory, "encrypt", "payments", "--in", "in.txt", "--out", "x.enc");
      ScriptProcess.Result decrypted =
          run(environment, directory, "decrypt", "--in", "x.enc", "--out", "x.out");

      assertEquals(0, key.status(), key.stderr());
      assertTrue(key.stdout().startsWith("{\"name\":\"payments\""), key.stdout());
      assertEquals(0, encrypted.status(), encrypted.stderr());
      assertEquals(0, decrypted.status(), decrypted.stderr());
      assertArrayEquals(plaintext, Files.readAllBytes(directory.resolve("x.out")));
    }
    Path empty = Files.createDirectories(work.resolve("empty"));
    ScriptProcess.Result none = run(environment, empty, "key", "get", "payments");
    assertEquals(1, none.status());
    assertTrue(
        none.stderr()
            .startsWith("error: no cluster at " + empty.toRealPath().resolve(".keyrotor/cluster")),
        none.stderr());
  }

  @Test
  void rewrittenCertificate_theNextCommandPresentsTheNewIdentity() throws Exception {
    Path cluster = work.resolve(".keyrotor/cluster");
    clusterDirectory(cluster);
    startResident();
    assertEquals(0, run("key", "get", "payments").status());
    assertTrue(lastCaller().contains("admin"), lastCaller());

    Path tls = cluster.resolve("tls");
    Files.copy(
        tls.resolve("service.pem"), tls.resolve("admin.pem"), StandardCopyOption.REPLACE_EXISTING);
    Files.copy(
        tls.resolve("service-key.pem"),
        tls.resolve("admin-key.pem"),
        StandardCopyOption.REPLACE_EXISTING);
    long served = served();
    ScriptProcess.Result after = run("key", "get", "payments");

    assertEquals(0, after.status(), after.stderr());
    assertEquals(served + 1, served(), "through the resident process");
    assertTrue(lastCaller().contains("service"), lastCaller());
  }

  @Test
  void socketDirectoryAndSocket_ownerOnly() throws Exception {
    startResident();
    Path directory = runtime.resolve("keyrotor");
    assertEquals(
        "rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(directory)));
    try (Stream<Path> files = Files.list(directory)) {
      Path socket =
          files.filter(file -> file.toString().endsWith(".sock")).findFirst().orElseThrow();
      assertEquals(
          "rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
    }
  }

  @Test
  void idle_theProcessExitsAfterTheIdleTime() throws Exception {
    environment.put("KEYROTOR_RESIDENT_IDLE", "3s");
    run("--version"); // starts it

    awaitLog("serving");
    awaitLog("stopped: idle for 3s");

    assertEquals(1, run("resident", "status").status(), "none running");
  }

  @Test
  void rebuiltJar_theOldProcessStopsAndTheCommandStillAnswers() throws Exception {
    // A copy of the launcher and the jar: "rebuilding" replaces the copy's jar.
    Path repo = work.resolve("repo");
    Files.createDirectories(repo.resolve("scripts/lib"));
    Files.createDirectories(repo.resolve("cli/target"));
    Files.copy(ScriptProcess.SCRIPT, repo.resolve("scripts/keyrotor"));
    Files.copy(
        ScriptProcess.SCRIPT.resolveSibling("lib/resident_client.py"),
        repo.resolve("scripts/lib/resident_client.py"));
    Path jar = ScriptProcess.SCRIPT.resolveSibling("../cli/target/keyrotor-cli.jar").normalize();
    Files.copy(jar, repo.resolve("cli/target/keyrotor-cli.jar"));
    script = repo.resolve("scripts/keyrotor");
    clusterDirectory(work.resolve(".keyrotor/cluster"));
    startResident();
    long oldPid = pid();

    Path rebuilt = repo.resolve("cli/target/keyrotor-cli.jar.new");
    Files.copy(jar, rebuilt);
    Files.move(
        rebuilt, repo.resolve("cli/target/keyrotor-cli.jar"), StandardCopyOption.REPLACE_EXISTING);
    ScriptProcess.Result answer = run("key", "get", "payments", "--json");

    assertEquals(0, answer.status(), answer.stderr());
    assertTrue(answer.stdout().startsWith("{\"name\":\"payments\""), answer.stdout());
    awaitRunning();
    assertNotEquals(oldPid, pid(), "a new process for the new jar");
    ProcessHandle.of(oldPid).ifPresent(old -> old.onExit().join());
    assertTrue(log().contains("stopped: the CLI jar changed"), log());
  }

  @Test
  void processKilledMidCommand_theCallerIsToldAndTheNextCommandAnswers() throws Exception {
    clusterDirectory(work.resolve(".keyrotor/cluster"));
    startResident();
    long pid = pid();
    try (ServerSocket silent = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
      ScriptProcess hanging =
          ScriptProcess.start(
              script,
              work,
              environment(),
              withTls("--servers", "127.0.0.1:" + silent.getLocalPort(), "key", "get", "payments"));
      Socket accepted = silent.accept();
      try {
        // The resident process is in the middle of the command's TLS handshake.
        ProcessHandle.of(pid).orElseThrow().destroyForcibly();
        ScriptProcess.Result cut = hanging.finish();
        assertEquals(1, cut.status());
        assertTrue(
            cut.stderr().startsWith("error: the resident CLI process ended before the command"),
            cut.stderr());
      } finally {
        accepted.close();
      }
    }

    ScriptProcess.Result next = run("key", "get", "payments", "--json");

    assertEquals(0, next.status(), next.stderr());
    assertTrue(next.stdout().startsWith("{\"name\":\"payments\""), next.stdout());
    awaitRunning();
    assertNotEquals(pid, pid());
  }

  @Test
  void concurrentCommands_eachGetsItsOwnOutput() throws Exception {
    clusterDirectory(work.resolve(".keyrotor/cluster"));
    startResident();
    ExecutorService callers = Executors.newFixedThreadPool(6);
    try {
      List<Future<ScriptProcess.Result>> found = new ArrayList<>();
      List<Future<ScriptProcess.Result>> missing = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        found.add(callers.submit(() -> run("key", "get", "payments", "--json")));
        missing.add(callers.submit(() -> run("key", "get", "orders")));
      }
      for (Future<ScriptProcess.Result> result : found) {
        assertEquals(0, result.get().status(), result.get().stderr());
        assertEquals(1, result.get().stdout().lines().count(), result.get().stdout());
        assertTrue(result.get().stdout().startsWith("{\"name\":\"payments\""));
        assertEquals("", result.get().stderr());
      }
      for (Future<ScriptProcess.Result> result : missing) {
        assertEquals(1, result.get().status());
        assertEquals("", result.get().stdout());
        assertEquals("error: key \"orders\" not found (KEY_NOT_FOUND)\n", result.get().stderr());
      }
    } finally {
      callers.shutdownNow();
    }
  }

  /** Runs a first command (which starts the process), waits until it serves; its served count. */
  private long startResident() throws Exception {
    run("--version");
    awaitRunning();
    return served();
  }

  private void awaitRunning() throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (run("resident", "status").status() != 0) {
      if (System.nanoTime() > deadline) {
        fail("no resident CLI process serves after 120 s; log: " + log());
      }
      Thread.sleep(100);
    }
  }

  /** Waits (at most 120 s) until the process's log holds {@code text}. */
  private void awaitLog(String text) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (!log().contains(text)) {
      if (System.nanoTime() > deadline) {
        fail("no \"" + text + "\" in the log after 120 s: " + log());
      }
      Thread.sleep(100);
    }
  }

  private Matcher status() throws Exception {
    ScriptProcess.Result status = run("resident", "status");
    Matcher matcher = STATUS.matcher(status.stdout());
    assertTrue(matcher.find(), status.stdout() + status.stderr());
    return matcher;
  }

  private long pid() throws Exception {
    return Long.parseLong(status().group(1));
  }

  private long served() throws Exception {
    return Long.parseLong(status().group(2));
  }

  private String log() throws IOException {
    Path directory = runtime.resolve("keyrotor");
    if (!Files.isDirectory(directory)) {
      return "(no " + directory + ")";
    }
    StringBuilder text = new StringBuilder();
    try (Stream<Path> files = Files.list(directory)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".log")).toList()) {
        text.append(Files.readString(file));
      }
    }
    return text.toString();
  }

  private String lastCaller() {
    List<String> subjects = node.callerSubjects();
    return subjects.get(subjects.size() - 1);
  }

  private void clusterDirectory(Path directory) throws IOException {
    Files.createDirectories(directory.resolve("tls"));
    Files.writeString(directory.resolve("servers"), node.address() + "\n");
    for (String name :
        List.of("ca.pem", "admin.pem", "admin-key.pem", "service.pem", "service-key.pem")) {
      Files.copy(
          TestPki.shared().tlsDirectory().resolve(name), directory.resolve("tls").resolve(name));
    }
  }

  private Map<String, String> environment() {
    Map<String, String> all = new HashMap<>(environment);
    all.put("XDG_RUNTIME_DIR", runtime.toString());
    return all;
  }

  private ScriptProcess.Result run(String... args) throws IOException, InterruptedException {
    return run(environment, work, args);
  }

  private ScriptProcess.Result run(Map<String, String> extra, Path directory, String... args)
      throws IOException, InterruptedException {
    Map<String, String> all = new HashMap<>(extra);
    all.put("XDG_RUNTIME_DIR", runtime.toString());
    return ScriptProcess.run(script, directory, all, List.of(args));
  }

  /** {@code --deadline 45s} (a busy build machine), the shared test certificates, then args. */
  private static List<String> withTls(String... args) {
    List<String> all = new ArrayList<>(List.of("--deadline", "45s"));
    all.addAll(CliHarness.tlsOptions());
    all.addAll(List.of(args));
    return all;
  }
}
