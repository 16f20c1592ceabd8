package io.keyrotor.storage.version;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.Code;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CommandResult;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.RegisterNode;
import io.keyrotor.proto.internal.v1.SetClusterVersion;
import io.keyrotor.storage.KeyStateStore;
import io.keyrotor.storage.StateReader;
import io.keyrotor.storage.apply.CommandContext;
import io.keyrotor.storage.apply.CommandDispatcher;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.node.RegisterNodeHandler;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClusterVersionTest {
  private static final long T0 = 1_700_000_000_000L;
  private static final StateReader EMPTY =
      StateReader.of(
          Collections.emptySortedMap(), Collections.emptySortedMap(), Map.of(), Map.of());

  @TempDir Path dir;

  private static Command register(String id, int supported) {
    return Command.newBuilder()
        .setProposedTimeUnixMillis(T0)
        .setRegisterNode(
            RegisterNode.newBuilder()
                .setNode(
                    NodeRecord.newBuilder()
                        .setId(id)
                        .setRegion("r1")
                        .addZones("default")
                        .setSupportedClusterVersion(supported)))
        .build();
  }

  /** SetClusterVersion to {@code version} (also for the other tests of this package). */
  static Command setVersion(int version) {
    return Command.newBuilder()
        .setProposedTimeUnixMillis(T0)
        .setSetClusterVersion(SetClusterVersion.newBuilder().setVersion(version))
        .build();
  }

  private static Effects registerAt(int clusterVersion) {
    Command command = register("n1", 2);
    return new RegisterNodeHandler()
        .apply(
            command.getRegisterNode(), new CommandContext(command, 5, T0, EMPTY, clusterVersion));
  }

  @Test
  void gatedHandler_oldBehaviourBelowItsVersion_newBehaviourAtAndAfterIt() {
    ApplyFeature feature = ApplyFeature.REGISTRATION_AUDITS_SUPPORTED_VERSION;

    Effects below = registerAt(feature.version() - 1);
    Effects at = registerAt(feature.version());

    assertEquals("node=n1 region=r1 zones=[default]", below.auditDetail());
    assertEquals("node=n1 region=r1 zones=[default] supports=2", at.auditDetail());
    // Only the gated behaviour differs: the stored record is the same either way.
    assertEquals(below.nodeWrite(), at.nodeWrite());
  }

  @Test
  void feature_activeOnlyFromItsVersion() {
    for (ApplyFeature feature : ApplyFeature.values()) {
      assertFalse(feature.activeAt(feature.version() - 1), feature.name());
      assertTrue(feature.activeAt(feature.version()), feature.name());
      assertTrue(feature.activeAt(feature.version() + 1), feature.name());
      assertTrue(feature.version() > ClusterVersion.BASE, feature.name());
      assertTrue(feature.version() <= ClusterVersion.SUPPORTED, feature.name());
    }
  }

  @Test
  void supported_isTheNewestFeaturesVersion() {
    int newest = ClusterVersion.BASE;
    for (ApplyFeature feature : ApplyFeature.values()) {
      newest = Math.max(newest, feature.version());
    }
    assertEquals(newest, ClusterVersion.SUPPORTED);
  }

  @Test
  void dispatcher_readsTheActiveVersionFromItsSupplier_notFromTheBinary() {
    int[] active = {ClusterVersion.BASE};
    CommandDispatcher dispatcher = new CommandDispatcher(EMPTY).withClusterVersion(() -> active[0]);

    String before = dispatcher.apply(register("n1", 2), 1, T0).auditDetail();
    active[0] = 2;
    String after = dispatcher.apply(register("n1", 2), 2, T0).auditDetail();

    assertFalse(before.contains("supports="), before);
    assertTrue(after.endsWith(" supports=2"), after);
  }

  @Test
  void setClusterVersion_raisesNeverLowers_andRefusesZero() {
    CommandDispatcher atTwo = new CommandDispatcher(EMPTY).withClusterVersion(() -> 2);
    CommandDispatcher atOne = new CommandDispatcher(EMPTY);

    Effects raise = atOne.apply(setVersion(2), 7, T0);
    Effects lower = atTwo.apply(setVersion(1), 8, T0);
    Effects zero = atOne.apply(setVersion(0), 9, T0);

    assertEquals(Code.OK_VALUE, raise.result().getCode());
    assertEquals(2, raise.clusterVersionWrite().orElseThrow().getVersion());
    assertEquals(7, raise.clusterVersionWrite().orElseThrow().getSetIndex());
    assertEquals(Code.OK_VALUE, lower.result().getCode());
    assertTrue(lower.clusterVersionWrite().isEmpty());
    assertTrue(lower.auditDetail().startsWith("unchanged"), lower.auditDetail());
    assertEquals(Code.INVALID_ARGUMENT_VALUE, zero.result().getCode());
    assertEquals(ErrorReason.INVALID_ARGUMENT.name(), zero.result().getReason());
    assertTrue(zero.clusterVersionWrite().isEmpty());
  }

  @Test
  void store_appliesTheRaise_keepsItAcrossReopen_andGatesLaterCommands() {
    Path path = dir.resolve("state");
    try (KeyStateStore store = KeyStateStore.open(path)) {
      assertEquals(ClusterVersion.BASE, store.activeClusterVersion());
      store.apply(register("n1", 2), 1, 1);
      assertFalse(store.lastAudit().orElseThrow().getDetail().contains("supports="));

      CommandResult raised = store.apply(setVersion(2), 1, 2);

      assertEquals(Code.OK_VALUE, raised.getOutcome().getCode());
      assertEquals(2, store.activeClusterVersion());
      store.apply(register("n1", 2), 1, 3);
      assertTrue(store.lastAudit().orElseThrow().getDetail().endsWith("supports=2"));
    }
    try (KeyStateStore reopened = KeyStateStore.open(path)) {
      assertEquals(2, reopened.activeClusterVersion());
      reopened.apply(setVersion(1), 1, 4);
      assertEquals(2, reopened.activeClusterVersion());
    }
  }

  @Test
  void sameCommands_sameDigest_whateverTheBinarySupports() {
    // Two replicas apply the same log; the version they act on is the log's, so they agree.
    try (KeyStateStore a = KeyStateStore.open(dir.resolve("a"));
        KeyStateStore b = KeyStateStore.open(dir.resolve("b"))) {
      for (KeyStateStore store : new KeyStateStore[] {a, b}) {
        store.apply(register("n1", 2), 1, 1);
        store.apply(setVersion(2), 1, 2);
        store.apply(register("n2", 2), 1, 3);
      }
      assertEquals(a.digest(), b.digest());
    }
  }

  @Test
  void checkCanApply_refusesAStateOrARaiseAboveWhatTheNodeSupports() {
    ClusterVersion.checkCanApply(register("n1", 1), 10, 1, 1);
    ClusterVersion.checkCanApply(setVersion(2), 11, 1, 2);

    UnsupportedClusterVersionException raise =
        assertThrows(
            UnsupportedClusterVersionException.class,
            () -> ClusterVersion.checkCanApply(setVersion(2), 12, 1, 1));
    UnsupportedClusterVersionException state =
        assertThrows(
            UnsupportedClusterVersionException.class,
            () -> ClusterVersion.checkCanApply(register("n1", 1), 13, 2, 1));

    assertEquals(2, raise.required());
    assertEquals(1, raise.supported());
    assertTrue(raise.getMessage().contains("log entry 12 needs cluster version 2"));
    assertTrue(state.getMessage().contains("upgrade this node's binary"));
  }
}
