package io.keyrotor.server;

import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionService;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.keyrotor.consensus.RaftNode;
import io.keyrotor.server.access.Authorizer;
import io.keyrotor.server.access.DenialRecorder;
import io.keyrotor.server.access.PolicyAuthorizer;
import io.keyrotor.server.api.AdminServiceImpl;
import io.keyrotor.server.api.AuditServiceImpl;
import io.keyrotor.server.api.BackupServiceImpl;
import io.keyrotor.server.api.ComplianceServiceImpl;
import io.keyrotor.server.api.DataAuditServiceImpl;
import io.keyrotor.server.api.EventWatchers;
import io.keyrotor.server.api.IntegrityGate;
import io.keyrotor.server.api.KeyServiceImpl;
import io.keyrotor.server.api.MalformedRequests;
import io.keyrotor.server.api.ServerContext;
import io.keyrotor.server.api.WritePath;
import io.keyrotor.server.audit.AuditSigner;
import io.keyrotor.server.audit.DataAuditLog;
import io.keyrotor.server.audit.RequestIds;
import io.keyrotor.server.chaos.ChaosClock;
import io.keyrotor.server.chaos.ChaosServiceImpl;
import io.keyrotor.server.clock.ClockGuard;
import io.keyrotor.server.clock.ClockProbe;
import io.keyrotor.server.config.NodeConfig;
import io.keyrotor.server.dataplane.DataPlane;
import io.keyrotor.server.hsm.HsmTasks;
import io.keyrotor.server.http.HttpEndpoint;
import io.keyrotor.server.http.RestGateway;
import io.keyrotor.server.http.StatusHandler;
import io.keyrotor.server.metrics.NodeMetrics;
import io.keyrotor.server.tracing.HttpSpans;
import io.keyrotor.server.tracing.NodeTracing;
import io.keyrotor.server.transport.ApiTransport;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's API surface, started once its Raft node and data plane run: the gRPC server with every
 * service behind its interceptors (malformed requests, integrity gate, request ids, authentication,
 * metrics), health and reflection, and the HTTPS endpoint for metrics and the status page. {@link
 * KeyrotorNode} owns what this returns and closes it.
 */
final class NodeApi {
  private static final Logger LOG = LoggerFactory.getLogger(NodeApi.class);

  /** How often refused calls are proposed into the audit chain. */
  private static final Duration DENIAL_FLUSH_INTERVAL = Duration.ofSeconds(1);

  /** The gRPC server and what its shutdown takes care of beside it. */
  record Api(
      Server server,
      AdminServiceImpl admin,
      HealthStatusManager health,
      EventWatchers watchers,
      Authorizer authorizer,
      java.util.List<io.grpc.ServerServiceDefinition> restServices,
      java.util.concurrent.Executor restExecutor,
      HttpSpans restSpans) {}

  /**
   * The gRPC API on the node's API pool: KeyService and AdminService behind the metrics
   * interceptor, health, reflection, and in chaos mode the chaos service. Every write RPC takes the
   * one write path: validate, authorise, build (KEKs on the HSM executor), propose, answer.
   */
  static Api start(
      NodeConfig config,
      ServerContext context,
      DataPlane dataPlane,
      HsmTasks hsmTasks,
      NodeExecutors executors,
      NodeMetrics metrics,
      HealthStatusManager health,
      ChaosClock chaosClockOrNull,
      ApiTransport transport,
      ClockGuard clockGuard,
      DataAuditLog dataAudit,
      AuditSigner auditSigner,
      NodeTracing tracing)
      throws KeyrotorNode.StartupException {
    EventWatchers watchers = new EventWatchers(context);
    watchers.registerMetrics(metrics.registry());
    executors.dataPlane().registerMetrics(metrics.registry(), "dataplane.queue");
    RaftNode raft = context.raft();
    DenialRecorder denials = new DenialRecorder(config.nodeId(), raft::propose);
    var unusedDenialFlush =
        executors
            .scheduler()
            .scheduleWithFixedDelay(
                denials::flush,
                DENIAL_FLUSH_INTERVAL.toMillis(),
                DENIAL_FLUSH_INTERVAL.toMillis(),
                TimeUnit.MILLISECONDS);
    Authorizer authorizer = new PolicyAuthorizer(raft::state, denials);
    WritePath writes =
        new WritePath(
            context,
            authorizer,
            hsmTasks.calls(),
            executors.blocking(),
            tracing.proposals(),
            executors.api());
    // The last interceptor listed runs first: metrics see every call, refused ones included;
    // then authentication puts the caller's principal in the context.
    ServerInterceptor authentication = transport.authentication();
    AdminServiceImpl admin =
        new AdminServiceImpl(
            context,
            executors.blocking(),
            zone -> hsmTasks.driver().lastError(zone).orElse(null),
            writes,
            transport,
            clockGuard);
    // Every service but health authenticates its caller (Caller.PRINCIPAL); the metrics
    // interceptor runs outside it, so refused calls are counted too. Request bytes that do not
    // parse are INVALID_ARGUMENT (MalformedRequests), not gRPC's UNKNOWN.
    io.grpc.ServerServiceDefinition keyService =
        MalformedRequests.refusedAsInvalid(
            ServerInterceptors.intercept(
                new KeyServiceImpl(
                        context,
                        dataPlane,
                        watchers,
                        writes,
                        // audit.data.enabled=false (benchmarks on loopback only): no data audit.
                        config.dataAudit().enabled() ? dataAudit : null)
                    .bindService(),
                tracing.keyNames()));
    IntegrityGate integrityGate = new IntegrityGate(raft::state);
    // The HTTP/JSON gateway calls the same KeyService behind the same interceptors, with the
    // principal its HTTPS listener authenticated in place of the TLS authentication.
    io.grpc.ServerServiceDefinition restKeyService =
        ServerInterceptors.intercept(
            keyService,
            integrityGate,
            RequestIds.interceptor(),
            RestGateway.callerInterceptor(),
            metrics.rpcInterceptor());
    if (tracing.enabled()) {
      // The gateway sends its HTTP span's context on the in-process call: the RPC's span is its
      // child, as on the gRPC port.
      restKeyService = ServerInterceptors.intercept(restKeyService, tracing.interceptor());
    }
    java.util.List<io.grpc.ServerServiceDefinition> restServices =
        java.util.List.of(restKeyService);
    NettyServerBuilder builder =
        NettyServerBuilder.forAddress(KeyrotorNode.socketAddress(config.apiListenAddress()))
            .executor(executors.api())
            .addService(
                ServerInterceptors.intercept(
                    keyService,
                    integrityGate,
                    RequestIds.interceptor(),
                    authentication,
                    metrics.rpcInterceptor()))
            .addService(
                authenticated(
                    new DataAuditServiceImpl(context, dataAudit, writes, executors.blocking()),
                    authentication,
                    metrics))
            .addService(
                ServerInterceptors.intercept(
                    MalformedRequests.refusedAsInvalid(admin.bindService()),
                    ClockProbe.probeCallMarker(),
                    authentication,
                    metrics.rpcInterceptor()))
            .addService(
                authenticated(
                    new ComplianceServiceImpl(context, writes, executors.blocking()),
                    authentication,
                    metrics))
            .addService(
                authenticated(
                    new AuditServiceImpl(context, writes, auditSigner, executors.blocking()),
                    authentication,
                    metrics))
            .addService(
                authenticated(
                    new BackupServiceImpl(context, writes, auditSigner, executors.blocking()),
                    authentication,
                    metrics))
            .addService(health.getHealthService())
            .addService(
                ServerInterceptors.intercept(
                    ProtoReflectionServiceV1.newInstance(), authentication))
            // v1alpha too: grpcurl, Postman and older grpc tools ask it first.
            .addService(ServerInterceptors.intercept(reflectionV1Alpha(), authentication));
    if (tracing.enabled()) {
      // Server-wide, so it runs before every service's own interceptors: refused calls are spans
      // too, and the caller's trace context is current while the handlers run.
      builder.intercept(tracing.interceptor());
    }
    ApiTransport.limit(builder, config.flow());
    try {
      builder = transport.secure(builder);
    } catch (SSLException e) {
      throw new KeyrotorNode.StartupException(
          "cannot set up TLS for the gRPC API on " + config.apiAddress() + ": " + e.getMessage(),
          e);
    }
    if (chaosClockOrNull != null) {
      LOG.warn(
          "Node {} runs in CHAOS MODE (chaos.enabled=true, chaos.test-cluster=true): a cluster"
              + " administrator may skew its clock and delay its Raft traffic; never use this"
              + " outside a test cluster",
          config.nodeId());
      builder.addService(
          ServerInterceptors.intercept(
              new ChaosServiceImpl(config.nodeId(), chaosClockOrNull, context.raft(), authorizer),
              authentication));
    }
    Server server = builder.build();
    try {
      server.start();
    } catch (IOException e) {
      throw new KeyrotorNode.StartupException(
          "cannot listen for the gRPC API on " + config.apiListenAddress() + ": " + e.getMessage(),
          e);
    }
    health.setStatus("", ServingStatus.SERVING);
    return new Api(
        server, admin, health, watchers, authorizer, restServices, executors.api(), tracing.http());
  }

  /**
   * The HTTPS endpoint ({@code http.address}): metrics and the status page, for principals allowed
   * PERMISSION_ADMINISTER; none when the setting is absent or the node runs without TLS.
   */
  static HttpEndpoint startHttp(
      NodeConfig config,
      Api api,
      ApiTransport transport,
      NodeMetrics metrics,
      RaftNode raft,
      Clock clock)
      throws KeyrotorNode.StartupException {
    if (config.http().address().isEmpty() || !transport.mutualTls()) {
      return null;
    }
    String address = config.http().address().get();
    try {
      HttpEndpoint http =
          HttpEndpoint.start(
              address,
              transport,
              api.authorizer(),
              metrics.prometheus(),
              new StatusHandler(
                  config.nodeId(),
                  api.admin()::clusterStatus,
                  raft::state,
                  metrics.registry(),
                  clock),
              RestGateway.start(api.restServices(), api.restExecutor(), api.restSpans()));
      LOG.info(
          "Node {} serves /metrics, its status page and the HTTP/JSON key API (/v1, /openapi.json)"
              + " on https://{}/",
          config.nodeId(),
          address.substring(0, address.lastIndexOf(':') + 1) + http.port());
      return http;
    } catch (IOException e) {
      throw new KeyrotorNode.StartupException(
          "cannot serve HTTPS (http.address) on " + address + ": " + e.getMessage(), e);
    }
  }

  /**
   * {@code service} behind the interceptors of every authenticated API service: request bytes that
   * do not parse are INVALID_ARGUMENT (MalformedRequests), the caller is authenticated, and the
   * metrics interceptor (listed last, so it runs first) counts every call, refused ones included.
   */
  private static io.grpc.ServerServiceDefinition authenticated(
      io.grpc.BindableService service, ServerInterceptor authentication, NodeMetrics metrics) {
    return ServerInterceptors.intercept(
        MalformedRequests.refusedAsInvalid(service.bindService()),
        authentication,
        metrics.rpcInterceptor());
  }

  /**
   * gRPC server reflection v1alpha, the version many tools still ask first; it answers from the
   * same descriptors as v1. gRPC marks it deprecated in favour of v1, which the node serves too.
   */
  @SuppressWarnings("deprecation")
  private static io.grpc.BindableService reflectionV1Alpha() {
    return ProtoReflectionService.newInstance();
  }

  private NodeApi() {}
}
