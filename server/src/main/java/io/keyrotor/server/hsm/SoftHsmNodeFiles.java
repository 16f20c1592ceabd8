package io.keyrotor.server.hsm;

import io.keyrotor.storage.OwnerOnly;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Where one node of a local cluster keeps its own SoftHSM2 token, under its node directory:
 *
 * <pre>
 * nI/hsm/softhsm2.conf    this node's SOFTHSM2_CONF (scripts start the node and its ceremonies with it)
 * nI/hsm/tokens/          its token directory (one token, labelled keyrotor-nI)
 * nI/hsm/user-pin         the user PIN (0600); node.properties names it: hsm.pkcs11.pin-file=hsm/user-pin
 * nI/hsm/so-pin           the security officer PIN (0600), for ceremonies only
 * </pre>
 *
 * Also rewrites a node's properties file to use that token. PINs are only ever in the 0600 files.
 */
public record SoftHsmNodeFiles(Path nodeDirectory) {
  /** The node config's pin-file value, relative to the node directory. */
  public static final String USER_PIN_RELATIVE = "hsm/user-pin";

  public SoftHsmNodeFiles {
    nodeDirectory = nodeDirectory.toAbsolutePath().normalize();
  }

  /** The token label of a node of a local cluster. */
  public static String tokenLabel(String nodeId) {
    return "keyrotor-" + nodeId;
  }

  public Path hsmDirectory() {
    return nodeDirectory.resolve("hsm");
  }

  public Path conf() {
    return hsmDirectory().resolve("softhsm2.conf");
  }

  public Path tokenDirectory() {
    return hsmDirectory().resolve("tokens");
  }

  public Path userPin() {
    return nodeDirectory.resolve(USER_PIN_RELATIVE);
  }

  public Path soPin() {
    return hsmDirectory().resolve("so-pin");
  }

  public Path properties() {
    return nodeDirectory.resolve("node.properties");
  }

  /** Writes {@code softhsm2.conf} and creates the token directory, if missing. */
  public void writeConf() throws IOException {
    // The token's objects are the node's own, whatever the umask.
    OwnerOnly.directory(tokenDirectory());
    if (!Files.exists(conf())) {
      Files.writeString(
          conf(),
          "# SoftHSM2 configuration of this node only (its SOFTHSM2_CONF)\n"
              + "directories.tokendir = "
              + tokenDirectory()
              + "\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n",
          StandardCharsets.UTF_8);
    }
  }

  /** A new random PIN (32 hex characters). */
  public static char[] newPin() {
    return SecretFiles.newHexSecret(16);
  }

  /**
   * Rewrites the node's properties file so the node opens this token: {@code hsm.kind=pkcs11}, the
   * module, the token label and {@code hsm.pkcs11.pin-file=hsm/user-pin}. Other HSM settings
   * (software key file, another PIN source) are dropped; everything else is kept as it was.
   */
  public void useToken(Path module, String tokenLabel) throws IOException {
    Map<String, String> settings =
        Map.of(
            "hsm.kind",
            "pkcs11",
            "hsm.pkcs11.module",
            module.toString(),
            "hsm.pkcs11.token-label",
            tokenLabel,
            "hsm.pkcs11.pin-file",
            USER_PIN_RELATIVE);
    List<String> out = new ArrayList<>();
    boolean written = false;
    for (String line : Files.readAllLines(properties(), StandardCharsets.UTF_8)) {
      String key = line.strip();
      int equals = key.indexOf('=');
      key = equals < 0 ? key : key.substring(0, equals).strip();
      boolean hsmSetting =
          key.equals("hsm.kind")
              || key.startsWith("hsm.software.")
              || key.startsWith("hsm.pkcs11.");
      if (!hsmSetting) {
        out.add(line);
        continue;
      }
      if (!written) {
        for (String name :
            List.of(
                "hsm.kind", "hsm.pkcs11.module", "hsm.pkcs11.token-label", "hsm.pkcs11.pin-file")) {
          out.add(name + "=" + settings.get(name));
        }
        written = true;
      }
    }
    if (!written) {
      for (String name :
          List.of(
              "hsm.kind", "hsm.pkcs11.module", "hsm.pkcs11.token-label", "hsm.pkcs11.pin-file")) {
        out.add(name + "=" + settings.get(name));
      }
    }
    Path temporary = properties().resolveSibling("node.properties.tmp");
    Files.write(temporary, out, StandardCharsets.UTF_8);
    Files.move(
        temporary,
        properties(),
        StandardCopyOption.REPLACE_EXISTING,
        StandardCopyOption.ATOMIC_MOVE);
  }
}
