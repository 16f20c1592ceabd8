package io.keyrotor.server.hsm;

import static io.keyrotor.server.hsm.HsmCommand.OUT;
import static io.keyrotor.server.hsm.HsmCommand.zoneLine;

import io.keyrotor.hsm.HsmConfig;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.SecretSources;
import io.keyrotor.hsm.ZoneMasterKeyId;
import io.keyrotor.hsm.pkcs11.Pkcs11Ceremonies;
import io.keyrotor.hsm.pkcs11.ShareBundle;
import io.keyrotor.hsm.pkcs11.ShareRequest;
import io.keyrotor.hsm.software.SoftwareKeyStoreFile;
import io.keyrotor.server.config.NodeConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Sharing a zone's master key from one node's HSM to another's: between PKCS#11 tokens in three
 * steps (the receiver's transfer key pair, the sender's RSA-OAEP wrap, the receiver's unwrap), so
 * the key never leaves a token in the clear; between software HSM key files by copying.
 */
final class ShareCommands {
  private ShareCommands() {}

  /** Share step 1, on the receiving node: a transfer key pair; writes the request text. */
  @Command(
      name = "share-prepare",
      description = "Share step 1 (receiver): make a transfer key pair, write the share request.")
  static final class SharePrepare extends ZoneCeremony {
    @Option(names = "--version", required = true, description = "The master key version.")
    int version;

    @Option(names = "--out", required = true, description = "Where to write the request.")
    Path out;

    @Override
    void run(NodeHsm hsm) throws Exception {
      HsmConfig.Pkcs11 token = hsm.pkcs11();
      ShareRequest request =
          Pkcs11Ceremonies.prepareShare(NodeHsm.locator(token), token.userPin(), zone, version);
      Files.writeString(out, request.encode(), StandardCharsets.UTF_8);
      OUT.println("zone=" + zone + " version=" + version + " request=" + out);
    }
  }

  /** Share step 2, on the sending node: the SO trusts the request's key, the ZMK is wrapped. */
  @Command(
      name = "share-export",
      description =
          "Share step 2 (sender): trust the receiver's key (SO), wrap the master key with"
              + " RSA-OAEP, write the bundle.")
  static final class ShareExport extends NodeCeremony {
    @Option(names = "--request", required = true, description = "The receiver's request.")
    Path request;

    @Option(names = "--out", required = true, description = "Where to write the bundle.")
    Path out;

    @Option(
        names = "--so-pin-file",
        description = "The security officer PIN file (default NODE_DIR/hsm/so-pin).")
    Path soPinFile;

    @Override
    void run(NodeHsm hsm) throws Exception {
      HsmConfig.Pkcs11 token = hsm.pkcs11();
      char[] soPin = SecretSources.fromFile(soPinFile == null ? node.files().soPin() : soPinFile);
      try {
        ShareRequest decoded =
            ShareRequest.decode(Files.readString(request, StandardCharsets.UTF_8));
        ShareBundle bundle =
            Pkcs11Ceremonies.exportShare(NodeHsm.locator(token), soPin, token.userPin(), decoded);
        Files.writeString(out, bundle.encode(), StandardCharsets.UTF_8);
        ZoneMasterKeyId shared = bundle.zoneMasterKey();
        OUT.println(
            zoneLine(shared.zone(), shared.version(), bundle.senderCheckValue())
                + " bundle="
                + out);
      } finally {
        Arrays.fill(soPin, '\0');
      }
    }
  }

  /** Share step 3, on the receiving node: unwraps the ZMK as a non-extractable token key. */
  @Command(
      name = "share-import",
      description = "Share step 3 (receiver): unwrap the master key into the token, check its KCV.")
  static final class ShareImport extends NodeCeremony {
    @Option(names = "--bundle", required = true, description = "The sender's bundle.")
    Path bundle;

    @Override
    void run(NodeHsm hsm) throws Exception {
      HsmConfig.Pkcs11 token = hsm.pkcs11();
      ShareBundle decoded = ShareBundle.decode(Files.readString(bundle, StandardCharsets.UTF_8));
      String checkValue =
          Pkcs11Ceremonies.importShare(NodeHsm.locator(token), token.userPin(), decoded);
      OUT.println(
          zoneLine(decoded.zoneMasterKey().zone(), decoded.zoneMasterKey().version(), checkValue));
    }
  }

  /** Copies a zone between two software HSM key files (development clusters only). */
  @Command(
      name = "share-copy",
      description = "Software HSM only: copy a zone's master keys to another node's key file.")
  static final class ShareCopy extends ZoneCeremony {
    @Option(names = "--to-node-dir", required = true, description = "The receiving node.")
    Path toNodeDirectory;

    @Override
    void run(NodeHsm from) throws Exception {
      try (NodeHsm to =
          new NodeHsm(
              NodeConfig.load(toNodeDirectory.resolve("node.properties")).hsm().toHsmConfig())) {
        HsmConfig.Software source = from.softwareOrNull();
        HsmConfig.Software target = to.softwareOrNull();
        if (source == null || target == null) {
          throw new HsmException(
              HsmException.Reason.REFUSED,
              "share-copy is for software HSM key files; PKCS#11 tokens share with"
                  + " share-prepare, share-export and share-import");
        }
        if (!Files.exists(target.keyFile())) {
          SoftwareKeyStoreFile.create(target.keyFile(), target.passphrase());
        }
        List<Integer> copied =
            SoftwareKeyStoreFile.copyZone(
                source.keyFile(), source.passphrase(), target.keyFile(), target.passphrase(), zone);
        int newest = copied.stream().mapToInt(Integer::intValue).max().orElse(0);
        OUT.println(
            "zone="
                + zone
                + " versions="
                + copied
                + " kcv="
                + (newest == 0 ? "" : to.checkValue(zone, newest)));
      }
    }
  }
}
