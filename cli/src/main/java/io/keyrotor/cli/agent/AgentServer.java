package io.keyrotor.cli.agent;

import com.google.protobuf.Any;
import com.google.rpc.ErrorInfo;
import io.grpc.Server;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.StreamObserver;
import io.keyrotor.api.v1.DecryptRequest;
import io.keyrotor.api.v1.DecryptResponse;
import io.keyrotor.api.v1.EncryptRequest;
import io.keyrotor.api.v1.EncryptResponse;
import io.keyrotor.api.v1.GenerateDataKeyRequest;
import io.keyrotor.api.v1.GenerateDataKeyResponse;
import io.keyrotor.api.v1.KeyServiceGrpc;
import io.keyrotor.api.v1.ReEncryptRequest;
import io.keyrotor.api.v1.ReEncryptResponse;
import io.keyrotor.cli.OwnerOnlyDirectory;
import io.keyrotor.client.KeyrotorClient;
import io.keyrotor.client.KeyrotorException;
import io.keyrotor.client.envelope.CachingDataPlane;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The key agent's gRPC server: {@code keyrotor.v1.KeyService} on a Unix domain socket, with the
 * data plane calls GenerateDataKey, Encrypt, Decrypt and ReEncrypt; every other method answers
 * UNIMPLEMENTED. GenerateDataKey and Decrypt go through the {@link CachingDataPlane}; Encrypt and
 * ReEncrypt need the key's KEK and always go to the cluster.
 *
 * <p>Who may call is decided by the file system, not by the agent: the socket is created owner-only
 * (0600) in a directory that must be owner-only (0700; created so if absent), so only processes of
 * the agent's own user reach it. The cluster sees the agent's certificate, not the applications'.
 */
public final class AgentServer implements AutoCloseable {

  private static final Set<PosixFilePermission> OWNER_ONLY_SOCKET =
      PosixFilePermissions.fromString("rw-------");

  private final Path socket;
  private final EventLoopGroup boss;
  private final EventLoopGroup workers;
  private final Server server;

  private AgentServer(Path socket, EventLoopGroup boss, EventLoopGroup workers, Server server) {
    this.socket = socket;
    this.boss = boss;
    this.workers = workers;
    this.server = server;
  }

  /**
   * Starts serving on {@code socket}. Fails with {@link IllegalArgumentException} when the socket's
   * directory is not owner-only or a file that is not a socket is in the way.
   */
  public static AgentServer start(
      Path socket, KeyrotorClient client, CachingDataPlane cache, int threads) throws IOException {
    if (!Epoll.isAvailable()) {
      throw new IllegalStateException(
          "Unix domain sockets need the native epoll transport, unavailable here: "
              + Epoll.unavailabilityCause());
    }
    Path path = socket.toAbsolutePath();
    prepareDirectory(path.getParent());
    if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
      if (Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)
          || Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)
          || Files.isSymbolicLink(path)) {
        throw new IllegalArgumentException(
            "agent socket " + path + " exists and is not a socket; remove it or choose another");
      }
      Files.delete(path); // a socket left behind by an agent that did not stop cleanly
    }
    EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    EventLoopGroup workers = new MultiThreadIoEventLoopGroup(threads, EpollIoHandler.newFactory());
    Server server =
        NettyServerBuilder.forAddress(new DomainSocketAddress(path.toString()))
            .channelType(EpollServerDomainSocketChannel.class)
            .bossEventLoopGroup(boss)
            .workerEventLoopGroup(workers)
            .addService(new DataPlaneService(client, cache))
            .build();
    try {
      server.start();
      Files.setPosixFilePermissions(path, OWNER_ONLY_SOCKET);
    } catch (IOException | RuntimeException e) {
      server.shutdownNow();
      stopGroups(boss, workers);
      throw e;
    }
    return new AgentServer(path, boss, workers, server);
  }

  /** The socket's directory, created owner-only, or refused when it exists with wider access. */
  static void prepareDirectory(Path directory) throws IOException {
    OwnerOnlyDirectory.prepare(directory, "the agent socket's directory");
  }

  private static void stopGroups(EventLoopGroup... groups) {
    for (EventLoopGroup group : groups) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
  }

  /** The socket's path. */
  public Path socket() {
    return socket;
  }

  /** Waits until the server stopped. */
  public void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }

  /** Stops serving and removes the socket file. */
  @Override
  public void close() {
    server.shutdown();
    try {
      if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
        server.shutdownNow();
      }
    } catch (InterruptedException e) {
      server.shutdownNow();
      Thread.currentThread().interrupt();
    }
    stopGroups(boss, workers);
    try {
      Files.deleteIfExists(socket);
    } catch (IOException e) {
      // Removed on the next start.
    }
  }

  /** The data plane subset of KeyService. */
  private static final class DataPlaneService extends KeyServiceGrpc.KeyServiceImplBase {
    private final KeyrotorClient client;
    private final CachingDataPlane cache;

    DataPlaneService(KeyrotorClient client, CachingDataPlane cache) {
      this.client = client;
      this.cache = cache;
    }

    @Override
    public void generateDataKey(
        GenerateDataKeyRequest request, StreamObserver<GenerateDataKeyResponse> response) {
      answer(response, () -> cache.generateDataKey(request));
    }

    @Override
    public void decrypt(DecryptRequest request, StreamObserver<DecryptResponse> response) {
      answer(response, () -> cache.decrypt(request));
    }

    @Override
    public void encrypt(EncryptRequest request, StreamObserver<EncryptResponse> response) {
      answer(response, () -> client.encrypt(request));
    }

    @Override
    public void reEncrypt(ReEncryptRequest request, StreamObserver<ReEncryptResponse> response) {
      answer(response, () -> client.reEncrypt(request));
    }

    private static <T> void answer(StreamObserver<T> response, Supplier<T> call) {
      T result;
      try {
        result = call.get();
      } catch (KeyrotorException e) {
        response.onError(statusOf(e));
        return;
      } catch (IllegalArgumentException e) {
        // A context the SDK refuses before asking anyone (EncryptionContext's rules).
        response.onError(
            io.grpc.Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
        return;
      }
      response.onNext(result);
      response.onCompleted();
    }
  }

  /** The cluster's answer as the application would have had it: code, message, ErrorInfo. */
  static StatusRuntimeException statusOf(KeyrotorException e) {
    com.google.rpc.Status.Builder status =
        com.google.rpc.Status.newBuilder()
            .setCode(e.code().value())
            .setMessage(e.serverMessage().isEmpty() ? e.getMessage() : e.serverMessage());
    if (!e.reason().isEmpty()) {
      status.addDetails(
          Any.pack(
              ErrorInfo.newBuilder()
                  .setReason(e.reason())
                  .setDomain(e.domain().isEmpty() ? KeyrotorException.DOMAIN : e.domain())
                  .putAllMetadata(e.metadata())
                  .build()));
    }
    return StatusProto.toStatusRuntimeException(status.build());
  }
}
