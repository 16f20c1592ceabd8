package io.keyrotor.server.clock;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.keyrotor.api.v1.AdminServiceGrpc;
import io.keyrotor.api.v1.GetNodeStatusRequest;
import io.keyrotor.api.v1.NodeStatus;
import io.keyrotor.consensus.RaftNode;
import io.keyrotor.server.transport.ApiTransport;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Measures the peers' clocks every {@code clock.probe-interval}: asks each peer's API for its
 * status (AdminService.GetNodeStatus, with this node's certificate, as the cluster status does) and
 * records the clock reading in it against the call's send and receive times on the monotonic clock
 * ({@link PeerClocks#record}). After each round, a leader whose clock is UNSAFE hands leadership to
 * the measured peer closest to the majority's time (at most once per {@link #HANDOVER_INTERVAL}),
 * so writes resume under a leader whose clock agrees.
 *
 * <p>One thread of its own ({@code keyrotor-clock-probe}); calls are bounded by a deadline, so a
 * peer that does not answer only ages its measurement out.
 */
public final class ClockProbe implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ClockProbe.class);

  /** The least time between two leadership handovers of this node. */
  static final Duration HANDOVER_INTERVAL = Duration.ofSeconds(5);

  private static final long HANDOVER_TIMEOUT_MILLIS = 3_000;

  /**
   * The request header a probe sends with GetNodeStatus: answer with the clock and the node's
   * identity only. The full status asks the HSM for key check values, which a call every second
   * from every peer must not do (a hung HSM would pin an API thread per probe).
   */
  static final Metadata.Key<String> PROBE_HEADER =
      Metadata.Key.of("keyrotor-clock-probe", Metadata.ASCII_STRING_MARSHALLER);

  private static final Context.Key<Boolean> PROBE_CALL = Context.key("keyrotor-clock-probe");

  /** Marks the calls that carry {@link #PROBE_HEADER} (see {@link #isProbeCall()}). */
  public static ServerInterceptor probeCallMarker() {
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(
          ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        if (headers.get(PROBE_HEADER) == null) {
          return next.startCall(call, headers);
        }
        return Contexts.interceptCall(
            Context.current().withValue(PROBE_CALL, Boolean.TRUE), call, headers, next);
      }
    };
  }

  /** Whether the current call is a peer's clock probe (GetNodeStatus answers it cheaply). */
  public static boolean isProbeCall() {
    return Boolean.TRUE.equals(PROBE_CALL.get());
  }

  private final Map<String, String> peerApiAddresses;
  private final ApiTransport transport;
  private final PeerClocks peers;
  private final ClockGuard guard;
  private final RaftNode raft;
  private final long deadlineMillis;
  private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
  private final ScheduledExecutorService thread =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "keyrotor-clock-probe");
            t.setDaemon(true);
            return t;
          });
  private final AtomicLong handovers = new AtomicLong();
  private volatile long lastHandoverNanos = System.nanoTime() - HANDOVER_INTERVAL.toNanos();
  private volatile ClockAssessment.State lastState = ClockAssessment.State.UNMEASURED;

  /**
   * @param peerApiAddresses the other members' API addresses, by node id
   */
  public ClockProbe(
      Map<String, String> peerApiAddresses,
      ApiTransport transport,
      PeerClocks peers,
      ClockGuard guard,
      RaftNode raft,
      Duration interval) {
    this.peerApiAddresses = Map.copyOf(peerApiAddresses);
    this.transport = transport;
    this.peers = peers;
    this.guard = guard;
    this.raft = raft;
    this.deadlineMillis = Math.max(200, Math.min(2_000, interval.toMillis() * 2));
    var unusedSchedule =
        thread.scheduleWithFixedDelay(this::round, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** How many times this node handed leadership over because of its clock (for metrics). */
  public long handovers() {
    return handovers.get();
  }

  private void round() {
    try {
      for (Map.Entry<String, String> peer : peerApiAddresses.entrySet()) {
        measure(peer.getKey(), peer.getValue());
      }
      ClockAssessment assessment = guard.assess();
      if (assessment.state() != lastState) {
        if (assessment.state() == ClockAssessment.State.SAFE) {
          LOG.info("Clock agrees with the majority (offsets {})", assessment.peers());
        } else {
          LOG.warn("Clock is {}: {}", assessment.state(), assessment.reason());
        }
        lastState = assessment.state();
      }
      if (assessment.state() == ClockAssessment.State.UNSAFE && raft.isReadyLeader()) {
        handOver(assessment);
      }
    } catch (RuntimeException e) {
      // The next round tries again; a failed round only ages measurements.
      LOG.warn("Clock probe round failed: {}", e.toString());
    }
  }

  private void measure(String id, String apiAddress) {
    ManagedChannel channel = channels.computeIfAbsent(id, k -> transport.channelTo(apiAddress));
    Metadata probe = new Metadata();
    probe.put(PROBE_HEADER, "1");
    long send = System.nanoTime();
    try {
      NodeStatus status =
          AdminServiceGrpc.newBlockingStub(channel)
              .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(probe))
              .withDeadlineAfter(deadlineMillis, TimeUnit.MILLISECONDS)
              .getNodeStatus(GetNodeStatusRequest.getDefaultInstance());
      long receive = System.nanoTime();
      if (status.getClockUnixMillis() != 0) {
        peers.record(id, status.getClockUnixMillis(), send, receive);
      }
    } catch (StatusRuntimeException e) {
      LOG.debug("Clock probe of {} failed: {}", id, e.getStatus());
    }
  }

  private void handOver(ClockAssessment assessment) {
    long now = System.nanoTime();
    if (now - lastHandoverNanos < HANDOVER_INTERVAL.toNanos()) {
      return;
    }
    long majorityOffset = assessment.majorityTimeMillis() - assessment.ownMillis();
    Optional<String> target =
        assessment.peers().stream()
            .filter(ClockAssessment.PeerOffset::measured)
            .min(Comparator.comparingLong(p -> Math.abs(p.offsetMillis() - majorityOffset)))
            .map(ClockAssessment.PeerOffset::nodeId);
    if (target.isEmpty()) {
      return;
    }
    lastHandoverNanos = now;
    handovers.incrementAndGet();
    LOG.warn(
        "Handing leadership to {}: this node's clock is unsafe ({})",
        target.get(),
        assessment.reason());
    try {
      raft.transferLeadership(target.get(), HANDOVER_TIMEOUT_MILLIS);
    } catch (RuntimeException e) {
      LOG.warn("Leadership handover to {} failed: {}", target.get(), e.getMessage());
    }
  }

  @Override
  public void close() {
    thread.shutdownNow();
    channels.values().forEach(ManagedChannel::shutdownNow);
  }
}
