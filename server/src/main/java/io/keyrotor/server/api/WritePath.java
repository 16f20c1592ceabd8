package io.keyrotor.server.api;

import com.google.rpc.Code;
import io.grpc.StatusRuntimeException;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CommandResult;
import io.keyrotor.proto.internal.v1.WrappedKeyMaterial;
import io.keyrotor.server.access.Authorizer;
import io.keyrotor.server.access.Caller;
import io.keyrotor.server.access.Decision;
import io.keyrotor.server.access.Operation;
import io.keyrotor.server.access.Principal;
import io.keyrotor.server.access.Target;
import io.keyrotor.server.hsm.HsmExecutor;
import io.keyrotor.server.tracing.NodeTracing;
import io.keyrotor.server.tracing.ProposalSpans;
import io.keyrotor.storage.StateView;
import io.opentelemetry.context.Context;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * The one path of every write RPC of KeyService and AdminService:
 *
 * <ol>
 *   <li><b>validate</b>: the adapter turns the request into checked input before it gets here
 *       ({@code KeyWriteInputs}, {@code Requests}); bad input is INVALID_ARGUMENT and nothing
 *       happens;
 *   <li><b>authorise</b>: the {@link Authorizer} decides on the operation and its target, on the
 *       calling thread; a denial is PERMISSION_DENIED, a call without a principal UNAUTHENTICATED,
 *       and nothing happens. The command carries the caller's principal, and apply checks it again
 *       against the policy at the command's log index;
 *   <li><b>build</b> the command: at once from the request, or, when it reads the replicated state,
 *       after the linearizable read barrier; a new key-encryption key is minted and wrapped on the
 *       {@link HsmExecutor}, never on a Raft thread (which may complete the barrier: a slow PKCS#11
 *       call there would stall apply) nor on a gRPC thread;
 *   <li><b>propose</b> it through the Raft log (bounded by the request timeout);
 *   <li><b>answer</b>: the apply result, if the state machine accepted the command; its rejection
 *       otherwise, as a status through {@link ApiErrors#fromOutcome}. Every failure on the way
 *       reaches the caller through the one {@link ErrorMapper} ({@link Calls}).
 * </ol>
 */
public final class WritePath {
  private final ServerContext context;
  private final Authorizer authorizer;
  private final HsmExecutor hsmExecutor;
  private final Executor blockingExecutor;
  private final Executor answerExecutor;
  private final KekMinter keks;
  private final ProposalSpans spans;

  /**
   * @param hsmExecutor where new key-encryption keys are minted
   * @param blockingExecutor where commands that ask other nodes are built
   */
  public WritePath(
      ServerContext context,
      Authorizer authorizer,
      HsmExecutor hsmExecutor,
      Executor blockingExecutor) {
    this(
        context,
        authorizer,
        hsmExecutor,
        blockingExecutor,
        NodeTracing.off().proposals(),
        Runnable::run);
  }

  /**
   * A write path whose proposals are traced by {@code spans} when the calling RPC is (the trace
   * context is carried to the HSM and blocking executors and into the proposal, in memory only).
   *
   * @param answerExecutor where the reply is built once the command applied (the node's gRPC
   *     executor): the future of a proposal on the leader completes on the state machine's apply
   *     thread, which must go on to the next entry, not build the caller's response
   */
  public WritePath(
      ServerContext context,
      Authorizer authorizer,
      HsmExecutor hsmExecutor,
      Executor blockingExecutor,
      ProposalSpans spans,
      Executor answerExecutor) {
    this.spans = spans;
    this.answerExecutor = answerExecutor;
    this.context = context;
    this.authorizer = authorizer;
    this.hsmExecutor = hsmExecutor;
    this.blockingExecutor = blockingExecutor;
    this.keks = new KekMinter(context, hsmExecutor);
  }

  /**
   * Runs {@code write} from authorisation to its apply result. Completes with the result of a
   * command the state machine accepted, or exceptionally (a status, or a failure the {@link
   * ErrorMapper} turns into one).
   */
  CompletableFuture<CommandResult> submit(Write write) {
    String principal;
    try {
      authorize(write.operation(), write.target());
      // Read on the calling thread, where the call's context is current; apply checks it again.
      principal = Caller.current().map(Principal::name).orElseThrow();
    } catch (StatusRuntimeException denied) {
      return CompletableFuture.failedFuture(denied);
    }
    // The calling RPC's trace context (none when untraced), carried to the executors that build
    // the command and into its proposal.
    Context trace = Context.current();
    Executor hsm = trace.wrap(hsmExecutor);
    Executor blocking = trace.wrap(blockingExecutor);
    CompletableFuture<Command> command;
    try {
      command =
          switch (write.needs()) {
            case REQUEST -> buildNow(write, principal);
            case NEW_KEK -> CompletableFuture.supplyAsync(() -> build(write, principal), hsm);
            case STATE_AND_NEW_KEK ->
                readBarrier().thenApplyAsync(i -> build(write, principal), hsm);
            case STATE, STATE_AND_PEERS ->
                readBarrier().thenApplyAsync(i -> build(write, principal), blocking);
          };
    } catch (RejectedExecutionException full) {
      return CompletableFuture.failedFuture(full);
    }
    // The answer (the outcome's status, then the caller's response, audit and reply) leaves the
    // thread that completed the proposal: on the leader that is the apply thread.
    Executor answers = trace.wrap(answerExecutor);
    return command
        .thenCompose(c -> context.bounded(spans.propose(trace, c, context.raft()::propose)))
        .thenApplyAsync(WritePath::accepted, answers);
  }

  /**
   * The authorisation step alone, for every call that is not a command (reads, the data plane,
   * leadership transfer, snapshots): throws UNAUTHENTICATED when the call has no principal and
   * PERMISSION_DENIED when the {@link Authorizer} refuses.
   */
  void authorize(Operation operation, Target target) {
    authorize(authorizer, operation, target, Map.of());
  }

  /** The authoriser every call of this node asks. */
  Authorizer authorizer() {
    return authorizer;
  }

  /** {@code authorizer}'s decision on the current call, as a status when it refuses. */
  static void authorize(
      Authorizer authorizer, Operation operation, Target target, Map<String, String> context) {
    Decision decision = authorizer.authorize(operation, target, context);
    if (decision.throttled()) {
      throw ApiErrors.quotaExceeded(
          decision.quota(), decision.retryAfter(), decision.denialReason());
    }
    if (!decision.allowed()) {
      throw decision.authenticated()
          ? ApiErrors.permissionDenied(operation, target, decision.denialReason())
          : ApiErrors.unauthenticated(decision.denialReason());
    }
  }

  private CompletableFuture<Command> buildNow(Write write, String principal) {
    try {
      return CompletableFuture.completedFuture(build(write, principal));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  private CompletableFuture<Long> readBarrier() {
    return context.bounded(context.raft().readBarrier());
  }

  private Command build(Write write, String principal) {
    Command.Builder command =
        Command.newBuilder()
            .setRequestId(write.requestId())
            .setOriginNode(context.config().nodeId())
            .setPrincipal(principal);
    write.body().fill(command, new Sources(write.needs()));
    return command.build();
  }

  private static CommandResult accepted(CommandResult result) {
    if (result.getOutcome().getCode() != Code.OK_VALUE) {
      throw ApiErrors.fromOutcome(result.getOutcome());
    }
    return result;
  }

  /** What a command body may draw on, as far as its write's {@link Write.Needs} allow. */
  final class Sources {
    private final Write.Needs needs;

    private Sources(Write.Needs needs) {
      this.needs = needs;
    }

    /** The applied state, read after the linearizable read barrier. */
    StateView state() {
      if (!needs.readsState()) {
        throw new IllegalStateException("a write that did not pass the read barrier read state");
      }
      return context.raft().state();
    }

    /**
     * A new key-encryption key for version {@code version} of {@code keyName} in {@code zone},
     * minted and wrapped by this node's HSM and bound to that version.
     */
    WrappedKeyMaterial newWrappedKek(String zone, String keyName, int version) {
      if (!needs.mintsKek()) {
        throw new IllegalStateException("a write that does not mint a KEK asked for one");
      }
      return keks.newWrappedKek(zone, keyName, version);
    }
  }
}
