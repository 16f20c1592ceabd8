package io.keyrotor.server.config;

import java.nio.file.Path;
import java.util.Properties;

/** The smallest valid node configuration, for tests that add the settings they are about. */
final class MinimalNodeConfig {
  private MinimalNodeConfig() {}

  /**
   * One node, n1, with a software HSM whose passphrase comes from the environment and mutual TLS
   * (the files are not read when the configuration is).
   */
  static Properties base() {
    Properties p = new Properties();
    p.setProperty("node.id", "n1");
    p.setProperty("data.dir", "data");
    p.setProperty("peer.n1.raft", "127.0.0.1:7201");
    p.setProperty("peer.n1.api", "127.0.0.1:7101");
    p.setProperty("hsm.software.key-file", "zmk.p12");
    p.setProperty("hsm.software.passphrase-env", "KEYROTOR_TEST_PASSPHRASE");
    p.setProperty("tls.certificate", "tls/n1.pem");
    p.setProperty("tls.private-key", "tls/n1-key.pem");
    p.setProperty("tls.ca", "tls/ca.pem");
    return p;
  }

  /** {@code p} as the file {@code /etc/keyrotor/test.properties}. */
  static NodeConfig parse(Properties p) throws ConfigException {
    return NodeConfig.parse(p, Path.of("/etc/keyrotor"), "test.properties");
  }
}
