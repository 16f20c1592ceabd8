package io.keyrotor.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import io.keyrotor.api.v1.NodeStatus;
import io.keyrotor.api.v1.ZoneMasterKeyRotation;
import io.keyrotor.api.v1.ZoneMasterKeyRotationState;
import io.keyrotor.client.testing.FakeKeyService;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Progress of long jobs: on stderr when it is a terminal, never on stdout (so {@code --json} stays
 * one document), and nothing when stderr is a file or a pipe.
 */
class ProgressCliTest extends CliHarness<FakeKeyService> {
  private boolean terminal;

  ProgressCliTest() {
    super(new FakeKeyService());
  }

  @Override
  KeyrotorCli cli() {
    return super.cli().withProgress(terminal);
  }

  /** A rotation the node reports running with 30 of 40 KEKs left, then completed. */
  private void rotationInProgress() {
    ZoneMasterKeyRotation running =
        ZoneMasterKeyRotation.newBuilder()
            .setZone("eu")
            .setFromVersion(1)
            .setTargetVersion(2)
            .setState(ZoneMasterKeyRotationState.ZONE_MASTER_KEY_ROTATION_STATE_RUNNING)
            .setRewrapped(10)
            .setRemaining(30)
            .build();
    ZoneMasterKeyRotation completed =
        running.toBuilder()
            .setState(ZoneMasterKeyRotationState.ZONE_MASTER_KEY_ROTATION_STATE_COMPLETED)
            .setRewrapped(40)
            .setRemaining(0)
            .build();
    admin.rotation(running);
    admin.nodeStatus(NodeStatus.newBuilder().addZoneMasterKeyRotations(completed).build());
  }

  @Test
  void rotateMasterWait_onATerminal_showsProgressOnStderr_andStdoutStaysOneJsonDocument() {
    terminal = true;
    rotationInProgress();

    int status = run("zone", "rotate-master", "eu", "--version", "2", "--wait", "--json");

    assertEquals(0, status, stderr);
    assertTrue(
        stderr.contains("zone eu: rewrapping under master key v2: 10 of 40 KEKs (25%)"), stderr);
    JsonObject json = stdoutJson();
    assertEquals("COMPLETED", json.get("state").getAsString());
    assertEquals(40, json.get("rewrapped").getAsInt());
  }

  @Test
  void rotateMasterWait_stderrNotATerminal_printsNoProgress() {
    terminal = false;
    rotationInProgress();

    int status = run("zone", "rotate-master", "eu", "--version", "2", "--wait");

    assertEquals(0, status, stderr);
    assertEquals("", stderr);
    assertTrue(stdout.contains("COMPLETED, 40 rewrapped, 0 remaining"), stdout);
  }

  @Test
  void isTerminalDevice_trueForTerminalDevices_falseForFilesPipesAndNonLinks() throws IOException {
    Path pts = Files.createSymbolicLink(workingDirectory.resolve("pts"), Path.of("/dev/pts/3"));
    Path tty = Files.createSymbolicLink(workingDirectory.resolve("tty"), Path.of("/dev/tty1"));
    Path file = Files.createSymbolicLink(workingDirectory.resolve("file"), Path.of("/tmp/out.log"));
    Path pipe = Files.createSymbolicLink(workingDirectory.resolve("pipe"), Path.of("pipe:[4242]"));
    Path plain = Files.writeString(workingDirectory.resolve("plain"), "not a link");

    assertTrue(Terminal.isTerminalDevice(pts));
    assertTrue(Terminal.isTerminalDevice(tty));
    assertFalse(Terminal.isTerminalDevice(file));
    assertFalse(Terminal.isTerminalDevice(pipe));
    assertFalse(Terminal.isTerminalDevice(plain));
    assertFalse(Terminal.isTerminalDevice(workingDirectory.resolve("missing")));
  }
}
