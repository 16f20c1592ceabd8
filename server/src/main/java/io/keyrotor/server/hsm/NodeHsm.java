package io.keyrotor.server.hsm;

import io.keyrotor.hsm.HsmConfig;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.pkcs11.Pkcs11Ceremonies;
import io.keyrotor.hsm.pkcs11.TokenLocator;
import io.keyrotor.hsm.software.SoftwareKeyStoreFile;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.SortedMap;
import java.util.SortedSet;

/**
 * A node's HSM as the key ceremonies reach it, with its secret read (a PKCS#11 token's user PIN or
 * the software key file's passphrase): the ceremonies both kinds have, each done the kind's way,
 * and the secret zeroed on {@link #close()}.
 */
final class NodeHsm implements AutoCloseable {
  private final HsmConfig config;

  NodeHsm(HsmConfig config) {
    this.config = config;
  }

  /** The node's PKCS#11 token; refuses a node with the software HSM. */
  HsmConfig.Pkcs11 pkcs11() throws HsmException {
    if (config instanceof HsmConfig.Pkcs11 pkcs11) {
      return pkcs11;
    }
    throw new HsmException(
        HsmException.Reason.REFUSED,
        "this node uses the software HSM; share its zones with share-copy (scripts/hsm does)");
  }

  /** The node's software HSM key file, or null for a PKCS#11 token. */
  HsmConfig.Software softwareOrNull() {
    return config instanceof HsmConfig.Software software ? software : null;
  }

  static TokenLocator locator(HsmConfig.Pkcs11 pkcs11) {
    return new TokenLocator(pkcs11.modulePath(), pkcs11.tokenLabel());
  }

  /** Generates the next master key version of {@code zone} (a missing key file is created). */
  int createZone(String zone) throws HsmException {
    if (config instanceof HsmConfig.Pkcs11 pkcs11) {
      return Pkcs11Ceremonies.createZone(locator(pkcs11), pkcs11.userPin(), zone);
    }
    HsmConfig.Software software = (HsmConfig.Software) config;
    if (!Files.exists(software.keyFile())) {
      SoftwareKeyStoreFile.create(software.keyFile(), software.passphrase());
    }
    return SoftwareKeyStoreFile.createZone(software.keyFile(), software.passphrase(), zone);
  }

  /** The zones and master key versions the HSM holds. */
  SortedMap<String, SortedSet<Integer>> zones() throws HsmException {
    if (config instanceof HsmConfig.Pkcs11 pkcs11) {
      return Pkcs11Ceremonies.listZones(locator(pkcs11), pkcs11.userPin());
    }
    HsmConfig.Software software = (HsmConfig.Software) config;
    return SoftwareKeyStoreFile.listZones(software.keyFile(), software.passphrase());
  }

  /** The key check value of a master key version. */
  String checkValue(String zone, int version) throws HsmException {
    if (config instanceof HsmConfig.Pkcs11 pkcs11) {
      return Pkcs11Ceremonies.keyCheckValue(locator(pkcs11), pkcs11.userPin(), zone, version);
    }
    HsmConfig.Software software = (HsmConfig.Software) config;
    return SoftwareKeyStoreFile.keyCheckValue(
        software.keyFile(), software.passphrase(), zone, version);
  }

  /** Zeroes the PIN or passphrase. */
  @Override
  public void close() {
    if (config instanceof HsmConfig.Pkcs11 pkcs11) {
      Arrays.fill(pkcs11.userPin(), '\0');
    } else if (config instanceof HsmConfig.Software software) {
      Arrays.fill(software.passphrase(), '\0');
    }
  }
}
