package io.keyrotor.storage.golden;

import static io.keyrotor.storage.CommandBodies.acknowledge;
import static io.keyrotor.storage.CommandBodies.cancelDestroy;
import static io.keyrotor.storage.CommandBodies.cancelRotation;
import static io.keyrotor.storage.CommandBodies.dataKeyUsage;
import static io.keyrotor.storage.CommandBodies.destroyVersion;
import static io.keyrotor.storage.CommandBodies.label;
import static io.keyrotor.storage.CommandBodies.recordActivation;
import static io.keyrotor.storage.CommandBodies.registerAuditKey;
import static io.keyrotor.storage.CommandBodies.reportUsage;
import static io.keyrotor.storage.CommandBodies.reserveEncryptions;
import static io.keyrotor.storage.CommandBodies.retireZoneMasterKeyVersion;
import static io.keyrotor.storage.CommandBodies.rewrap;
import static io.keyrotor.storage.CommandBodies.rewrapKeks;
import static io.keyrotor.storage.CommandBodies.rollbackRotation;
import static io.keyrotor.storage.CommandBodies.rotateKeys;
import static io.keyrotor.storage.CommandBodies.scheduleDestroy;
import static io.keyrotor.storage.CommandBodies.setDependents;
import static io.keyrotor.storage.CommandBodies.setRotationPolicy;
import static io.keyrotor.storage.CommandBodies.setVersionFloors;
import static io.keyrotor.storage.CommandBodies.setVersionStatus;
import static io.keyrotor.storage.CommandBodies.signDestructionReceipt;
import static io.keyrotor.storage.CommandBodies.startBulkRotation;
import static io.keyrotor.storage.CommandBodies.startZoneMasterKeyRotation;
import static io.keyrotor.storage.CommandBodies.usage;
import static io.keyrotor.storage.golden.GoldenCommands.bootstrapPolicy;
import static io.keyrotor.storage.golden.GoldenCommands.command;
import static io.keyrotor.storage.golden.GoldenCommands.createKey;
import static io.keyrotor.storage.golden.GoldenCommands.dataAuditHead;
import static io.keyrotor.storage.golden.GoldenCommands.kek;
import static io.keyrotor.storage.golden.GoldenCommands.recordDenials;
import static io.keyrotor.storage.golden.GoldenCommands.registerNode;
import static io.keyrotor.storage.golden.GoldenCommands.rotateKey;
import static io.keyrotor.storage.golden.GoldenCommands.setPolicy;

import com.google.rpc.Code;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CommandResult;
import io.keyrotor.proto.internal.v1.RewrapKeks;
import io.keyrotor.proto.internal.v1.RotateKey;
import io.keyrotor.proto.internal.v1.RotationPolicyRecord;
import io.keyrotor.proto.internal.v1.SetClusterVersion;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.storage.CommandStamping;
import io.keyrotor.storage.KeyStateStore;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Writes the golden log: a fixed script of commands covering every command kind, accepted and
 * rejected, a retried request id, a new leader with a slower clock, scheduled destroys reaching
 * their time and request ids outliving their retention. It applies the script to a fresh {@link
 * KeyStateStore} and records the digest and audit head at the end of each part.
 *
 * <p>Deterministic: times are fixed offsets from {@link #START_MILLIS}, wrapped KEKs are fixed
 * bytes (never real key material), and nothing reads a clock or a random source. Running it twice
 * on the same code writes the same files. While it runs it checks that each command gets the
 * outcome the script states, so the log keeps covering what it claims to cover.
 *
 * <p>Run it from the repository root with {@value GoldenLog#REGENERATE_COMMAND}; the argument is
 * the output directory ({@code storage/src/test/resources/golden}).
 *
 * <p>About 650 lines because it is one script, read top to bottom: each part's commands stand
 * beside the outcome it expects.
 */
public final class GoldenLogGenerator {
  /** The leader time of the first command: 2023-11-14T22:13:20Z. */
  static final long START_MILLIS = 1_700_000_000_000L;

  private static final long SECOND = 1_000;
  private static final long MINUTE = 60 * SECOND;
  private static final long HOUR = 60 * MINUTE;

  private final KeyStateStore store;
  private final List<GoldenLog.Entry> entries = new ArrayList<>();
  private final List<GoldenLog.Expectation> expectations = new ArrayList<>();
  private final Map<Long, Command> unstampedByIndex = new HashMap<>();
  private long term = 1;
  private long index = 0;
  private long leaderTime = START_MILLIS;
  private String origin = "n1";

  private GoldenLogGenerator(KeyStateStore store) {
    this.store = store;
  }

  /**
   * Writes {@value GoldenLog#COMMANDS_FILE} and {@value GoldenLog#EXPECTATIONS_FILE} into the
   * directory given as the only argument.
   */
  public static void main(String[] args) throws IOException {
    if (args.length != 1) {
      throw new IllegalArgumentException("usage: GoldenLogGenerator <output directory>");
    }
    Path output = Paths.get(args[0]);
    int entries = generate(output);
    System.out.println("wrote the golden log (" + entries + " entries) to " + output);
  }

  /** Writes both files into {@code output}; returns the number of log entries. */
  static int generate(Path output) throws IOException {
    Files.createDirectories(output);
    Path scratch = Files.createTempDirectory("keyrotor-golden-log");
    try {
      GoldenLogGenerator generator;
      try (KeyStateStore store = KeyStateStore.open(scratch.resolve("state"))) {
        generator = new GoldenLogGenerator(store);
        generator.script();
      }
      try (OutputStream out = Files.newOutputStream(output.resolve(GoldenLog.COMMANDS_FILE))) {
        GoldenLog.writeEntries(generator.entries, out);
      }
      try (OutputStream out = Files.newOutputStream(output.resolve(GoldenLog.EXPECTATIONS_FILE))) {
        GoldenLog.writeExpectations(header(), generator.expectations, out);
      }
      return generator.entries.size();
    } finally {
      try (Stream<Path> walk = Files.walk(scratch)) {
        for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
  }

  private static String header() {
    return String.join(
        "\n",
        "# The golden log of keyrotor's apply: the state digest and audit chain head that a fresh",
        "# KeyStateStore reports after applying "
            + GoldenLog.COMMANDS_FILE
            + " up to each index below.",
        "# GoldenLogTest replays the log and compares. A difference means that what apply does has",
        "# changed; if that is deliberate, regenerate both files from the repository root with",
        "#   " + GoldenLog.REGENERATE_COMMAND,
        "# and commit them with the change that explains it. Written by",
        "# io.keyrotor.storage.golden.GoldenLogGenerator: fixed times and fixed wrapped KEKs, so the",
        "# same code always writes the same files. "
            + GoldenLog.COMMANDS_FILE
            + " holds, per entry,",
        "# a varint term, a varint index and a length-delimited keyrotor.internal.v1.Command.",
        "");
  }

  /** The script. Each call proposes one command and states the outcome it must have. */
  private void script() {
    // Nodes: the validators of zone "default". Zone "eu" has none, so its rotations are not gated.
    accept(registerNode("n1", "default"));
    accept(registerNode("n2", "default"));
    reject(registerNode("", "default"), Code.INVALID_ARGUMENT);
    expectState("nodes registered");

    long createOrders =
        accept(
            createKey("orders", "default", "orders/1", 0)
                .setPolicy(
                    RotationPolicyRecord.newBuilder().setRotationPeriodMillis(30 * 24 * HOUR))
                .addLabels(label("team", "payments")));
    accept(
        createKey("invoices", "default", "invoices/1", 0)
            .addLabels(label("team", "payments"))
            .addLabels(label("tier", "gold")));
    accept(createKey("ledger", "eu", "ledger/1", 0));
    accept(createKey("reports", "default", "reports/1", 10 * MINUTE)); // version 1 pending
    long createOrdersAgain =
        reject(createKey("orders", "default", "orders/again", 0), Code.ALREADY_EXISTS);
    reject(createKey("bad name!", "default", "bad/1", 0), Code.INVALID_ARGUMENT);
    reject(
        createKey("misplaced", "default", "misplaced/1", 0).setKek(kek("eu", 1, "misplaced/1")),
        Code.INVALID_ARGUMENT);
    expectState("keys created");

    long rotateOrders =
        accept(
            rotateKey("orders", "default", "orders/2", 0, RotationReason.ROTATION_REASON_MANUAL));
    accept(
        rotateKey(
            "orders", "default", "orders/3", MINUTE, RotationReason.ROTATION_REASON_SCHEDULED));
    reject(
        rotateKey("orders", "default", "orders/x", 0, RotationReason.ROTATION_REASON_MANUAL),
        Code.FAILED_PRECONDITION); // version 3 is pending
    reject(
        rotateKey("missing", "default", "missing/2", 0, RotationReason.ROTATION_REASON_MANUAL),
        Code.NOT_FOUND);
    reject(
        rotateKey("orders", "default", "orders/y", 0, RotationReason.ROTATION_REASON_MANUAL)
            .setExpectedLatestVersion(1),
        Code.FAILED_PRECONDITION);
    accept(acknowledge("orders", 3, "n1"));
    reject(acknowledge("orders", 3, "n9"), Code.FAILED_PRECONDITION);
    accept(acknowledge("orders", 3, "n2")); // validated
    reject(acknowledge("orders", 7, "n1"), Code.NOT_FOUND);
    expectState("rotations and validation gates");

    advance(70 * SECOND); // version 3 of orders activates
    accept(recordActivation("orders", 3));
    accept(recordActivation("orders", 3)); // recorded already: unchanged
    reject(recordActivation("reports", 1), Code.FAILED_PRECONDITION); // still pending
    accept(
        rotateKey("invoices", "default", "invoices/2", 0, RotationReason.ROTATION_REASON_COMPROMISE)
            .setActivationDelayMillis(HOUR)); // a compromise rotation ignores the delay
    accept(
        rotateKeys(
            rotateKey("ledger", "eu", "ledger/2", 0, RotationReason.ROTATION_REASON_SCHEDULED),
            rotateKey("missing", "default", "missing/2", 0, RotationReason.ROTATION_REASON_MANUAL),
            rotateKey("invoices", "default", "invoices/3", 0, RotationReason.ROTATION_REASON_MANUAL)
                .setExpectedLatestVersion(1))); // one rotated, two skipped
    RotateKey.Builder[] tooMany = new RotateKey.Builder[1_001];
    for (int i = 0; i < tooMany.length; i++) {
      tooMany[i] = RotateKey.newBuilder().setName("k" + i);
    }
    reject(rotateKeys(tooMany), Code.INVALID_ARGUMENT);
    expectState("activations, a compromise rotation, batched rotations");

    accept(setVersionStatus("orders", 1, VersionStatus.VERSION_STATUS_DISABLED));
    reject(
        setVersionStatus("orders", 3, VersionStatus.VERSION_STATUS_DISABLED),
        Code.FAILED_PRECONDITION); // the primary
    reject(
        setVersionStatus("orders", 1, VersionStatus.VERSION_STATUS_DESTROYED),
        Code.INVALID_ARGUMENT);
    accept(setVersionStatus("orders", 1, VersionStatus.VERSION_STATUS_ENABLED));
    accept(setVersionStatus("orders", 1, VersionStatus.VERSION_STATUS_DISABLED));
    accept(setVersionStatus("orders", 1, VersionStatus.VERSION_STATUS_DISABLED)); // unchanged
    expectState("version status");

    accept(
        setRotationPolicy(
            "orders",
            RotationPolicyRecord.newBuilder()
                .setRotationPeriodMillis(7 * 24 * HOUR)
                .setMaxEncryptions(1_000_000)));
    reject(
        setRotationPolicy("orders", RotationPolicyRecord.newBuilder().setRotationPeriodMillis(-1)),
        Code.INVALID_ARGUMENT);
    reject(setRotationPolicy("missing", RotationPolicyRecord.newBuilder()), Code.NOT_FOUND);
    accept(setVersionFloors("orders", 2, 3));
    reject(setVersionFloors("orders", 9, 3), Code.INVALID_ARGUMENT);
    accept(setDependents("orders", "invoices"));
    reject(setDependents("invoices", "orders"), Code.FAILED_PRECONDITION); // a cycle
    reject(setDependents("orders", "missing"), Code.NOT_FOUND);
    // Rotating orders asks for a rotation of its dependent, invoices.
    accept(rotateKey("orders", "default", "orders/4", 0, RotationReason.ROTATION_REASON_MANUAL));
    expectState("policies, floors, dependents");

    accept(
        rotateKey(
            "invoices",
            "default",
            "invoices/3",
            2 * MINUTE,
            RotationReason.ROTATION_REASON_DEPENDENCY)); // gated: version 3 pending
    accept(cancelRotation("invoices", 3, "validation gate failed", true));
    accept(cancelRotation("invoices", 3, "again", false)); // cancelled already: unchanged
    reject(cancelRotation("orders", 4, "", false), Code.FAILED_PRECONDITION); // not pending
    accept(rollbackRotation("orders", 4, "bad deploy")); // version 3 is primary again
    reject(rollbackRotation("orders", 2, ""), Code.FAILED_PRECONDITION); // not the primary
    expectState("cancelled rotation, rollback");

    accept(
        reportUsage(
            "n1",
            usage("orders", 3, 250),
            usage("invoices", 2, 40),
            usage("missing", 1, 5))); // a deleted key is not counted
    origin = "n2";
    accept(reportUsage("n2", usage("orders", 99, 1), usage("orders", 4, 7)));
    origin = "n1";
    expectState("usage reports");

    accept(scheduleDestroy("orders", 1, HOUR));
    reject(scheduleDestroy("orders", 3, HOUR), Code.FAILED_PRECONDITION); // the primary
    accept(cancelDestroy("orders", 1));
    reject(cancelDestroy("orders", 1), Code.FAILED_PRECONDITION); // not scheduled
    accept(scheduleDestroy("orders", 1, HOUR));
    accept(scheduleDestroy("orders", 1, HOUR)); // scheduled already: unchanged
    accept(scheduleDestroy("invoices", 1, 2 * HOUR));
    reject(destroyVersion("orders", 1), Code.FAILED_PRECONDITION); // not due yet
    reject(destroyVersion("orders", 2), Code.FAILED_PRECONDITION); // not scheduled
    expectState("destroys scheduled");

    advance(HOUR + SECOND); // the destroy time of orders version 1 passes
    accept(destroyVersion("orders", 1));
    accept(destroyVersion("orders", 1)); // destroyed already: unchanged
    reject(destroyVersion("invoices", 1), Code.FAILED_PRECONDITION); // due in an hour
    advance(HOUR);
    accept(destroyVersion("invoices", 1));
    accept(recordActivation("reports", 1)); // its activation time passed meanwhile
    expectState("scheduled destroys reach their time");

    accept(startBulkRotation("bulk-1", "default", label("team", "payments")));
    reject(startBulkRotation("bulk-1", "default"), Code.ALREADY_EXISTS);
    reject(startBulkRotation("", "default"), Code.INVALID_ARGUMENT);
    expectState("bulk rotation");

    // Zone "eu": ledger versions 1 and 2 are wrapped under master key version 1.
    accept(startZoneMasterKeyRotation("eu", 2));
    RewrapKeks.Builder firstBatch = rewrapKeks("eu", 2, rewrap("ledger", 1, 1, kek("eu", 2, "l1")));
    accept(firstBatch.clone());
    reject(retireZoneMasterKeyVersion("eu", 1), Code.FAILED_PRECONDITION); // still running
    reject(
        rewrapKeks("eu", 3, rewrap("ledger", 2, 1, kek("eu", 3, "l2"))),
        Code.FAILED_PRECONDITION); // not the running rotation's target
    reject(
        rewrapKeks("eu", 2, rewrap("ledger", 2, 1, kek("default", 2, "l2"))),
        Code.INVALID_ARGUMENT); // wrapped for another zone
    accept(firstBatch.clone()); // a duplicate batch: skipped
    accept(rewrapKeks("eu", 2, rewrap("ledger", 2, 1, kek("eu", 2, "l2")))); // completed
    accept(retireZoneMasterKeyVersion("eu", 1));
    accept(retireZoneMasterKeyVersion("eu", 1)); // retired already: unchanged
    reject(retireZoneMasterKeyVersion("eu", 2), Code.FAILED_PRECONDITION); // the current one
    reject(startZoneMasterKeyRotation("eu", 1), Code.INVALID_ARGUMENT);
    accept(startZoneMasterKeyRotation("eu", 2)); // nothing left to rewrap: completed at once
    expectState("zone master key rotation");

    // A client retries a rotation whose reply it lost: the remembered outcome, applied once.
    retry(rotateOrders, unstampedByIndex.get(rotateOrders), Code.OK);
    // A request id is the idempotency key, whatever the command carries.
    retry(
        createOrdersAgain,
        rotateKey("orders", "default", "orders/5", 0, RotationReason.ROTATION_REASON_MANUAL),
        Code.ALREADY_EXISTS);
    reject(Command.newBuilder(), Code.INVALID_ARGUMENT); // a command kind this build lacks
    expectState("retries, an unknown command kind");

    // A new leader whose clock is 30 s behind: command time stays monotonic.
    term = 2;
    origin = "n2";
    leaderTime -= 30 * SECOND;
    accept(createKey("receipts", "default", "receipts/1", 0));
    expectState("a new leader with a slower clock");

    // A day later the request ids of the first commands are forgotten (16 per command).
    advance(KeyStateStore.REQUEST_RETENTION.toMillis() + HOUR);
    accept(createKey("archive", "default", "archive/1", 0));
    String forgotten = entries.get((int) createOrders - 1).command().getRequestId();
    apply(
        command(createKey("orders", "default", "orders/1", 0)).setRequestId(forgotten),
        Code.ALREADY_EXISTS,
        false); // applied again: the key exists now
    for (int i = 0; i < 6; i++) {
      accept(reportUsage("n2", usage("archive", 1, i + 1)));
    }
    expectState("request ids past their retention evicted");

    // Authorisation: a write as a principal before any policy is refused at apply (default deny);
    // the bootstrap policy applies once; a policy change is compare-and-set on its version; a
    // principal the policy does not cover is refused at apply; denials recorded by a node.
    reject(
        command(
                rotateKey(
                    "archive", "default", "archive/2", 0, RotationReason.ROTATION_REASON_MANUAL))
            .setPrincipal("admin"),
        Code.PERMISSION_DENIED);
    accept(bootstrapPolicy("admin"));
    accept(bootstrapPolicy("someone-else")); // a policy exists: unchanged
    accept(
        command(
                rotateKey(
                    "archive", "default", "archive/2", 0, RotationReason.ROTATION_REASON_MANUAL))
            .setPrincipal("admin"));
    accept(command(setPolicy(1, "admin", "service")).setPrincipal("admin"));
    reject(
        command(setPolicy(1, "admin", "service")).setPrincipal("admin"), Code.FAILED_PRECONDITION);
    reject(
        command(setPolicy(2, "admin", "service")).setPrincipal("service"), Code.PERMISSION_DENIED);
    reject(
        command(createKey("service-key", "default", "service-key/1", 0)).setPrincipal("service"),
        Code.PERMISSION_DENIED);
    accept(recordDenials());
    expectState("authorisation policy");

    // Encryption limits: blocks reserved within the version's limit (orders: max 1,000,000, of
    // which 250 were reported by an older node), refused whole past it, and for a version that no
    // longer exists or is disabled.
    accept(reserveEncryptions("n1", "orders", 3, 1_000));
    accept(reserveEncryptions("n2", "orders", 3, 500));
    reject(reserveEncryptions("n1", "orders", 3, 998_251), Code.RESOURCE_EXHAUSTED);
    reject(reserveEncryptions("n1", "orders", 3, 0), Code.INVALID_ARGUMENT);
    reject(reserveEncryptions("n1", "orders", 99, 10), Code.NOT_FOUND);
    expectState("encryption reservations");

    // Membership at cluster version 1: the base binary does not know AdmitNode and RemoveNode, so
    // they are refused as it refuses them (UNKNOWN_COMMAND) and the registry is unchanged; a node
    // registering itself is not a membership command. They apply from version 2 (below).
    reject(admitN3(), Code.INVALID_ARGUMENT);
    accept(registerNode("n3", "default"));
    reject(
        io.keyrotor.proto.internal.v1.RemoveNode.newBuilder().setNodeId("n3"),
        Code.INVALID_ARGUMENT);
    expectState("membership refused at version 1");
    // Data audit heads: a node's per-node data audit stream head, witnessed by every replica in
    // the audit chain; a head that is not 32 bytes is refused.
    accept(dataAuditHead("n1", 42, 32));
    accept(dataAuditHead("n2", 7, 32));
    reject(dataAuditHead("n1", 43, 31), Code.INVALID_ARGUMENT);
    expectState("data audit heads");
    // The audit trail: a node's audit key (version 1, then a rotation to 2; a skipped version is
    // refused), and checkpoints of an earlier head (an unregistered signer is refused). Apply
    // checks shape only, so fixed bytes stand in for the key and the signature.
    accept(auditKey("n1", 1, 1));
    accept(auditKey("n1", 1, 1)); // the same key again: unchanged
    accept(auditKey("n1", 2, 2));
    reject(auditKey("n1", 4, 4), Code.FAILED_PRECONDITION);
    reject(auditKey("n1", 3, 0), Code.INVALID_ARGUMENT);
    long signed = index;
    accept(checkpoint(signed, "n1", 2));
    reject(checkpoint(signed, "n2", 1), Code.FAILED_PRECONDITION);
    reject(checkpoint(index + 5, "n1", 2), Code.INVALID_ARGUMENT);
    expectState("audit keys and checkpoints");
    // Rolling upgrades: nodes report the apply version their binary supports; the cluster's
    // version rises only by SetClusterVersion, never falls, and a gated behaviour (the
    // registration's audit detail naming the version) switches on only once it is active.
    accept(registerNode("n1", "default").setNode(supporting("n1", 2))); // version 1: old detail
    accept(registerNode("n2", "default").setNode(supporting("n2", 2)));
    reject(SetClusterVersion.newBuilder().setVersion(0), Code.INVALID_ARGUMENT);
    accept(SetClusterVersion.newBuilder().setVersion(2));
    accept(SetClusterVersion.newBuilder().setVersion(1)); // never lowered: unchanged
    accept(SetClusterVersion.newBuilder().setVersion(2)); // already active: unchanged
    accept(registerNode("n2", "default").setNode(supporting("n2", 2))); // version 2: new detail
    expectState("cluster version raised");
    // Membership at version 2: a node admitted with its Raft address (its registration's record
    // keeps the address), then it leaves the registry; removing a node that is not there is
    // refused.
    accept(admitN3());
    accept(io.keyrotor.proto.internal.v1.RemoveNode.newBuilder().setNodeId("n3"));
    reject(io.keyrotor.proto.internal.v1.RemoveNode.newBuilder().setNodeId("n9"), Code.NOT_FOUND);
    expectState("membership");

    // Group commit: client commands gathered into one entry apply in order, each with its own
    // result and audit record; a refused command does not fail its neighbours; a request id
    // applied in an earlier entry is deduplicated; a batch inside a batch is refused.
    long createdAlone = accept(createKey("batch-solo", "default", "batch-solo/1", 0));
    batch(
        List.of(
            createKey("batch-a", "default", "batch-a/1", 0),
            rotateKey("batch-a", "default", "batch-a/2", 0, RotationReason.ROTATION_REASON_MANUAL),
            createKey("orders", "default", "orders/batched", 0),
            createKey("batch-b", "eu", "batch-b/1", 0)),
        List.of(Code.OK, Code.OK, Code.ALREADY_EXISTS, Code.OK));
    expectState("a batch entry");
    batch(
        List.of(
            command(createKey("batch-solo", "default", "batch-solo/1", 0))
                .setRequestId(entries.get((int) createdAlone - 1).command().getRequestId()),
            rotateKey("batch-b", "eu", "batch-b/2", 0, RotationReason.ROTATION_REASON_MANUAL),
            Command.newBuilder()
                .setBatch(
                    io.keyrotor.proto.internal.v1.CommandBatch.newBuilder()
                        .addCommands(command(createKey("batch-c", "default", "batch-c/1", 0))))),
        List.of(Code.OK, Code.OK, Code.INVALID_ARGUMENT));
    expectState("a batch with a retried request and a nested batch");

    // Retention: the audit chain is cut at the newest checkpoint that signs an index at or before
    // the cut (here: all but the newest 40 indexes), events with it, bulk rotation jobs kept to the
    // newest; an empty trim is refused.
    reject(io.keyrotor.proto.internal.v1.TrimHistory.newBuilder(), Code.INVALID_ARGUMENT);
    accept(
        io.keyrotor.proto.internal.v1.TrimHistory.newBuilder()
            .setKeepIndexes(40)
            .setKeepBulkRotations(1));
    expectState("history trimmed at a signed checkpoint");

    // Destruction receipts: the receipt of orders version 1 is signed once (a second signature, a
    // version without a receipt, an unregistered signer key and a malformed signature are
    // refused). Apply checks shape only, so fixed bytes stand in for the signature.
    accept(signDestructionReceipt("orders", 1, "n1", 2, 64));
    reject(signDestructionReceipt("orders", 1, "n1", 2, 64), Code.FAILED_PRECONDITION);
    reject(signDestructionReceipt("orders", 2, "n1", 2, 64), Code.FAILED_PRECONDITION);
    reject(signDestructionReceipt("invoices", 1, "n2", 1, 64), Code.FAILED_PRECONDITION);
    reject(signDestructionReceipt("invoices", 1, "n1", 2, 10), Code.INVALID_ARGUMENT);
    expectState("a destruction receipt signed");

    // Data key usage: the nodes report data keys issued under each version and rewrapped away from
    // it. At cluster version 2 the counts are ignored (as a binary from before version 3 ignores
    // them); once the nodes support 3 and the cluster runs it, they add up per version, unknown
    // versions skipped.
    accept(reportUsage("n1", dataKeyUsage("orders", 2, 40, 40))); // version 2: ignored
    expectState("data key counts ignored below cluster version 3");
    accept(registerNode("n1", "default").setNode(supporting("n1", 3)));
    accept(registerNode("n2", "default").setNode(supporting("n2", 3)));
    accept(SetClusterVersion.newBuilder().setVersion(3));
    accept(reportUsage("n1", dataKeyUsage("orders", 2, 12, 5), dataKeyUsage("orders", 3, 5, 0)));
    accept(reportUsage("n2", dataKeyUsage("orders", 2, 3, 1), dataKeyUsage("orders", 99, 1, 1)));
    expectState("data keys issued and rewrapped away");
  }

  /** The golden node record of {@code id}, reporting that it supports {@code version}. */
  private static io.keyrotor.proto.internal.v1.NodeRecord supporting(String id, int version) {
    return registerNode(id, "default").getNode().toBuilder()
        .setSupportedClusterVersion(version)
        .build();
  }

  /**
   * Stamps each of {@code bodies} with the same leader time (as the leader stamps a batch), applies
   * them as one batch entry and checks each command's outcome.
   */
  private void batch(List<Object> bodies, List<Code> expected) {
    index++;
    leaderTime += SECOND;
    io.keyrotor.proto.internal.v1.CommandBatch.Builder batch =
        io.keyrotor.proto.internal.v1.CommandBatch.newBuilder();
    for (int i = 0; i < bodies.size(); i++) {
      Command.Builder unstamped = command(bodies.get(i));
      if (unstamped.getRequestId().isEmpty() && !unstamped.hasBatch()) {
        unstamped.setRequestId(String.format("golden-%03d-%d", index, i));
      }
      unstamped.setOriginNode(origin);
      batch.addCommands(CommandStamping.stamp(unstamped.build(), leaderTime));
    }
    Command entry = Command.newBuilder().setOriginNode(origin).setBatch(batch).build();
    CommandResult result = store.apply(entry, term, index);
    for (int i = 0; i < expected.size(); i++) {
      int code = result.getBatchResults(i).getOutcome().getCode();
      if (code != expected.get(i).getNumber()) {
        throw new IllegalStateException(
            "command " + i + " of batch entry " + index + " ended " + Code.forNumber(code));
      }
    }
    entries.add(new GoldenLog.Entry(term, index, entry));
    unstampedByIndex.put(index, entry);
  }

  /** A P-256 SubjectPublicKeyInfo's shape with fixed point bytes ({@code fill}; 0: malformed). */
  private static io.keyrotor.proto.internal.v1.RegisterAuditKey.Builder auditKey(
      String node, int version, int fill) {
    byte[] spki = new byte[91];
    if (fill != 0) {
      byte[] header = p256SpkiHeader();
      System.arraycopy(header, 0, spki, 0, header.length);
      java.util.Arrays.fill(spki, header.length, spki.length, (byte) fill);
    }
    return registerAuditKey(node, version, spki);
  }

  /**
   * The DER header of a P-256 SubjectPublicKeyInfo (the algorithm, prime256v1, and the bit string's
   * header up to the uncompressed point's 0x04), as the JDK encodes the curve's generator point:
   * the 64 coordinate bytes follow it.
   */
  private static byte[] p256SpkiHeader() {
    try {
      java.security.AlgorithmParameters parameters =
          java.security.AlgorithmParameters.getInstance("EC");
      parameters.init(new java.security.spec.ECGenParameterSpec("secp256r1"));
      java.security.spec.ECParameterSpec curve =
          parameters.getParameterSpec(java.security.spec.ECParameterSpec.class);
      byte[] encoded =
          java.security.KeyFactory.getInstance("EC")
              .generatePublic(new java.security.spec.ECPublicKeySpec(curve.getGenerator(), curve))
              .getEncoded();
      return java.util.Arrays.copyOf(encoded, encoded.length - 64);
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException("no P-256 in this JDK", e);
    }
  }

  private io.keyrotor.proto.internal.v1.RecordAuditCheckpoint.Builder checkpoint(
      long signedIndex, String signer, int keyVersion) {
    com.google.protobuf.ByteString head =
        store.audit(signedIndex, 1).stream()
            .findFirst()
            .map(io.keyrotor.proto.internal.v1.AuditRecord::getHash)
            .orElse(com.google.protobuf.ByteString.copyFrom(new byte[32]));
    return io.keyrotor.proto.internal.v1.RecordAuditCheckpoint.newBuilder()
        .setCheckpoint(
            io.keyrotor.api.v1.AuditCheckpoint.newBuilder()
                .setLogIndex(signedIndex)
                .setHead(head)
                .setSignerNode(signer)
                .setKeyVersion(keyVersion)
                .setSignature(com.google.protobuf.ByteString.copyFrom(new byte[64])));
  }

  // ---- proposing ----

  private long accept(Object body) {
    return apply(command(body), Code.OK, false);
  }

  private long reject(Object body, Code expected) {
    if (expected == Code.OK) {
      throw new IllegalArgumentException("a rejection has a code other than OK");
    }
    return apply(command(body), expected, false);
  }

  /** Proposes {@code body} again under the request id of the entry at {@code originalIndex}. */
  private void retry(long originalIndex, Object body, Code expected) {
    String requestId = entries.get((int) originalIndex - 1).command().getRequestId();
    apply(command(body).setRequestId(requestId), expected, true);
  }

  /** Stamps, applies and records one command; checks its outcome. Returns its index. */
  private long apply(Command.Builder unstamped, Code expected, boolean deduplicated) {
    index++;
    leaderTime += SECOND;
    if (unstamped.getRequestId().isEmpty()) {
      unstamped.setRequestId(String.format("golden-%03d", index));
    }
    unstamped.setOriginNode(origin);
    Command built = unstamped.build();
    Command stamped = CommandStamping.stamp(built, leaderTime);
    CommandResult result = store.apply(stamped, term, index);
    if (result.getOutcome().getCode() != expected.getNumber()
        || result.getDeduplicated() != deduplicated) {
      throw new IllegalStateException(
          "entry "
              + index
              + " ("
              + stamped.getBodyCase()
              + ") was meant to end "
              + expected
              + (deduplicated ? " (deduplicated)" : "")
              + " but ended "
              + Code.forNumber(result.getOutcome().getCode())
              + " "
              + result.getOutcome().getReason()
              + (result.getDeduplicated() ? " (deduplicated)" : "")
              + ": "
              + result.getOutcome().getMessage());
    }
    entries.add(new GoldenLog.Entry(term, index, stamped));
    unstampedByIndex.put(index, built);
    return index;
  }

  private void advance(long millis) {
    leaderTime += millis;
  }

  private void expectState(String label) {
    expectations.add(new GoldenLog.Expectation(index, store.digest(), store.auditHead(), label));
  }

  private static io.keyrotor.proto.internal.v1.AdmitNode.Builder admitN3() {
    return io.keyrotor.proto.internal.v1.AdmitNode.newBuilder()
        .setNode(
            io.keyrotor.proto.internal.v1.NodeRecord.newBuilder()
                .setId("n3")
                .setRegion("region-1")
                .setRaftAddress("n3.keyrotor.test:7200"));
  }
}
