package io.keyrotor.server.hsm;

import io.keyrotor.hsm.pkcs11.Pkcs11Ceremonies;
import java.io.PrintStream;
import picocli.CommandLine.Command;

/**
 * Key ceremonies as commands, one node per process ({@code keyrotor-server hsm ...}; {@code
 * scripts/hsm} runs them with each node's own {@code SOFTHSM2_CONF}). Every command names the node
 * by its directory (holding {@code node.properties}); PINs and passphrases are read from the files
 * the node's configuration names, never from the command line. Output lines are {@code key=value}
 * pairs so scripts can read them; errors go to stderr with a non-zero exit.
 *
 * <p>Nodes with {@code hsm.kind=pkcs11} use {@link Pkcs11Ceremonies}; nodes with the software HSM
 * (development clusters) use their key file, so the same scripts work for both. The commands come
 * in three families: a node's own HSM ({@link NodeHsmCommands}: token, zones, check values),
 * sharing a zone's master key between nodes ({@link ShareCommands}), and calls to a running cluster
 * ({@link ClusterCommands}: zone master key rotation and retirement).
 */
@Command(
    name = "hsm",
    description = "Key ceremonies on a node's HSM (run by scripts/hsm).",
    subcommands = {
      NodeHsmCommands.InitToken.class,
      NodeHsmCommands.CreateZone.class,
      NodeHsmCommands.NewestVersion.class,
      ShareCommands.SharePrepare.class,
      ShareCommands.ShareExport.class,
      ShareCommands.ShareImport.class,
      ShareCommands.ShareCopy.class,
      NodeHsmCommands.ListZones.class,
      ClusterCommands.RotateMaster.class,
      ClusterCommands.RetireVersion.class
    })
public final class HsmCommand {
  /** Where every command writes its {@code key=value} lines. */
  static final PrintStream OUT = System.out;

  /** The line that names a master key version: {@code zone=Z version=V kcv=CHECK_VALUE}. */
  static String zoneLine(String zone, int version, String checkValue) {
    return "zone=" + zone + " version=" + version + " kcv=" + checkValue;
  }
}
