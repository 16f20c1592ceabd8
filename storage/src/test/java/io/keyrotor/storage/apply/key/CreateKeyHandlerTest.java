package io.keyrotor.storage.apply.key;

import static io.keyrotor.storage.apply.InMemoryState.T0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.Code;
import io.keyrotor.api.v1.KeyVersionState;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CreateKey;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.Label;
import io.keyrotor.storage.Commands;
import io.keyrotor.storage.KeyVersions;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.InMemoryState;
import org.junit.jupiter.api.Test;

/** CreateKey through the dispatcher, on an in-memory view without nodes. */
class CreateKeyHandlerTest {
  private final InMemoryState view = new InMemoryState();

  @Test
  void createKey_newName_firstVersionPrimaryAtProposedTime() {
    Effects effects = view.apply(Commands.create("r1", T0, "payments"));

    assertEquals(Code.OK_VALUE, effects.result().getCode());
    assertEquals(1, effects.result().getVersion());
    KeyRecord key = view.key("payments");
    assertEquals("default", key.getZone());
    assertEquals(T0, key.getVersions(0).getActivationTimeUnixMillis());
    assertEquals(1, KeyVersions.primaryVersionAt(key, T0));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_PRIMARY, view.stateAt("payments", 1, T0));
    assertEquals(1, key.getRevision());
  }

  @Test
  void createKey_existingName_alreadyExistsAndNothingChanges() {
    view.apply(Commands.create("r1", T0, "payments"));
    KeyRecord before = view.key("payments");

    Effects effects = view.apply(Commands.create("r2", T0 + 5, "payments"));

    assertEquals(Code.ALREADY_EXISTS_VALUE, effects.result().getCode());
    assertEquals("KEY_EXISTS", effects.result().getReason());
    assertTrue(effects.allKeyWrites().isEmpty());
    assertEquals(before, view.key("payments"));
  }

  @Test
  void createKey_invalidNameZoneOrLabels_invalidArgument() {
    for (String bad : new String[] {"", "-lead", "has space", "x".repeat(129), "ümlaut"}) {
      Effects effects = view.apply(Commands.create("r-" + bad, T0, bad));
      assertEquals(Code.INVALID_ARGUMENT_VALUE, effects.result().getCode(), bad);
      assertFalse(effects.result().getMessage().isEmpty());
      assertTrue(effects.allKeyWrites().isEmpty());
    }
    Command badZone =
        Commands.create("z", T0, "ok").toBuilder()
            .setCreateKey(
                Commands.create("z", T0, "ok").getCreateKey().toBuilder()
                    .setZone("Bad Zone")
                    .build())
            .build();
    assertEquals(Code.INVALID_ARGUMENT_VALUE, view.apply(badZone).result().getCode());
    CreateKey unsorted =
        Commands.create("l", T0, "ok").getCreateKey().toBuilder()
            .addLabels(Label.newBuilder().setKey("team").setValue("a"))
            .addLabels(Label.newBuilder().setKey("env").setValue("b"))
            .build();
    assertEquals(
        Code.INVALID_ARGUMENT_VALUE,
        view.apply(Commands.create("l", T0, "ok").toBuilder().setCreateKey(unsorted).build())
            .result()
            .getCode());
    assertTrue(view.keyMap().isEmpty());
  }

  @Test
  void createKey_materialForAnotherZone_invalidArgument() {
    Command command = Commands.create("r1", T0, "k");
    Command wrongZone =
        command.toBuilder()
            .setCreateKey(
                command.getCreateKey().toBuilder().setKek(Commands.kek("eu", "x")).build())
            .build();

    Effects effects = view.apply(wrongZone);

    assertEquals(Code.INVALID_ARGUMENT_VALUE, effects.result().getCode());
    assertTrue(effects.result().getMessage().contains("zone"));
  }

  @Test
  void createKey_withActivationDelay_pendingUntilActivation() {
    view.apply(Commands.create("r1", T0, "k", T0 + 1_000));

    assertEquals(KeyVersionState.KEY_VERSION_STATE_PENDING, view.stateAt("k", 1, T0 + 999));
    assertEquals(0, view.primaryAt("k", T0 + 999));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_PRIMARY, view.stateAt("k", 1, T0 + 1_000));
  }
}
