package io.keyrotor.server.hsm;

import static io.keyrotor.server.hsm.HsmCommand.OUT;
import static io.keyrotor.server.hsm.HsmCommand.zoneLine;

import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.pkcs11.Pkcs11Ceremonies;
import io.keyrotor.hsm.pkcs11.TokenLocator;
import io.keyrotor.server.config.NodeConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SortedSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The ceremonies on one node's own HSM: its SoftHSM2 token, its zones and their check values. */
final class NodeHsmCommands {
  private NodeHsmCommands() {}

  /** Creates and initialises the node's own SoftHSM2 token and points its config at it. */
  @Command(
      name = "init-token",
      description =
          "Create the node's own SoftHSM2 token: PINs generated into 0600 files under"
              + " NODE_DIR/hsm, node.properties switched to hsm.kind=pkcs11 with that token.")
  static final class InitToken implements Callable<Integer> {
    @Mixin NodeDirectory node;

    @Option(names = "--label", description = "Token label (default keyrotor-<node id>).")
    String label;

    @Option(
        names = "--module",
        description = "The SoftHSM2 module (default " + "/usr/lib/softhsm/libsofthsm2.so).")
    Path module = TokenLocator.SOFTHSM2_MODULE;

    @Override
    public Integer call() throws Exception {
      SoftHsmNodeFiles files = node.files();
      NodeConfig config = node.config();
      String tokenLabel = label == null ? SoftHsmNodeFiles.tokenLabel(config.nodeId()) : label;
      files.writeConf();
      NodeDirectory.requireOwnSoftHsmConf(files);
      if (Files.exists(files.userPin()) || Files.exists(files.soPin())) {
        throw new HsmException(
            HsmException.Reason.REFUSED,
            "node "
                + config.nodeId()
                + " already has PIN files in "
                + files.hsmDirectory()
                + "; its token exists (remove the directory to start over)");
      }
      char[] soPin = SoftHsmNodeFiles.newPin();
      char[] userPin = SoftHsmNodeFiles.newPin();
      try {
        SecretFiles.write(files.soPin(), soPin);
        SecretFiles.write(files.userPin(), userPin);
        Pkcs11Ceremonies.initToken(new TokenLocator(module, tokenLabel), soPin, userPin);
      } catch (IOException | HsmException | RuntimeException e) {
        Files.deleteIfExists(files.soPin());
        Files.deleteIfExists(files.userPin());
        throw e;
      } finally {
        Arrays.fill(soPin, '\0');
        Arrays.fill(userPin, '\0');
      }
      files.useToken(module, tokenLabel);
      OUT.println("node=" + config.nodeId() + " token=" + tokenLabel + " conf=" + files.conf());
      return 0;
    }
  }

  /** Generates a new master key version of a zone inside the node's HSM. */
  @Command(name = "create-zone", description = "Generate the next master key version of a zone.")
  static final class CreateZone extends ZoneCeremony {
    @Override
    void run(NodeHsm hsm) throws Exception {
      int version = hsm.createZone(zone);
      OUT.println(zoneLine(zone, version, hsm.checkValue(zone, version)));
    }
  }

  /** Prints the newest master key version of a zone (0 if none). */
  @Command(name = "newest-version", description = "Print the newest master key version of a zone.")
  static final class NewestVersion extends ZoneCeremony {
    @Override
    void run(NodeHsm hsm) throws Exception {
      SortedSet<Integer> versions = hsm.zones().get(zone);
      OUT.println(versions == null || versions.isEmpty() ? 0 : versions.last());
    }
  }

  /** Lists the zones and master key versions the node's HSM holds, with check values. */
  @Command(name = "list", description = "List zones, master key versions and check values.")
  static final class ListZones extends NodeCeremony {
    @Override
    void run(NodeHsm hsm) throws Exception {
      for (var zone : hsm.zones().entrySet()) {
        for (int version : zone.getValue()) {
          OUT.println(zoneLine(zone.getKey(), version, hsm.checkValue(zone.getKey(), version)));
        }
      }
    }
  }
}
