package io.keyrotor.cli.resident;

import io.keyrotor.cli.KeyrotorCli;
import io.keyrotor.cli.OwnerOnlyDirectory;
import io.keyrotor.cli.SharedClients;
import io.keyrotor.client.Durations;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

/**
 * The resident CLI process: runs {@code scripts/keyrotor} command lines that its callers hand it
 * over a Unix domain socket ({@link ResidentProtocol}), each with {@link KeyrotorCli#runFor} (the
 * same entry point as a JVM of its own, with the caller's arguments, working directory and
 * streams), keeping the SDK's connections between commands ({@link SharedClients}).
 *
 * <p>Who may call: the socket is in an owner-only directory (0700, {@link OwnerOnlyDirectory}) and
 * is itself 0600, and every connection's peer user (SO_PEERCRED) must be the directory's owner, the
 * process's own user; any other is closed unanswered. A request is at most {@link
 * ResidentProtocol#MAX_REQUEST_BYTES} and must arrive within {@link #REQUEST_READ_TIMEOUT}; at most
 * {@link #MAX_CONCURRENT_CONNECTIONS} are served at once (the next caller is declined and runs the
 * command itself); at most {@link #MAX_SHARED_CLIENTS} connection settings keep a client.
 *
 * <p>When it stops: after {@code idle} with no command (default 15 minutes, {@code
 * KEYROTOR_RESIDENT_IDLE}), on a {@code stop} request ({@code scripts/keyrotor resident stop}), as
 * soon as its jar changes (a rebuilt CLI is never answered by old code: the next command is
 * declined with {@code restart} and the launcher starts a new process), and when its socket file is
 * removed or replaced. Only one process serves a socket: a lock file next to it is held for the
 * process's life.
 */
public final class ResidentServer {

  /** How many connections are served at once. */
  static final int MAX_CONCURRENT_CONNECTIONS = 8;

  /** How many connection settings (servers, deadline, TLS files) keep an SDK client. */
  static final int MAX_SHARED_CLIENTS = 16;

  /** How long a caller may take to send its request. */
  static final Duration REQUEST_READ_TIMEOUT = Duration.ofSeconds(10);

  /** The idle time after which the process exits, unless {@code KEYROTOR_RESIDENT_IDLE} says. */
  static final Duration DEFAULT_IDLE = Duration.ofMinutes(15);

  private static final Duration CHECK_INTERVAL = Duration.ofMillis(500);
  private static final Duration LOCK_WAIT = Duration.ofSeconds(10);
  private static final Duration DRAIN_WAIT = Duration.ofSeconds(30);

  private final Path socket;
  private final FileChannel lockFile;
  private final FileLock lock;
  private final ServerSocketChannel server;
  private final Object socketFileKey;
  private final UserPrincipal allowedPeer;
  private final Path jar;
  private final String jarVersion;
  private final Duration idle;
  private final Clock clock;
  private final SharedClients clients = new SharedClients(MAX_SHARED_CLIENTS);
  private final Semaphore connections = new Semaphore(MAX_CONCURRENT_CONNECTIONS);
  private final ExecutorService workers =
      Executors.newCachedThreadPool(daemon("keyrotor-resident-command"));
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(daemon("keyrotor-resident-timer"));
  private final AtomicInteger commandsRunning = new AtomicInteger();
  private final AtomicLong commandsServed = new AtomicLong();
  private final AtomicLong lastActivityNanos = new AtomicLong(System.nanoTime());
  private final long startNanos = System.nanoTime();
  private final CountDownLatch stopped = new CountDownLatch(1);
  private volatile String stopReason;

  private ResidentServer(
      Path socket,
      FileChannel lockFile,
      FileLock lock,
      ServerSocketChannel server,
      UserPrincipal allowedPeer,
      Path jar,
      Duration idle,
      Clock clock)
      throws IOException {
    this.socket = socket;
    this.lockFile = lockFile;
    this.lock = lock;
    this.server = server;
    this.socketFileKey = fileKey(socket);
    this.allowedPeer = allowedPeer;
    this.jar = jar;
    this.jarVersion = versionOf(jar);
    this.idle = idle;
    this.clock = clock;
  }

  /**
   * {@code ResidentServer SOCKET}: serves on SOCKET until it stops (see the class comment); exits
   * at once, status 0, when another process already serves it. The launcher starts it in the
   * background with its output in {@code SOCKET}'s {@code .log} file.
   */
  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: ResidentServer SOCKET");
      System.exit(2);
    }
    Duration idle = DEFAULT_IDLE;
    String idleSetting = System.getenv("KEYROTOR_RESIDENT_IDLE");
    if (idleSetting != null && !idleSetting.isBlank()) {
      try {
        idle = Durations.parsePositive(idleSetting.strip());
      } catch (IllegalArgumentException e) {
        System.err.println(
            "keyrotor resident: KEYROTOR_RESIDENT_IDLE="
                + idleSetting
                + " ignored: "
                + e.getMessage());
      }
    }
    Path jar =
        Path.of(ResidentServer.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    ResidentServer resident = open(Path.of(args[0]), idle, jar, null, Clock.systemUTC());
    if (resident == null) {
      System.exit(0); // another process serves this socket
    }
    resident.serve();
    System.exit(0);
  }

  /**
   * Binds {@code socket}, or returns null when another process holds its lock for longer than a
   * process that is stopping would.
   *
   * @param jar the jar whose change stops the process
   * @param allowedPeer the only user whose connections are served (null: the owner of the socket's
   *     directory, which must be this process's user)
   */
  static ResidentServer open(
      Path socket, Duration idle, Path jar, UserPrincipal allowedPeer, Clock clock)
      throws IOException, InterruptedException {
    Path path = socket.toAbsolutePath();
    Path directory = path.getParent();
    OwnerOnlyDirectory.prepare(directory, "the resident CLI socket's directory");
    FileChannel lockFile =
        FileChannel.open(
            path.resolveSibling(path.getFileName() + ".lock"),
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE);
    FileLock lock = null;
    long deadline = System.nanoTime() + LOCK_WAIT.toNanos();
    while (lock == null) {
      try {
        lock = lockFile.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null; // held by this JVM (tests)
      }
      if (lock == null) {
        if (System.nanoTime() > deadline) {
          lockFile.close();
          return null;
        }
        Thread.sleep(100);
      }
    }
    ServerSocketChannel server = null;
    try {
      if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
        if (Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)
            || Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)
            || Files.isSymbolicLink(path)) {
          throw new IllegalArgumentException(
              "resident CLI socket " + path + " exists and is not a socket");
        }
        Files.delete(path); // left by a process that did not stop cleanly; we hold the lock
      }
      server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
      server.bind(UnixDomainSocketAddress.of(path));
      Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
      UserPrincipal peer =
          allowedPeer != null ? allowedPeer : Files.getOwner(directory, LinkOption.NOFOLLOW_LINKS);
      return new ResidentServer(path, lockFile, lock, server, peer, jar, idle, clock);
    } catch (IOException | RuntimeException e) {
      if (server != null) {
        server.close();
      }
      lock.release();
      lockFile.close();
      throw e;
    }
  }

  /** Serves until the process should stop, then cleans up; returns why it stopped. */
  String serve() {
    log("serving " + socket + " (idle exit after " + Durations.format(idle) + ")");
    ScheduledFuture<?> checks =
        timer.scheduleWithFixedDelay(
            this::check,
            CHECK_INTERVAL.toMillis(),
            CHECK_INTERVAL.toMillis(),
            TimeUnit.MILLISECONDS);
    try {
      while (stopReason == null) {
        SocketChannel channel;
        try {
          channel = server.accept();
        } catch (ClosedChannelException e) {
          break;
        } catch (IOException e) {
          log("accept failed: " + e.getMessage());
          continue;
        }
        dispatch(channel);
      }
    } finally {
      checks.cancel(false);
      shutDown();
    }
    return stopReason;
  }

  /** Asks the process to stop (it lets running commands finish first). */
  void stop(String reason) {
    synchronized (this) {
      if (stopReason != null) {
        return;
      }
      stopReason = reason;
    }
    try {
      server.close();
    } catch (IOException e) {
      log("closing the socket failed: " + e.getMessage());
    }
  }

  private void dispatch(SocketChannel channel) {
    try {
      UnixDomainPrincipal peer = channel.getOption(ExtendedSocketOptions.SO_PEERCRED);
      if (!allowedPeer.equals(peer.user())) {
        log("refused a connection of user " + peer.user().getName());
        channel.close();
        return;
      }
      if (!connections.tryAcquire()) {
        new ResidentProtocol.FrameWriter(channel).decline("busy");
        channel.close();
        return;
      }
      workers.execute(
          () -> {
            try (channel) {
              handle(channel);
            } catch (IOException e) {
              // The caller went away; its command (if it ran) finished on its own.
            } finally {
              connections.release();
            }
          });
    } catch (IOException | RuntimeException e) {
      log("dropped a connection: " + e);
      try {
        channel.close();
      } catch (IOException ignored) {
        // Nothing more to do with it.
      }
    }
  }

  private void handle(SocketChannel channel) throws IOException {
    ResidentProtocol.FrameWriter frames = new ResidentProtocol.FrameWriter(channel);
    ResidentProtocol.Request request;
    ScheduledFuture<?> watchdog =
        timer.schedule(
            () -> closeQuietly(channel), REQUEST_READ_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    try {
      request = ResidentProtocol.read(channel);
    } catch (IllegalArgumentException e) {
      frames.decline("bad request: " + e.getMessage());
      return;
    } finally {
      watchdog.cancel(false);
    }
    if (request.control() != null) {
      control(request.control(), frames);
      return;
    }
    if (!jarVersion.equals(versionOf(jar))) {
      frames.decline("restart: the CLI jar changed");
      stop("the CLI jar changed");
      return;
    }
    if (stopReason != null) {
      frames.decline("restart: stopping (" + stopReason + ")");
      return;
    }
    commandsRunning.incrementAndGet();
    commandsServed.incrementAndGet();
    lastActivityNanos.set(System.nanoTime());
    try {
      frames.accepted();
      run(request, frames);
    } finally {
      lastActivityNanos.set(System.nanoTime());
      commandsRunning.decrementAndGet();
    }
  }

  private void run(ResidentProtocol.Request request, ResidentProtocol.FrameWriter frames)
      throws IOException {
    PrintStream out =
        new PrintStream(
            new BufferedOutputStream(frames.stream(ResidentProtocol.STDOUT), 8192),
            false,
            StandardCharsets.UTF_8);
    PrintStream err =
        new PrintStream(
            new BufferedOutputStream(frames.stream(ResidentProtocol.STDERR), 8192),
            false,
            StandardCharsets.UTF_8);
    int status;
    try {
      status =
          KeyrotorCli.runFor(
              request.args().toArray(String[]::new),
              request.workingDirectory(),
              request.stderrIsTerminal(),
              clients,
              out,
              err);
    } catch (RuntimeException e) {
      // A bug: the command's own failures are exit statuses. No arguments are logged.
      log("a command failed unexpectedly: " + e);
      err.println("error: the resident CLI process failed: " + e.getClass().getName());
      status = 1;
    }
    out.flush();
    err.flush();
    frames.exit(status);
  }

  private void control(String control, ResidentProtocol.FrameWriter frames) throws IOException {
    if (control.equals("status")) {
      String line =
          String.format(
              "resident CLI process %d: up %s, %d commands served, %d running, %d connection"
                  + " settings kept, idle exit after %s; socket %s, jar %s%n",
              ProcessHandle.current().pid(),
              Durations.format(
                  Duration.ofSeconds(
                      TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startNanos))),
              commandsServed.get(),
              commandsRunning.get(),
              clients.size(),
              Durations.format(idle),
              socket,
              jar);
      byte[] bytes = line.getBytes(StandardCharsets.UTF_8);
      frames.frame(ResidentProtocol.STDOUT, bytes, 0, bytes.length);
      frames.exit(0);
      return;
    }
    byte[] bytes =
        String.format("stopping the resident CLI process %d%n", ProcessHandle.current().pid())
            .getBytes(StandardCharsets.UTF_8);
    frames.frame(ResidentProtocol.STDOUT, bytes, 0, bytes.length);
    frames.exit(0);
    stop("keyrotor resident stop");
    try {
      // The caller's connection closes once the process has let go of its socket.
      stopped.await(DRAIN_WAIT.toSeconds() + 5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The periodic checks: the jar, the socket file, the idle time. */
  private void check() {
    try {
      if (!jarVersion.equals(versionOf(jar))) {
        stop("the CLI jar changed");
      } else if (!Objects.equals(socketFileKey, fileKey(socket))) {
        stop("the socket file was removed or replaced");
      } else if (commandsRunning.get() == 0
          && System.nanoTime() - lastActivityNanos.get() > idle.toNanos()) {
        stop("idle for " + Durations.format(idle));
      }
    } catch (RuntimeException e) {
      log("check failed: " + e);
    }
  }

  private void shutDown() {
    long deadline = System.nanoTime() + DRAIN_WAIT.toNanos();
    while (commandsRunning.get() > 0 && System.nanoTime() < deadline) {
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    try {
      if (Objects.equals(socketFileKey, fileKey(socket))) {
        Files.deleteIfExists(socket);
      }
    } catch (IOException e) {
      log("removing " + socket + " failed: " + e.getMessage());
    }
    clients.close();
    try {
      lock.release();
      lockFile.close();
    } catch (IOException e) {
      log("releasing the lock failed: " + e.getMessage());
    }
    timer.shutdownNow();
    workers.shutdown();
    log("stopped: " + stopReason + " (" + commandsServed.get() + " commands served)");
    stopped.countDown();
  }

  private void log(String message) {
    System.err.println(
        clock.instant() + " keyrotor resident " + ProcessHandle.current().pid() + ": " + message);
  }

  /** The jar's modification time, size and inode, or "missing". */
  private static String versionOf(Path file) {
    try {
      BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
      return attributes.lastModifiedTime().toInstant()
          + "/"
          + attributes.size()
          + "/"
          + attributes.fileKey();
    } catch (IOException e) {
      return "missing";
    }
  }

  private static Object fileKey(Path file) {
    try {
      return Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
          .fileKey();
    } catch (IOException e) {
      return null;
    }
  }

  private static void closeQuietly(SocketChannel channel) {
    try {
      channel.close();
    } catch (IOException e) {
      // Already closed.
    }
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    AtomicInteger count = new AtomicInteger();
    return runnable -> {
      Thread thread = new Thread(runnable, name + "-" + count.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }
}
