package io.keyrotor.server.config;

import java.nio.file.Path;
import java.util.Properties;

/** The smallest valid node configuration, for tests that add the settings they are about. */
final class MinimalNodeConfig {
  private MinimalNodeConfig() {}

  /** One node, n1, with a software HSM whose passphrase comes from the environment. */
  static Properties base() {
    Properties p = new Properties();
    p.setProperty("node.id", "n1");
    p.setProperty("data.dir", "data");
    p.setProperty("peer.n1.raft", "127.0.0.1:7201");
    p.setProperty("peer.n1.api", "127.0.0.1:7101");
    p.setProperty("hsm.software.key-file", "zmk.p12");
    p.setProperty("hsm.software.passphrase-env", "KEYROTOR_TEST_PASSPHRASE");
    return p;
  }

  /** {@code p} as the file {@code /etc/keyrotor/test.properties}. */
  static NodeConfig parse(Properties p) throws ConfigException {
    return NodeConfig.parse(p, Path.of("/etc/keyrotor"), "test.properties");
  }
}
