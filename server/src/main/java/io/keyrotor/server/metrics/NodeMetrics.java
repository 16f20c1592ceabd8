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
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CommandResult;
import java.util.concurrent.TimeUnit;

/**
 * The node's metric registry. Names carry no key names, labels or material: only method names,
 * command kinds and status codes.
 *
 * <ul>
 *   <li>{@code rpc.<Service>.<Method>}: a timer per gRPC method;
 *   <li>{@code rpc.<Service>.<Method>.status.<CODE>}: a counter per outcome;
 *   <li>{@code apply.<COMMAND_KIND>}: a timer per applied command kind.
 * </ul>
 */
public final class NodeMetrics {
  private final MetricRegistry registry = new MetricRegistry();

  public MetricRegistry registry() {
    return registry;
  }

  /** Times every RPC and counts its status code. */
  public ServerInterceptor rpcInterceptor() {
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(
          ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        String method = "rpc." + call.getMethodDescriptor().getFullMethodName().replace('/', '.');
        Timer.Context timer = registry.timer(method).time();
        ServerCall<Q, R> timed =
            new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
              @Override
              public void close(Status status, Metadata trailers) {
                timer.stop();
                registry.counter(method + ".status." + status.getCode().name()).inc();
                super.close(status, trailers);
              }
            };
        return next.startCall(timed, headers);
      }
    };
  }

  /** Times every applied command by kind. */
  public KeyrotorStateMachine.ApplyListener applyListener() {
    return (Command command, CommandResult result, long index, long nanos) ->
        registry.timer("apply." + command.getBodyCase().name()).update(nanos, TimeUnit.NANOSECONDS);
  }
}
