package io.keyrotor.server.hsm;

import io.keyrotor.hsm.HsmConfig;
import io.keyrotor.server.config.ConfigException;
import io.keyrotor.server.config.NodeConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The node a ceremony works on, by its directory (holding {@code node.properties}). */
final class NodeDirectory {
  @Option(
      names = "--node-dir",
      required = true,
      description = "The node's directory (holding node.properties).")
  Path nodeDirectory;

  SoftHsmNodeFiles files() {
    return new SoftHsmNodeFiles(nodeDirectory);
  }

  NodeConfig config() throws ConfigException {
    return NodeConfig.load(files().properties());
  }

  /** The node's HSM with its secret read; refuses a SoftHSM2 conf mismatch. */
  NodeHsm hsm() throws ConfigException {
    HsmConfig hsm = config().hsm().toHsmConfig();
    if (hsm instanceof HsmConfig.Pkcs11) {
      requireOwnSoftHsmConf(files());
    }
    return new NodeHsm(hsm);
  }

  /** Refuses to work on a node's SoftHSM2 token through another SOFTHSM2_CONF. */
  static void requireOwnSoftHsmConf(SoftHsmNodeFiles files) throws ConfigException {
    if (!Files.exists(files.conf())) {
      return; // not a local SoftHSM2 token: the module finds its token its own way
    }
    String conf = System.getenv("SOFTHSM2_CONF");
    if (conf == null || !Path.of(conf).toAbsolutePath().normalize().equals(files.conf())) {
      throw new ConfigException(
          "this node's SoftHSM2 token is configured by "
              + files.conf()
              + " but SOFTHSM2_CONF is "
              + (conf == null ? "unset" : conf)
              + "; run the ceremony through scripts/hsm, or export SOFTHSM2_CONF="
              + files.conf());
    }
  }
}
