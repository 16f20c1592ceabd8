package io.keyrotor.chaos.containers;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.AccessMode;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.ContainerNetwork;
import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.PortBinding;
import com.github.dockerjava.api.model.Ports;
import com.github.dockerjava.api.model.Volume;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

/**
 * One keyrotor node in a container: the node image ({@link KeyrotorImage}) running {@code java -jar
 * keyrotor-server.jar run --config DIR/<node>/node.properties}, on a network the test created
 * ({@link StaticNetwork}, no DNS), at a fixed IPv4 address (its Raft peers dial that literal), with
 * its API port mapped to a loopback port for the driver.
 *
 * <pre>{@code
 * try (StaticNetwork network = StaticNetwork.create();
 *     KeyrotorContainer n1 =
 *         new KeyrotorContainer(image, "n1", 7101, network.address(11), clusterDir, network)) {
 *   n1.start();
 *   String target = n1.apiAddress(); // "127.0.0.1:<mapped port>", mutual TLS as clusterDir/tls
 * }
 * }</pre>
 *
 * <p>The image holds only the jar: the host's {@code /usr} and {@code /etc} are bind-mounted
 * read-only (with the merged-usr links {@code /bin}, {@code /sbin}, {@code /lib}, {@code /lib64}),
 * so the host's JDK and {@code nft} run inside. The cluster directory is bind-mounted read-write at
 * its own path, so the node's configuration, software HSM key file, certificates and data keep
 * their host paths and survive a kill and restart.
 *
 * <p>Faults go through the engine: {@link #pause()} and {@link #unpause()} (the cgroup freezer:
 * sockets stay open, as with SIGSTOP), {@link #killNode()} (SIGKILL, the container stays with its
 * data), {@link #restartNode()} (the same container started again), {@link #disconnect()} and
 * {@link #reconnect()} (the container leaves the test network and comes back at its address), and
 * {@link #nft(String...)} inside the container (it runs with {@code NET_ADMIN}).
 */
public class KeyrotorContainer extends GenericContainer<KeyrotorContainer> {
  private static final List<String> HOST_DIRECTORIES =
      List.of("/usr:/usr", "/usr/bin:/bin", "/usr/sbin:/sbin", "/usr/lib:/lib", "/etc:/etc");

  private static final Pattern OPTION_SEPARATOR = Pattern.compile(";");
  private static final Duration STARTUP_TIMEOUT = Duration.ofMinutes(15);

  private final String nodeId;
  private final int apiPort;
  private final String ipAddress;
  private final Network network;

  /**
   * @param image the node image ({@link KeyrotorImage#forJar})
   * @param nodeId the node's id (n1, n2, ...)
   * @param apiPort the node's API port inside the container (its {@code peer.<id>.api} port)
   * @param ipAddress the container's fixed IPv4 address on {@code network} (its {@code peer.<id>}
   *     host)
   * @param clusterDirectory the cluster's directory on the host: {@code <id>/node.properties} and
   *     {@code tls/}
   * @param network the network the test created for this cluster
   */
  public KeyrotorContainer(
      DockerImageName image,
      String nodeId,
      int apiPort,
      String ipAddress,
      Path clusterDirectory,
      Network network) {
    super(image);
    this.nodeId = nodeId;
    this.apiPort = apiPort;
    this.ipAddress = ipAddress;
    this.network = network;
    Path cluster = clusterDirectory.toAbsolutePath();
    Path nodeDirectory = cluster.resolve(nodeId);
    List<Bind> binds = new ArrayList<>();
    for (String bind : HOST_DIRECTORIES) {
      String[] parts = bind.split(":", 2);
      binds.add(new Bind(parts[0], new Volume(parts[1]), AccessMode.ro));
    }
    if (Files.isDirectory(Path.of("/usr/lib64"))) {
      binds.add(new Bind("/usr/lib64", new Volume("/lib64"), AccessMode.ro));
    }
    binds.add(new Bind(cluster.toString(), new Volume(cluster.toString()), AccessMode.rw));
    withWorkingDirectory(nodeDirectory.toString());
    // The image has no /tmp: RocksDB and gRPC's native transport unpack their libraries there
    // (hence exec).
    withTmpFs(Map.of("/tmp", "rw,exec,mode=1777"));
    withNetwork(network);
    withExposedPorts(apiPort);
    withCreateContainerCmdModifier(
        cmd -> {
          cmd.withName("keyrotor-" + nodeId + "-" + Long.toHexString(System.nanoTime()));
          cmd.withIpv4Address(ipAddress);
          // The API port is published on the loopback address only: nothing off this machine
          // can reach a test node.
          cmd.getHostConfig()
              .withBinds(binds)
              .withCapAdd(Capability.NET_ADMIN)
              // Every address in the tier is an IP literal; a name looked up by mistake goes to
              // the container's own loopback, where nothing answers, never to a real resolver.
              .withDns("127.0.0.1")
              .withPortBindings(
                  new PortBinding(Ports.Binding.bindIp("127.0.0.1"), ExposedPort.tcp(apiPort)));
        });
    List<String> command = new ArrayList<>();
    command.add(hostJava());
    command.addAll(
        List.of(
            "-Xmx192m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-XX:ActiveProcessorCount=1"));
    // Extra node JVM options, as the namespace tier takes them (a logback file under the cluster
    // directory, which the container sees at the same path).
    OPTION_SEPARATOR
        .splitAsStream(System.getProperty("chaos.node-jvm-option", ""))
        .map(String::strip)
        .filter(option -> !option.isEmpty())
        .forEach(command::add);
    command.addAll(
        List.of(
            "-jar",
            KeyrotorImage.JAR_IN_IMAGE,
            "run",
            "--config",
            nodeDirectory.resolve("node.properties").toString()));
    withCommand(command.toArray(String[]::new));
    // A loaded two-core machine starts a node JVM slowly: with three nodes starting at once at
    // load average 43-64 the ports answered after 4.6 and 5.7 minutes, and the third node, still
    // running, missed an earlier 6-minute bound. The bound only catches a node that never
    // starts; a container that dies fails the wait at once.
    waitingFor(Wait.forListeningPort().withStartupTimeout(STARTUP_TIMEOUT));
  }

  /**
   * Appends everything the node prints, from its container's start on, to {@code file}. The engine
   * keeps a container's output only as long as the container: a container that fails its start-up
   * wait is removed by Testcontainers, and its output with it, so it is followed as it comes.
   */
  public KeyrotorContainer withOutputTo(Path file) {
    return withLogConsumer(
        frame -> {
          try {
            Files.writeString(
                file,
                frame.getUtf8String(),
                StandardCharsets.UTF_8,
                StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
          } catch (IOException e) {
            // the output is an artifact; the run goes on without it
          }
        });
  }

  /** The host's JDK: under {@code /usr}, so it exists inside the container too. */
  static String hostJava() {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    if (!java.startsWith("/usr/")) {
      throw new IllegalStateException(
          "the node containers run the host's JDK from the read-only /usr mount; this JDK is at "
              + java
              + " (run the tests with a JDK under /usr, e.g. Debian's openjdk-17-jdk-headless)");
    }
    return java;
  }

  public String nodeId() {
    return nodeId;
  }

  /**
   * {@code 127.0.0.1:<port>}: the node's API as the driver reaches it. Read from the engine each
   * time, since a restarted container may be given another host port.
   */
  public String apiAddress() {
    InspectContainerResponse info = client().inspectContainerCmd(getContainerId()).exec();
    Ports.Binding[] bindings =
        info.getNetworkSettings().getPorts().getBindings().get(ExposedPort.tcp(apiPort));
    if (bindings == null || bindings.length == 0) {
      throw new IllegalStateException(nodeId + ": API port " + apiPort + " is not mapped");
    }
    return "127.0.0.1:" + bindings[0].getHostPortSpec();
  }

  /** The container's fixed address on the test network (what its peers dial and see). */
  public String networkAddress() {
    return ipAddress;
  }

  /** Freezes every process of the container (its sockets stay open). */
  public void pause() {
    client().pauseContainerCmd(getContainerId()).exec();
  }

  public void unpause() {
    client().unpauseContainerCmd(getContainerId()).exec();
  }

  /**
   * SIGKILL through the engine; the container and its data stay, ready for {@link #restartNode}.
   */
  public void killNode() {
    client().killContainerCmd(getContainerId()).withSignal("KILL").exec();
    awaitState(false);
  }

  /** Starts the killed container again: the same node, data and network alias. */
  public void restartNode() {
    client().startContainerCmd(getContainerId()).exec();
    awaitState(true);
  }

  /** Whether the node's container runs (paused counts as running). */
  public boolean isRunningNode() {
    Boolean running = client().inspectContainerCmd(getContainerId()).exec().getState().getRunning();
    return Boolean.TRUE.equals(running);
  }

  /** The pid of the node's JVM as the host sees it (0 when not running). */
  public long hostPid() {
    Long pid = client().inspectContainerCmd(getContainerId()).exec().getState().getPidLong();
    return pid == null ? 0 : pid;
  }

  /**
   * The engine's view of the container, one line: status, exit code, OOM kill, error, start and
   * finish times, host pid.
   */
  public String engineState() {
    InspectContainerResponse.ContainerState state =
        client().inspectContainerCmd(getContainerId()).exec().getState();
    return nodeId
        + " status="
        + state.getStatus()
        + " exitCode="
        + state.getExitCodeLong()
        + " oomKilled="
        + state.getOOMKilled()
        + " error="
        + state.getError()
        + " startedAt="
        + state.getStartedAt()
        + " finishedAt="
        + state.getFinishedAt()
        + " pid="
        + state.getPidLong();
  }

  /** Takes the container off the test network: its peers and the driver lose it. */
  public void disconnect() {
    client()
        .disconnectFromNetworkCmd()
        .withNetworkId(network.getId())
        .withContainerId(getContainerId())
        .withForce(true)
        .exec();
  }

  /** Puts the container back on the test network at its fixed address. */
  public void reconnect() {
    client()
        .connectToNetworkCmd()
        .withNetworkId(network.getId())
        .withContainerId(getContainerId())
        .withContainerNetwork(
            new ContainerNetwork()
                .withIpamConfig(new ContainerNetwork.Ipam().withIpv4Address(ipAddress)))
        .exec();
  }

  /**
   * Runs {@code nft ARGS...} inside the container.
   *
   * @throws IllegalStateException when nft exits non-zero
   */
  public String nft(String... args) {
    String[] command = new String[args.length + 1];
    command[0] = "/usr/sbin/nft";
    System.arraycopy(args, 0, command, 1, args.length);
    try {
      ExecResult result = execInContainer(command);
      if (result.getExitCode() != 0) {
        throw new IllegalStateException(
            nodeId + ": nft " + String.join(" ", args) + " failed: " + result.getStderr());
      }
      return result.getStdout();
    } catch (IOException e) {
      throw new IllegalStateException(nodeId + ": nft failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(nodeId + ": interrupted", e);
    }
  }

  private DockerClient client() {
    return getDockerClient();
  }

  private void awaitState(boolean running) {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < deadline) {
      if (isRunningNode() == running) {
        return;
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    throw new IllegalStateException(nodeId + " did not become " + (running ? "running" : "dead"));
  }
}
