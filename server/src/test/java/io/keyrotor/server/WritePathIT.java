package io.keyrotor.server;

import static io.keyrotor.server.KeyRequests.newKey;
import static io.keyrotor.server.KeyRequests.rotation;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.keyrotor.api.v1.CreateKeyRequest;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.Key;
import io.keyrotor.api.v1.RotateKeyResponse;
import io.keyrotor.api.v1.RotationPolicy;
import io.keyrotor.api.v1.SetRotationPolicyRequest;
import io.keyrotor.server.access.Authorizer;
import io.keyrotor.server.access.Decision;
import io.keyrotor.server.access.Operation;
import io.keyrotor.server.access.Target;
import io.keyrotor.server.api.EventWatchers;
import io.keyrotor.server.api.KeyServiceImpl;
import io.keyrotor.server.api.ServerContext;
import io.keyrotor.server.api.WritePath;
import io.keyrotor.server.hsm.HsmExecutor;
import io.keyrotor.server.testing.Answers;
import io.keyrotor.server.testing.InProcessCaller;
import io.keyrotor.server.testing.TestHsm;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The write path on a real 3-node cluster: KeyService writes served through a follower's Raft
 * member (whose read barrier is a ReadIndex round trip that Ratis completes on its own threads),
 * with the node's real software HSM behind a wrapper that records the threads it is called on and
 * can hold calls, and an authoriser that records what it is asked.
 */
@Tag("integration")
class WritePathIT extends ClusterTestBase {
  private KeyrotorNode follower;
  private TestHsm hsm;
  private RecordingAuthorizer authorizer;
  private HsmExecutor hsmExecutor;
  private ExecutorService blocking;
  private KeyServiceImpl keys;

  WritePathIT() {
    super(List.of("eu"), Map.of());
  }

  @BeforeAll
  void serveThroughAFollower() {
    follower = cluster.nodes.get(cluster.followerIds().get(0));
    hsm = TestHsm.around(follower.hsm());
    authorizer = new RecordingAuthorizer();
    hsmExecutor = new HsmExecutor(2, 16);
    blocking = Executors.newCachedThreadPool();
    ServerContext context =
        new ServerContext(
            follower.raft(), hsm, follower.config(), Clock.systemUTC(), Duration.ofSeconds(10));
    keys =
        new KeyServiceImpl(
            context,
            follower.dataPlane(),
            new EventWatchers(context),
            new WritePath(context, authorizer, hsmExecutor, blocking));
  }

  @AfterAll
  void closeExecutors() {
    hsmExecutor.close();
    blocking.shutdownNow();
  }

  @BeforeEach
  void reset() {
    hsm.wrapThreads.clear();
    hsm.holdWraps = null;
    authorizer.asked.clear();
    authorizer.denyAll = false;
  }

  @Test
  void rotateKey_newKekMintedOnTheHsmExecutorNotOnTheThreadThatCompletedTheBarrier()
      throws Exception {
    String name = unique("rotated");
    createKey(name);
    hsm.wrapThreads.clear();

    RotateKeyResponse rotated = rotateKey(name);

    assertEquals(2, rotated.getNewVersion());
    assertEquals(1, hsm.wrapThreads.size(), "one KEK wrapped");
    assertTrue(
        hsm.wrapThreads.get(0).startsWith(HsmExecutor.THREAD_NAME_PREFIX),
        () ->
            "the KEK was wrapped on "
                + hsm.wrapThreads.get(0)
                + ", not on the HSM executor: a Raft thread completing the read barrier would"
                + " stall apply during the HSM call");
  }

  @Test
  void createKey_newKekMintedOnTheHsmExecutor() throws Exception {
    createKey(unique("created"));

    assertEquals(1, hsm.wrapThreads.size());
    assertTrue(
        hsm.wrapThreads.get(0).startsWith(HsmExecutor.THREAD_NAME_PREFIX), hsm.wrapThreads.get(0));
  }

  @Test
  void slowHsmDuringARotation_otherWritesStillApplyOnEveryNode() throws Exception {
    String name = unique("slow");
    createKey(name);
    CountDownLatch release = new CountDownLatch(1);
    hsm.holdWraps = release;
    hsm.wrapEntered = new CountDownLatch(1);

    CompletableFuture<RotateKeyResponse> rotation =
        callAsync(r -> keys.rotateKey(rotation(name), r));
    assertTrue(hsm.wrapEntered.await(30, TimeUnit.SECONDS), "the rotation reached the HSM");
    try {
      Key changed =
          call(
              r ->
                  keys.setRotationPolicy(
                      SetRotationPolicyRequest.newBuilder()
                          .setName(name)
                          .setRotationPolicy(RotationPolicy.newBuilder().setMaxEncryptions(7))
                          .build(),
                      r));
      assertEquals(7, changed.getRotationPolicy().getMaxEncryptions());
      cluster.awaitConvergence();
      assertFalse(rotation.isDone(), "the rotation still waits for its HSM call");
    } finally {
      release.countDown();
    }
    assertEquals(2, rotation.get(30, TimeUnit.SECONDS).getNewVersion());
  }

  @Test
  void createKey_retriedWithItsRequestIdAfterItApplied_theFirstOutcome() throws Exception {
    CreateKeyRequest request =
        CreateKeyRequest.newBuilder()
            .setName(unique("retried"))
            .setRequestId(UUID.randomUUID().toString())
            .build();
    Key first = call(r -> keys.createKey(request, r));
    cluster.awaitConvergence(); // this node has applied the create

    Key retried = call(r -> keys.createKey(request, r));

    assertEquals(first.getName(), retried.getName());
    assertEquals(first.getVersions(0).getCreateTime(), retried.getVersions(0).getCreateTime());
  }

  @Test
  void createKey_existingNameWithoutRequestId_alreadyExistsBeforeTheHsmOrTheLog() throws Exception {
    String name = unique("twice");
    createKey(name);
    cluster.awaitConvergence();
    hsm.wrapThreads.clear();
    long appliedBefore = follower.raft().state().appliedPosition().index();

    StatusRuntimeException duplicate =
        assertThrows(StatusRuntimeException.class, () -> createKey(name));

    assertEquals(Status.Code.ALREADY_EXISTS, duplicate.getStatus().getCode());
    assertEquals(ErrorReason.KEY_EXISTS.name(), GrpcErrors.reason(duplicate));
    assertTrue(hsm.wrapThreads.isEmpty(), "no KEK minted");
    cluster.awaitConvergence();
    assertEquals(appliedBefore, follower.raft().state().appliedPosition().index(), "no log entry");
  }

  @Test
  void authorizer_askedWithTheOperationAndTargetOfEachWrite() throws Exception {
    String name = unique("asked");
    createKey(name);
    rotateKey(name);

    assertEquals(
        List.of(
            // A key being created carries its zone and labels: there is no record to look up.
            new Asked(Operation.CREATE_KEY, Target.newKey(name, "default", List.of())),
            new Asked(Operation.ROTATE_KEY, Target.key(name))),
        authorizer.asked);
  }

  @Test
  void authorizerDenies_permissionDeniedBeforeTheHsmOrTheLog() throws Exception {
    authorizer.denyAll = true;
    cluster.awaitConvergence();
    long appliedBefore = follower.raft().state().appliedPosition().index();
    String name = unique("denied");

    StatusRuntimeException denied =
        assertThrows(StatusRuntimeException.class, () -> createKey(name));

    assertEquals(Status.Code.PERMISSION_DENIED, denied.getStatus().getCode());
    assertEquals(ErrorReason.PERMISSION_DENIED.name(), GrpcErrors.reason(denied));
    assertEquals("keyrotor.v1.KeyService/CreateKey", GrpcErrors.metadata(denied).get("operation"));
    assertEquals(name, GrpcErrors.metadata(denied).get("target"));
    assertTrue(hsm.wrapThreads.isEmpty(), "the HSM was not asked");
    cluster.awaitConvergence();
    assertEquals(appliedBefore, follower.raft().state().appliedPosition().index(), "no log entry");
    assertTrue(follower.raft().state().key(name).isEmpty());
  }

  @Test
  void createKeyOnTheLeader_replyBuiltOnTheAnswerExecutorNotOnTheApplyThread() throws Exception {
    KeyrotorNode leader = cluster.nodes.get(cluster.leaderId());
    ServerContext context =
        new ServerContext(
            leader.raft(),
            leader.hsm(),
            leader.config(),
            Clock.systemUTC(),
            Duration.ofSeconds(10));
    ExecutorService answers =
        Executors.newSingleThreadExecutor(r -> new Thread(r, "write-path-answers"));
    try {
      KeyServiceImpl onLeader =
          new KeyServiceImpl(
              context,
              leader.dataPlane(),
              new EventWatchers(context),
              new WritePath(
                  context,
                  authorizer,
                  hsmExecutor,
                  blocking,
                  io.keyrotor.server.tracing.NodeTracing.off().proposals(),
                  answers));
      String name = unique("answered");
      List<String> replyThreads = new CopyOnWriteArrayList<>();
      CompletableFuture<Key> answer = new CompletableFuture<>();
      StreamObserver<Key> completing = Answers.completing(answer);
      StreamObserver<Key> recording =
          new StreamObserver<>() {
            @Override
            public void onNext(Key value) {
              replyThreads.add(Thread.currentThread().getName());
              completing.onNext(value);
            }

            @Override
            public void onError(Throwable t) {
              completing.onError(t);
            }

            @Override
            public void onCompleted() {}
          };
      InProcessCaller.runAs(
          InProcessCaller.ADMIN, () -> onLeader.createKey(newKey(name), recording));

      assertEquals(name, answer.get(30, TimeUnit.SECONDS).getName());
      // On the leader the proposal completes on Ratis's apply thread (StateMachineUpdater): the
      // response must be built elsewhere, so that thread goes on to the next entry.
      assertEquals(List.of("write-path-answers"), replyThreads);
    } finally {
      answers.shutdownNow();
    }
  }

  @Test
  void badInput_refusedBeforeTheAuthorizerIsAsked() {
    StatusRuntimeException refused =
        assertThrows(StatusRuntimeException.class, () -> rotateKey("no spaces"));

    assertEquals(Status.Code.INVALID_ARGUMENT, refused.getStatus().getCode());
    assertTrue(authorizer.asked.isEmpty());
  }

  // ------------------------------------------------------------------ helpers

  private Key createKey(String name) throws Exception {
    return call(r -> keys.createKey(newKey(name), r));
  }

  private RotateKeyResponse rotateKey(String name) throws Exception {
    return call(r -> keys.rotateKey(rotation(name), r));
  }

  /** A call of the service, in-process: what it answered, or the status it failed with. */
  private static <T> T call(java.util.function.Consumer<StreamObserver<T>> rpc) throws Exception {
    try {
      return WritePathIT.<T>callAsync(rpc).get(30, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof StatusRuntimeException status) {
        throw status;
      }
      throw e;
    }
  }

  private static <T> CompletableFuture<T> callAsync(
      java.util.function.Consumer<StreamObserver<T>> rpc) {
    CompletableFuture<T> answer = new CompletableFuture<>();
    // In-process: the call's context carries the principal, as after the node's authentication.
    InProcessCaller.runAs(InProcessCaller.ADMIN, () -> rpc.accept(Answers.completing(answer)));
    return answer;
  }

  private record Asked(Operation operation, Target target) {}

  /** Allows (or denies) everything, and remembers what it was asked. */
  private static final class RecordingAuthorizer implements Authorizer {
    final List<Asked> asked = new CopyOnWriteArrayList<>();
    volatile boolean denyAll;

    @Override
    public Decision authorize(
        Operation operation, Target target, java.util.Map<String, String> context) {
      asked.add(new Asked(operation, target));
      return denyAll ? Decision.deny("this test denies everything") : Decision.allow();
    }
  }
}
