package io.keyrotor.server.chaos;

import com.google.protobuf.Timestamp;
import io.grpc.stub.StreamObserver;
import io.keyrotor.api.chaos.v1.ChaosServiceGrpc;
import io.keyrotor.api.chaos.v1.ChaosState;
import io.keyrotor.api.chaos.v1.GetChaosStateRequest;
import io.keyrotor.api.chaos.v1.ResetRequest;
import io.keyrotor.api.chaos.v1.SetClockOffsetRequest;
import io.keyrotor.api.chaos.v1.SetClockRateRequest;
import io.keyrotor.api.chaos.v1.SetRpcDelayRequest;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.consensus.RaftNode;
import io.keyrotor.server.access.Authorizer;
import io.keyrotor.server.access.Decision;
import io.keyrotor.server.access.Operation;
import io.keyrotor.server.access.Target;
import io.keyrotor.server.api.ApiErrors;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The chaos gRPC service (keyrotor.chaos.v1): clock offset and rate on the node's {@link
 * ChaosClock}, and an in-process delay of outgoing Raft requests. Registered only in chaos mode,
 * which a node accepts only with {@code chaos.test-cluster=true}; every call needs the ADMINISTER
 * permission, and clock offsets are bounded ({@value #MAX_CLOCK_OFFSET_MILLIS} ms either way).
 * Every change is logged at WARN, so a node log shows the faults it ran under.
 */
public final class ChaosServiceImpl extends ChaosServiceGrpc.ChaosServiceImplBase {
  private static final Logger LOG = LoggerFactory.getLogger(ChaosServiceImpl.class);
  private static final long MAX_RPC_DELAY_MILLIS = 60_000;

  /**
   * The largest clock offset the service sets, either way: 1,000 days, enough for the jumps an NTP
   * step or a bad host makes (a year and more), which the clock safety tests stage.
   */
  public static final long MAX_CLOCK_OFFSET_MILLIS = 1_000L * 86_400_000L;

  private final String nodeId;
  private final ChaosClock clock;
  private final RaftNode raft;
  private final Authorizer authorizer;
  private volatile int rpcDelayMillis;
  private volatile int rpcJitterMillis;

  public ChaosServiceImpl(String nodeId, ChaosClock clock, RaftNode raft, Authorizer authorizer) {
    this.nodeId = nodeId;
    this.clock = clock;
    this.raft = raft;
    this.authorizer = authorizer;
  }

  /** Whether the caller administers the cluster; answers the refusal when not. */
  private boolean permitted(StreamObserver<ChaosState> response) {
    Decision decision = authorizer.authorize(Operation.CHAOS, Target.cluster());
    if (decision.allowed()) {
      return true;
    }
    response.onError(
        decision.throttled()
            ? ApiErrors.quotaExceeded(
                decision.quota(), decision.retryAfter(), decision.denialReason())
            : decision.authenticated()
                ? ApiErrors.permissionDenied(
                    Operation.CHAOS,
                    Target.cluster(),
                    "the chaos service is for cluster administrators: " + decision.denialReason())
                : ApiErrors.unauthenticated(decision.denialReason()));
    return false;
  }

  @Override
  public void setClockOffset(SetClockOffsetRequest request, StreamObserver<ChaosState> response) {
    if (!permitted(response)) {
      return;
    }
    if (Math.abs(request.getOffsetMillis()) > MAX_CLOCK_OFFSET_MILLIS) {
      response.onError(
          ApiErrors.invalid(
              "offset_millis",
              ErrorReason.INVALID_ARGUMENT,
              "a clock offset must be within "
                  + MAX_CLOCK_OFFSET_MILLIS
                  + " ms either way, not "
                  + request.getOffsetMillis()));
      return;
    }
    clock.setOffsetMillis(request.getOffsetMillis());
    LOG.warn("Chaos: node {} clock offset set to {} ms", nodeId, request.getOffsetMillis());
    answer(response);
  }

  @Override
  public void setClockRate(SetClockRateRequest request, StreamObserver<ChaosState> response) {
    if (!permitted(response)) {
      return;
    }
    try {
      clock.setRate(request.getRate());
    } catch (IllegalArgumentException e) {
      response.onError(ApiErrors.invalid("rate", ErrorReason.INVALID_ARGUMENT, e.getMessage()));
      return;
    }
    LOG.warn("Chaos: node {} clock rate set to {}", nodeId, request.getRate());
    answer(response);
  }

  @Override
  public void setRpcDelay(SetRpcDelayRequest request, StreamObserver<ChaosState> response) {
    if (!permitted(response)) {
      return;
    }
    long delay = Integer.toUnsignedLong(request.getDelayMillis());
    long jitter = Integer.toUnsignedLong(request.getJitterMillis());
    if (delay > MAX_RPC_DELAY_MILLIS || jitter > MAX_RPC_DELAY_MILLIS) {
      response.onError(
          ApiErrors.invalid(
              delay > MAX_RPC_DELAY_MILLIS ? "delay_millis" : "jitter_millis",
              ErrorReason.INVALID_ARGUMENT,
              "an RPC delay must be at most " + MAX_RPC_DELAY_MILLIS + " ms"));
      return;
    }
    raft.setRpcDelay(Duration.ofMillis(delay), Duration.ofMillis(jitter));
    rpcDelayMillis = (int) delay;
    rpcJitterMillis = (int) jitter;
    answer(response);
  }

  @Override
  public void reset(ResetRequest request, StreamObserver<ChaosState> response) {
    if (!permitted(response)) {
      return;
    }
    clock.reset();
    raft.setRpcDelay(Duration.ZERO, Duration.ZERO);
    rpcDelayMillis = 0;
    rpcJitterMillis = 0;
    LOG.warn("Chaos: node {} reset (real clock, no RPC delay)", nodeId);
    answer(response);
  }

  @Override
  public void getChaosState(GetChaosStateRequest request, StreamObserver<ChaosState> response) {
    if (!permitted(response)) {
      return;
    }
    answer(response);
  }

  private void answer(StreamObserver<ChaosState> response) {
    long real = clock.real().millis();
    long node = clock.millis();
    response.onNext(
        ChaosState.newBuilder()
            .setNodeId(nodeId)
            .setClockOffsetMillis(node - real)
            .setClockRate(clock.rate())
            .setRpcDelayMillis(rpcDelayMillis)
            .setRpcJitterMillis(rpcJitterMillis)
            .setNodeTime(timestamp(node))
            .setRealTime(timestamp(real))
            .build());
    response.onCompleted();
  }

  private static Timestamp timestamp(long millis) {
    return Timestamp.newBuilder()
        .setSeconds(Math.floorDiv(millis, 1000))
        .setNanos(Math.floorMod(millis, 1000) * 1_000_000)
        .build();
  }
}
