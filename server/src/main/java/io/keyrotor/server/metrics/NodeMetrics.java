package io.keyrotor.server.metrics;

import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.keyrotor.consensus.KeyrotorStateMachine;
import io.keyrotor.consensus.RaftMetrics;
import io.keyrotor.consensus.RaftNode;
import io.keyrotor.consensus.RaftStatus;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CommandResult;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.core.metrics.Info;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The node's metrics: a Dropwizard registry that the node's parts register into, and the Prometheus
 * registry the HTTPS endpoint serves ({@code /metrics}). Names and label values carry no key names,
 * labels or material: only method names, command kinds, status codes, HSM operation names and the
 * group's member ids, each a bounded set.
 *
 * <p>Dropwizard ({@link #registry()}):
 *
 * <ul>
 *   <li>{@code rpc.<Service>.<Method>}: a timer per gRPC method;
 *   <li>{@code rpc.<Service>.<Method>.status.<CODE>}: a counter per outcome;
 *   <li>{@code apply.<COMMAND_KIND>}: a timer per applied command kind.
 * </ul>
 *
 * <p>Prometheus ({@link #prometheus()}): {@code keyrotor_rpc_duration_seconds{method,code}}, {@code
 * keyrotor_apply_duration_seconds{command}}, {@code keyrotor_hsm_operation_duration_seconds} and
 * {@code keyrotor_hsm_operation_errors_total} (by {@code operation}), the Raft gauges of {@link
 * #registerRaft}, {@code keyrotor_node_info{node,region}}, and every other Dropwizard metric
 * through {@link DropwizardBridge} ({@code keyrotor_<name>}).
 */
public final class NodeMetrics {
  /** Upper bounds (seconds) of the latency histograms: 0.5 ms to 10 s. */
  private static final double[] LATENCY_BOUNDS = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
  };

  private static final double NANOS_PER_SECOND = TimeUnit.SECONDS.toNanos(1);

  private final MetricRegistry registry = new MetricRegistry();
  private final PrometheusRegistry prometheus = new PrometheusRegistry();
  private final Histogram rpcLatency =
      Histogram.builder()
          .name("keyrotor_rpc_duration_seconds")
          .help("gRPC calls served by this node, by method and status code")
          .unit(Unit.SECONDS)
          .labelNames("method", "code")
          .classicOnly()
          .classicUpperBounds(LATENCY_BOUNDS)
          .register(prometheus);
  private final Histogram applyLatency =
      Histogram.builder()
          .name("keyrotor_apply_duration_seconds")
          .help("Time to apply a committed log entry to the state, by command kind")
          .unit(Unit.SECONDS)
          .labelNames("command")
          .classicOnly()
          .classicUpperBounds(LATENCY_BOUNDS)
          .register(prometheus);
  private final Histogram hsmLatency =
      Histogram.builder()
          .name("keyrotor_hsm_operation_duration_seconds")
          .help("HSM calls of this node, by operation")
          .unit(Unit.SECONDS)
          .labelNames("operation")
          .classicOnly()
          .classicUpperBounds(LATENCY_BOUNDS)
          .register(prometheus);
  private final Counter hsmErrors =
      Counter.builder()
          .name("keyrotor_hsm_operation_errors")
          .help("HSM calls of this node that failed, by operation")
          .labelNames("operation")
          .register(prometheus);

  public NodeMetrics() {
    prometheus.register(
        new DropwizardBridge(
            registry, "keyrotor", name -> name.startsWith("rpc.") || name.startsWith("apply.")));
  }

  public MetricRegistry registry() {
    return registry;
  }

  /** What {@code /metrics} serves. */
  public PrometheusRegistry prometheus() {
    return prometheus;
  }

  /** Times every RPC and counts its status code. */
  public ServerInterceptor rpcInterceptor() {
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(
          ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        String fullName = call.getMethodDescriptor().getFullMethodName();
        String method = "rpc." + fullName.replace('/', '.');
        Timer.Context timer = registry.timer(method).time();
        long start = System.nanoTime();
        ServerCall<Q, R> timed =
            new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
              @Override
              public void close(Status status, Metadata trailers) {
                timer.stop();
                registry.counter(method + ".status." + status.getCode().name()).inc();
                rpcLatency
                    .labelValues(fullName, status.getCode().name())
                    .observe((System.nanoTime() - start) / NANOS_PER_SECOND);
                super.close(status, trailers);
              }
            };
        return next.startCall(timed, headers);
      }
    };
  }

  /** Times every applied command by kind. */
  public KeyrotorStateMachine.ApplyListener applyListener() {
    return (Command command, CommandResult result, long index, long nanos) -> {
      String kind = command.getBodyCase().name();
      registry.timer("apply." + kind).update(nanos, TimeUnit.NANOSECONDS);
      applyLatency.labelValues(kind).observe(nanos / NANOS_PER_SECOND);
    };
  }

  /** Records one HSM call of {@code operation} (a fixed name) that took {@code nanos}. */
  public void hsmCall(String operation, long nanos, boolean failed) {
    hsmLatency.labelValues(operation).observe(nanos / NANOS_PER_SECOND);
    if (failed) {
      hsmErrors.labelValues(operation).inc();
    }
  }

  /** {@code keyrotor_node_info{node, region}}: 1, to tell the nodes' series apart by name. */
  public void registerNode(String nodeId, String region) {
    Info.builder()
        .name("keyrotor_node")
        .help("This node's id and region")
        .labelNames("node", "region")
        .register(prometheus)
        .addLabelValues(nodeId, region);
  }

  /**
   * Raft's gauges, read at each scrape: term, commit, applied and snapshot index, whether this node
   * leads, each follower's lag behind the commit index (leader only), and Ratis's own metrics of
   * this member ({@code keyrotor_ratis_<component>_<name>}: elections, appenders, log, state
   * machine).
   */
  public void registerRaft(RaftNode raft) {
    raftGauge("keyrotor_raft_term", "The current Raft term", raft, RaftStatus::term);
    raftGauge(
        "keyrotor_raft_commit_index",
        "The highest log index known committed",
        raft,
        s -> s.commitIndex());
    raftGauge(
        "keyrotor_raft_applied_index",
        "The highest log index applied to the state",
        raft,
        s -> s.appliedIndex());
    raftGauge(
        "keyrotor_raft_snapshot_index",
        "The newest local snapshot's index",
        raft,
        s -> s.snapshotIndex());
    raftGauge(
        "keyrotor_raft_leader",
        "1 while this node leads the group",
        raft,
        s -> "LEADER".equals(s.role()) ? 1 : 0);
    GaugeWithCallback.builder()
        .name("keyrotor_raft_follower_lag_entries")
        .help("Committed entries a follower has not replicated yet (reported by the leader only)")
        .labelNames("follower")
        .callback(
            callback -> {
              long commit = raft.status().commitIndex();
              for (RaftMetrics.Follower follower : raft.followers()) {
                callback.call((double) Math.max(0, commit - follower.matchIndex()), follower.id());
              }
            })
        .register(prometheus);
    prometheus.register(new RatisBridge(raft::ratisMetrics));
  }

  private void raftGauge(
      String name,
      String help,
      RaftNode raft,
      java.util.function.ToDoubleFunction<RaftStatus> value) {
    GaugeWithCallback.builder()
        .name(name)
        .help(help)
        .callback(callback -> callback.call(value.applyAsDouble(raft.status())))
        .register(prometheus);
  }

  /** Ratis's numbers as gauges named {@code keyrotor_ratis_<component>_<name>}. */
  private record RatisBridge(java.util.function.Supplier<Map<String, Double>> values)
      implements io.prometheus.metrics.model.registry.MultiCollector {
    @Override
    public io.prometheus.metrics.model.snapshots.MetricSnapshots collect() {
      var out = new java.util.ArrayList<io.prometheus.metrics.model.snapshots.MetricSnapshot>();
      var seen = new java.util.HashSet<String>();
      for (Map.Entry<String, Double> entry : values.get().entrySet()) {
        String name = DropwizardBridge.name("keyrotor_ratis", entry.getKey());
        if (seen.add(name)) {
          out.add(
              io.prometheus.metrics.model.snapshots.GaugeSnapshot.builder()
                  .name(name)
                  .dataPoint(
                      io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot
                          .builder()
                          .value(entry.getValue())
                          .build())
                  .build());
        }
      }
      return new io.prometheus.metrics.model.snapshots.MetricSnapshots(out);
    }
  }
}
