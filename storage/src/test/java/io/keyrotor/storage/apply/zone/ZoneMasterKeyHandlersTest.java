package io.keyrotor.storage.apply.zone;

import static io.keyrotor.storage.CommandBodies.inCommand;
import static io.keyrotor.storage.CommandBodies.retireZoneMasterKeyVersion;
import static io.keyrotor.storage.CommandBodies.rewrap;
import static io.keyrotor.storage.CommandBodies.rewrapKeks;
import static io.keyrotor.storage.CommandBodies.startZoneMasterKeyRotation;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.rpc.Code;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CommandResult;
import io.keyrotor.proto.internal.v1.CreateKey;
import io.keyrotor.proto.internal.v1.KekRewrap;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.RotateKey;
import io.keyrotor.proto.internal.v1.WrappedKeyMaterial;
import io.keyrotor.proto.internal.v1.ZoneMasterKeyRecord;
import io.keyrotor.proto.internal.v1.ZoneMasterKeyRotationState;
import io.keyrotor.storage.KeyStateStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Zone master key rotation as a replicated job, on a real RocksDB store. */
class ZoneMasterKeyHandlersTest {
  private static final long T0 = 1_700_000_000_000L;

  @TempDir Path dir;

  private long index = 0;

  private CommandResult apply(KeyStateStore store, Command command) {
    index++;
    return store.apply(command.toBuilder().setProposedTimeUnixMillis(T0 + index).build(), 1, index);
  }

  private static WrappedKeyMaterial kek(String zone, int zmkVersion, String tag) {
    return WrappedKeyMaterial.newBuilder()
        .setZone(zone)
        .setZoneMasterKeyVersion(zmkVersion)
        .setMechanism("AES_KEY_WRAP_PAD")
        .setCiphertext(ByteString.copyFrom(tag.getBytes(StandardCharsets.UTF_8)))
        .build();
  }

  private static Command createIn(String zone, String name) {
    return Command.newBuilder()
        .setRequestId("create-" + name)
        .setCreateKey(
            CreateKey.newBuilder().setName(name).setZone(zone).setKek(kek(zone, 1, name + "@1")))
        .build();
  }

  private static Command start(String zone, int target) {
    return inCommand(startZoneMasterKeyRotation(zone, target))
        .setRequestId("start-" + zone + "-" + target + "-" + System.nanoTime())
        .build();
  }

  private static KekRewrap entry(String zone, String name, int version, int from, int to) {
    return rewrap(name, version, from, kek(zone, to, name + "/" + version + "@" + to));
  }

  private static Command batch(String zone, int target, List<KekRewrap> entries) {
    return inCommand(rewrapKeks(zone, target, entries.toArray(KekRewrap[]::new))).build();
  }

  private static Command retire(String zone, int version) {
    return inCommand(retireZoneMasterKeyVersion(zone, version))
        .setRequestId("retire-" + zone + "-" + version + "-" + System.nanoTime())
        .build();
  }

  private static ZoneMasterKeyRecord zone(KeyStateStore store, String zone) {
    return store.zoneMasterKeys().get(zone);
  }

  @Test
  void rotation_batchesMoveEveryKek_thenCompletes_andDuplicateBatchChangesNothing() {
    try (KeyStateStore store = KeyStateStore.open(dir.resolve("db"))) {
      apply(store, createIn("eu", "a"));
      apply(store, createIn("eu", "b"));
      apply(store, createIn("us", "c"));
      apply(
          store,
          Command.newBuilder()
              .setRequestId("rotate-a")
              .setRotateKey(
                  RotateKey.newBuilder()
                      .setName("a")
                      .setKek(kek("eu", 1, "a@1v2"))
                      .setReason(RotationReason.ROTATION_REASON_MANUAL_VALUE))
              .build());

      CommandResult started = apply(store, start("eu", 2));
      assertEquals(Code.OK_VALUE, started.getOutcome().getCode());
      assertEquals(
          ZoneMasterKeyRotationState.ZONE_MASTER_KEY_ROTATION_STATE_RUNNING,
          zone(store, "eu").getRotationState());
      assertEquals(3, zone(store, "eu").getRemaining());
      assertEquals(1, zone(store, "eu").getFromVersion());

      List<KekRewrap> first = List.of(entry("eu", "a", 1, 1, 2), entry("eu", "a", 2, 1, 2));
      apply(store, batch("eu", 2, first));
      assertEquals(1, zone(store, "eu").getRemaining());
      assertEquals(2, zone(store, "eu").getRewrapped());

      // The same batch again (a deposed leader's): the compare-and-set fails, nothing changes.
      KeyRecord before = store.key("a").orElseThrow();
      apply(store, batch("eu", 2, first));
      assertEquals(before, store.key("a").orElseThrow());
      assertEquals(2, zone(store, "eu").getSkipped());
      assertEquals(2, zone(store, "eu").getRewrapped());

      // Retiring version 1 is refused while the job runs and while b still uses it.
      assertEquals("ZMK_ROTATION_RUNNING", apply(store, retire("eu", 1)).getOutcome().getReason());

      apply(store, batch("eu", 2, List.of(entry("eu", "b", 1, 1, 2))));
      ZoneMasterKeyRecord done = zone(store, "eu");
      assertEquals(
          ZoneMasterKeyRotationState.ZONE_MASTER_KEY_ROTATION_STATE_COMPLETED,
          done.getRotationState());
      assertEquals(0, done.getRemaining());
      assertEquals(3, done.getRewrapped());
      assertEquals(
          2, store.key("b").orElseThrow().getVersions(0).getKek().getZoneMasterKeyVersion());
      // Other zones are untouched.
      assertEquals(
          1, store.key("c").orElseThrow().getVersions(0).getKek().getZoneMasterKeyVersion());

      // A batch after completion is refused as a whole.
      assertEquals(
          "ZMK_ROTATION_NOT_RUNNING",
          apply(store, batch("eu", 2, List.of(entry("eu", "b", 1, 1, 2))))
              .getOutcome()
              .getReason());

      assertEquals(Code.OK_VALUE, apply(store, retire("eu", 1)).getOutcome().getCode());
      assertEquals(List.of(1), zone(store, "eu").getRetiredVersionsList());
      assertEquals("ZMK_VERSION_CURRENT", apply(store, retire("eu", 2)).getOutcome().getReason());
    }
  }

  @Test
  void start_refusesGoingBackAndBadBatches_andRestartAfterReopenKeepsState() {
    String digest;
    try (KeyStateStore store = KeyStateStore.open(dir.resolve("db"))) {
      apply(store, createIn("eu", "a"));
      assertEquals("INVALID_ARGUMENT", apply(store, start("eu", 1)).getOutcome().getReason());
      apply(store, start("eu", 3));
      assertEquals("ZMK_VERSION_NOT_NEWER", apply(store, start("eu", 2)).getOutcome().getReason());
      // Material under the wrong version or zone is refused, and nothing changes.
      KeyRecord before = store.key("a").orElseThrow();
      assertEquals(
          "INVALID_ARGUMENT",
          apply(store, batch("eu", 3, List.of(entry("eu", "a", 1, 1, 2))))
              .getOutcome()
              .getReason());
      assertEquals(
          "ZMK_ROTATION_NOT_RUNNING",
          apply(store, batch("eu", 2, List.of(entry("eu", "a", 1, 1, 2))))
              .getOutcome()
              .getReason());
      assertEquals(before, store.key("a").orElseThrow());
      digest = store.digest();
    }
    try (KeyStateStore reopened = KeyStateStore.open(dir.resolve("db"))) {
      assertEquals(digest, reopened.digest());
      assertEquals(3, reopened.zoneMasterKeys().get("eu").getTargetVersion());
      assertEquals(
          ZoneMasterKeyRotationState.ZONE_MASTER_KEY_ROTATION_STATE_RUNNING,
          reopened.zoneMasterKeys().get("eu").getRotationState());
    }
  }

  @Test
  void zoneWithoutKeys_completesAtStart() {
    try (KeyStateStore store = KeyStateStore.open(dir.resolve("db"))) {
      apply(store, start("empty", 2));
      assertEquals(
          ZoneMasterKeyRotationState.ZONE_MASTER_KEY_ROTATION_STATE_COMPLETED,
          zone(store, "empty").getRotationState());
    }
  }

  @Test
  void replayingTheSameCommands_givesTheSameDigest() {
    List<Command> commands = new ArrayList<>();
    commands.add(createIn("eu", "a"));
    commands.add(createIn("eu", "b"));
    commands.add(start("eu", 2));
    commands.add(batch("eu", 2, List.of(entry("eu", "a", 1, 1, 2))));
    commands.add(batch("eu", 2, List.of(entry("eu", "a", 1, 1, 2), entry("eu", "b", 1, 1, 2))));
    commands.add(retire("eu", 1));
    List<String> digests = new ArrayList<>();
    for (String name : List.of("one", "two")) {
      index = 0;
      try (KeyStateStore store = KeyStateStore.open(dir.resolve(name))) {
        commands.forEach(c -> apply(store, c));
        digests.add(store.digest());
        assertTrue(zone(store, "eu").getRetiredVersionsList().contains(1));
      }
    }
    assertEquals(digests.get(0), digests.get(1));
  }
}
