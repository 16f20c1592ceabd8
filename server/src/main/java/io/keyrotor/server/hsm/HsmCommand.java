package io.keyrotor.server.hsm;

import com.google.rpc.ErrorInfo;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.keyrotor.api.v1.AdminServiceGrpc;
import io.keyrotor.api.v1.GetNodeStatusRequest;
import io.keyrotor.api.v1.NodeStatus;
import io.keyrotor.api.v1.RetireZoneMasterKeyVersionRequest;
import io.keyrotor.api.v1.RotateZoneMasterKeyRequest;
import io.keyrotor.api.v1.ZoneMasterKeyRotation;
import io.keyrotor.api.v1.ZoneMasterKeyRotationState;
import io.keyrotor.hsm.HsmConfig;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.pkcs11.Pkcs11Ceremonies;
import io.keyrotor.hsm.pkcs11.ShareBundle;
import io.keyrotor.hsm.pkcs11.ShareRequest;
import io.keyrotor.hsm.pkcs11.TokenLocator;
import io.keyrotor.hsm.software.SoftwareKeyStoreFile;
import io.keyrotor.server.config.ConfigException;
import io.keyrotor.server.config.NodeConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Key ceremonies as commands, one node per process ({@code keyrotor-server hsm ...}; {@code
 * scripts/hsm} runs them with each node's own {@code SOFTHSM2_CONF}). Every command names the node
 * by its directory (holding {@code node.properties}); PINs and passphrases are read from the files
 * the node's configuration names, never from the command line. Output lines are {@code key=value}
 * pairs so scripts can read them; errors go to stderr with a non-zero exit.
 *
 * <p>Nodes with {@code hsm.kind=pkcs11} use {@link Pkcs11Ceremonies}; nodes with the software HSM
 * (development clusters) use their key file, so the same scripts work for both.
 */
@Command(
    name = "hsm",
    description = "Key ceremonies on a node's HSM (run by scripts/hsm).",
    subcommands = {
      HsmCommand.InitToken.class,
      HsmCommand.CreateZone.class,
      HsmCommand.NewestVersion.class,
      HsmCommand.SharePrepare.class,
      HsmCommand.ShareExport.class,
      HsmCommand.ShareImport.class,
      HsmCommand.ShareCopy.class,
      HsmCommand.ListZones.class,
      HsmCommand.RotateMaster.class,
      HsmCommand.RetireVersion.class
    })
public final class HsmCommand {
  private static final PrintStream OUT = System.out;

  /** A node, by its directory. */
  public abstract static class NodeOptions {
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

    /** The node's HSM settings with its secret read; refuses a SoftHSM2 conf mismatch. */
    HsmConfig hsm() throws ConfigException {
      NodeConfig config = config();
      HsmConfig hsm = config.hsm().toHsmConfig();
      if (hsm instanceof HsmConfig.Pkcs11) {
        requireOwnSoftHsmConf(files());
      }
      return hsm;
    }
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

  private static TokenLocator locator(HsmConfig.Pkcs11 pkcs11) {
    return new TokenLocator(pkcs11.modulePath(), pkcs11.tokenLabel());
  }

  private static void zero(HsmConfig config) {
    if (config instanceof HsmConfig.Pkcs11 pkcs11) {
      Arrays.fill(pkcs11.userPin(), '\0');
    } else if (config instanceof HsmConfig.Software software) {
      Arrays.fill(software.passphrase(), '\0');
    }
  }

  private static char[] readSecret(Path file) throws HsmException {
    return io.keyrotor.hsm.SecretSources.fromFile(file);
  }

  /** Creates and initialises the node's own SoftHSM2 token and points its config at it. */
  @Command(
      name = "init-token",
      description =
          "Create the node's own SoftHSM2 token: PINs generated into 0600 files under"
              + " NODE_DIR/hsm, node.properties switched to hsm.kind=pkcs11 with that token.")
  public static final class InitToken extends NodeOptions implements Callable<Integer> {
    @Option(names = "--label", description = "Token label (default keyrotor-<node id>).")
    String label;

    @Option(
        names = "--module",
        description = "The SoftHSM2 module (default " + "/usr/lib/softhsm/libsofthsm2.so).")
    Path module = TokenLocator.SOFTHSM2_MODULE;

    @Override
    public Integer call() throws Exception {
      SoftHsmNodeFiles files = files();
      NodeConfig config = config();
      String tokenLabel = label == null ? SoftHsmNodeFiles.tokenLabel(config.nodeId()) : label;
      files.writeConf();
      requireOwnSoftHsmConf(files);
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
        SoftHsmNodeFiles.writeSecret(files.soPin(), soPin);
        SoftHsmNodeFiles.writeSecret(files.userPin(), userPin);
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
  public static final class CreateZone extends NodeOptions implements Callable<Integer> {
    @Parameters(index = "0", description = "The zone.")
    String zone;

    @Override
    public Integer call() throws Exception {
      HsmConfig hsm = hsm();
      try {
        int version;
        String checkValue;
        if (hsm instanceof HsmConfig.Pkcs11 pkcs11) {
          version = Pkcs11Ceremonies.createZone(locator(pkcs11), pkcs11.userPin(), zone);
          checkValue =
              Pkcs11Ceremonies.keyCheckValue(locator(pkcs11), pkcs11.userPin(), zone, version);
        } else {
          HsmConfig.Software software = (HsmConfig.Software) hsm;
          if (!Files.exists(software.keyFile())) {
            SoftwareKeyStoreFile.create(software.keyFile(), software.passphrase());
          }
          version =
              SoftwareKeyStoreFile.createZone(software.keyFile(), software.passphrase(), zone);
          checkValue =
              SoftwareKeyStoreFile.keyCheckValue(
                  software.keyFile(), software.passphrase(), zone, version);
        }
        OUT.println("zone=" + zone + " version=" + version + " kcv=" + checkValue);
      } finally {
        zero(hsm);
      }
      return 0;
    }
  }

  /** Prints the newest master key version of a zone (0 if none). */
  @Command(name = "newest-version", description = "Print the newest master key version of a zone.")
  public static final class NewestVersion extends NodeOptions implements Callable<Integer> {
    @Parameters(index = "0", description = "The zone.")
    String zone;

    @Override
    public Integer call() throws Exception {
      SortedSet<Integer> versions = zones(hsm()).get(zone);
      OUT.println(versions == null || versions.isEmpty() ? 0 : versions.last());
      return 0;
    }
  }

  /** Share step 1, on the receiving node: a transfer key pair; writes the request text. */
  @Command(
      name = "share-prepare",
      description = "Share step 1 (receiver): make a transfer key pair, write the share request.")
  public static final class SharePrepare extends NodeOptions implements Callable<Integer> {
    @Parameters(index = "0", description = "The zone.")
    String zone;

    @Option(names = "--version", required = true, description = "The master key version.")
    int version;

    @Option(names = "--out", required = true, description = "Where to write the request.")
    Path out;

    @Override
    public Integer call() throws Exception {
      HsmConfig.Pkcs11 hsm = pkcs11(hsm());
      try {
        ShareRequest request =
            Pkcs11Ceremonies.prepareShare(locator(hsm), hsm.userPin(), zone, version);
        Files.writeString(out, request.encode(), StandardCharsets.UTF_8);
        OUT.println("zone=" + zone + " version=" + version + " request=" + out);
      } finally {
        zero(hsm);
      }
      return 0;
    }
  }

  /** Share step 2, on the sending node: the SO trusts the request's key, the ZMK is wrapped. */
  @Command(
      name = "share-export",
      description =
          "Share step 2 (sender): trust the receiver's key (SO), wrap the master key with"
              + " RSA-OAEP, write the bundle.")
  public static final class ShareExport extends NodeOptions implements Callable<Integer> {
    @Option(names = "--request", required = true, description = "The receiver's request.")
    Path request;

    @Option(names = "--out", required = true, description = "Where to write the bundle.")
    Path out;

    @Option(
        names = "--so-pin-file",
        description = "The security officer PIN file (default NODE_DIR/hsm/so-pin).")
    Path soPinFile;

    @Override
    public Integer call() throws Exception {
      HsmConfig.Pkcs11 hsm = pkcs11(hsm());
      char[] soPin = readSecret(soPinFile == null ? files().soPin() : soPinFile);
      try {
        ShareRequest decoded =
            ShareRequest.decode(Files.readString(request, StandardCharsets.UTF_8));
        ShareBundle bundle =
            Pkcs11Ceremonies.exportShare(locator(hsm), soPin, hsm.userPin(), decoded);
        Files.writeString(out, bundle.encode(), StandardCharsets.UTF_8);
        OUT.println(
            "zone="
                + bundle.zoneMasterKey().zone()
                + " version="
                + bundle.zoneMasterKey().version()
                + " kcv="
                + bundle.senderCheckValue()
                + " bundle="
                + out);
      } finally {
        Arrays.fill(soPin, '\0');
        zero(hsm);
      }
      return 0;
    }
  }

  /** Share step 3, on the receiving node: unwraps the ZMK as a non-extractable token key. */
  @Command(
      name = "share-import",
      description = "Share step 3 (receiver): unwrap the master key into the token, check its KCV.")
  public static final class ShareImport extends NodeOptions implements Callable<Integer> {
    @Option(names = "--bundle", required = true, description = "The sender's bundle.")
    Path bundle;

    @Override
    public Integer call() throws Exception {
      HsmConfig.Pkcs11 hsm = pkcs11(hsm());
      try {
        ShareBundle decoded = ShareBundle.decode(Files.readString(bundle, StandardCharsets.UTF_8));
        String checkValue = Pkcs11Ceremonies.importShare(locator(hsm), hsm.userPin(), decoded);
        OUT.println(
            "zone="
                + decoded.zoneMasterKey().zone()
                + " version="
                + decoded.zoneMasterKey().version()
                + " kcv="
                + checkValue);
      } finally {
        zero(hsm);
      }
      return 0;
    }
  }

  /** Copies a zone between two software HSM key files (development clusters only). */
  @Command(
      name = "share-copy",
      description = "Software HSM only: copy a zone's master keys to another node's key file.")
  public static final class ShareCopy extends NodeOptions implements Callable<Integer> {
    @Parameters(index = "0", description = "The zone.")
    String zone;

    @Option(names = "--to-node-dir", required = true, description = "The receiving node.")
    Path toNodeDirectory;

    @Override
    public Integer call() throws Exception {
      HsmConfig from = hsm();
      HsmConfig to =
          NodeConfig.load(toNodeDirectory.resolve("node.properties")).hsm().toHsmConfig();
      try {
        if (!(from instanceof HsmConfig.Software source)
            || !(to instanceof HsmConfig.Software target)) {
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
                + (newest == 0
                    ? ""
                    : SoftwareKeyStoreFile.keyCheckValue(
                        target.keyFile(), target.passphrase(), zone, newest)));
      } finally {
        zero(from);
        zero(to);
      }
      return 0;
    }
  }

  /** Lists the zones and master key versions the node's HSM holds, with check values. */
  @Command(name = "list", description = "List zones, master key versions and check values.")
  public static final class ListZones extends NodeOptions implements Callable<Integer> {
    @Override
    public Integer call() throws Exception {
      HsmConfig hsm = hsm();
      try {
        for (var zone : zones(hsm).entrySet()) {
          for (int version : zone.getValue()) {
            OUT.println(
                "zone="
                    + zone.getKey()
                    + " version="
                    + version
                    + " kcv="
                    + checkValue(hsm, zone.getKey(), version));
          }
        }
      } finally {
        zero(hsm);
      }
      return 0;
    }
  }

  private static HsmConfig.Pkcs11 pkcs11(HsmConfig config) throws HsmException {
    if (config instanceof HsmConfig.Pkcs11 pkcs11) {
      return pkcs11;
    }
    zero(config);
    throw new HsmException(
        HsmException.Reason.REFUSED,
        "this node uses the software HSM; share its zones with share-copy (scripts/hsm does)");
  }

  private static SortedMap<String, SortedSet<Integer>> zones(HsmConfig hsm) throws HsmException {
    if (hsm instanceof HsmConfig.Pkcs11 pkcs11) {
      return Pkcs11Ceremonies.listZones(locator(pkcs11), pkcs11.userPin());
    }
    HsmConfig.Software software = (HsmConfig.Software) hsm;
    return SoftwareKeyStoreFile.listZones(software.keyFile(), software.passphrase());
  }

  private static String checkValue(HsmConfig hsm, String zone, int version) throws HsmException {
    if (hsm instanceof HsmConfig.Pkcs11 pkcs11) {
      return Pkcs11Ceremonies.keyCheckValue(locator(pkcs11), pkcs11.userPin(), zone, version);
    }
    HsmConfig.Software software = (HsmConfig.Software) hsm;
    return SoftwareKeyStoreFile.keyCheckValue(
        software.keyFile(), software.passphrase(), zone, version);
  }

  /** Options for the commands that call a running cluster. */
  public abstract static class ClusterOptions {
    @Option(
        names = "--servers",
        required = true,
        split = ",",
        description = "API addresses (host:port) of the cluster's nodes.")
    List<String> servers;

    /** Calls {@code call} on each server in turn until one answers other than UNAVAILABLE. */
    <T> T firstAnswer(RemoteCall<T> call) {
      StatusRuntimeException last = null;
      for (String server : servers) {
        ManagedChannel channel = ManagedChannelBuilder.forTarget(server).usePlaintext().build();
        try {
          return call.call(
              AdminServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS),
              server);
        } catch (StatusRuntimeException e) {
          if (e.getStatus().getCode() != Status.Code.UNAVAILABLE
              && e.getStatus().getCode() != Status.Code.DEADLINE_EXCEEDED) {
            throw new IllegalStateException(describe(e), e);
          }
          last = e;
        } finally {
          channel.shutdownNow();
        }
      }
      throw new IllegalStateException(
          "no server answered (" + servers + ")" + (last == null ? "" : ": " + describe(last)));
    }
  }

  /** One call to a node's AdminService. */
  interface RemoteCall<T> {
    T call(AdminServiceGrpc.AdminServiceBlockingStub admin, String server);
  }

  static String describe(StatusRuntimeException e) {
    com.google.rpc.Status status = StatusProto.fromThrowable(e);
    String reason = "";
    if (status != null) {
      for (com.google.protobuf.Any detail : status.getDetailsList()) {
        if (detail.is(ErrorInfo.class)) {
          try {
            reason = detail.unpack(ErrorInfo.class).getReason() + ": ";
          } catch (com.google.protobuf.InvalidProtocolBufferException ignored) {
            // no reason then
          }
        }
      }
    }
    return e.getStatus().getCode() + " " + reason + e.getStatus().getDescription();
  }

  static String line(ZoneMasterKeyRotation rotation) {
    return "zone="
        + rotation.getZone()
        + " from="
        + rotation.getFromVersion()
        + " target="
        + rotation.getTargetVersion()
        + " state="
        + rotation.getState().name().substring("ZONE_MASTER_KEY_ROTATION_STATE_".length())
        + " rewrapped="
        + rotation.getRewrapped()
        + " remaining="
        + rotation.getRemaining()
        + " batches="
        + rotation.getBatches()
        + (rotation.getRetiredVersionsCount() == 0
            ? ""
            : " retired=" + rotation.getRetiredVersionsList())
        + (rotation.getLastError().isEmpty()
            ? ""
            : " last_error=\"" + rotation.getLastError() + "\"");
  }

  /** Calls RotateZoneMasterKey, and with --wait follows the rotation until it completes. */
  @Command(
      name = "rotate-master",
      description =
          "Start moving every KEK of a zone to a newer master key version (which every node of"
              + " the zone must already hold), and optionally wait until it completes.")
  public static final class RotateMaster extends ClusterOptions implements Callable<Integer> {
    @Parameters(index = "0", description = "The zone.")
    String zone;

    @Option(
        names = "--version",
        defaultValue = "0",
        description = "The target version (0: the newest held by the node that answers).")
    int version;

    @Option(names = "--wait", description = "Wait until every KEK is under the new version.")
    boolean await;

    @Option(
        names = "--timeout",
        defaultValue = "600s",
        description = "How long --wait waits (e.g. 90s, 10m).")
    String timeout;

    @Override
    public Integer call() throws Exception {
      String requestId = UUID.randomUUID().toString();
      ZoneMasterKeyRotation started =
          firstAnswer(
              (admin, server) ->
                  admin
                      .rotateZoneMasterKey(
                          RotateZoneMasterKeyRequest.newBuilder()
                              .setZone(zone)
                              .setTargetVersion(version)
                              .setRequestId(requestId)
                              .build())
                      .getRotation());
      OUT.println(line(started));
      if (!await) {
        return 0;
      }
      long deadline = System.nanoTime() + NodeConfig.parseDuration(timeout).toNanos();
      ZoneMasterKeyRotation last = started;
      while (last.getState() != ZoneMasterKeyRotationState.ZONE_MASTER_KEY_ROTATION_STATE_COMPLETED
          || last.getTargetVersion() != started.getTargetVersion()) {
        if (System.nanoTime() > deadline) {
          System.err.println("error: the rotation did not complete within " + timeout);
          return 4;
        }
        Thread.sleep(Duration.ofMillis(500).toMillis());
        ZoneMasterKeyRotation now =
            firstAnswer(
                (admin, server) -> {
                  NodeStatus status =
                      admin.getNodeStatus(GetNodeStatusRequest.getDefaultInstance());
                  return status.getZoneMasterKeyRotationsList().stream()
                      .filter(r -> r.getZone().equals(zone))
                      .findFirst()
                      .orElseThrow(
                          () ->
                              new IllegalStateException(
                                  server + " knows no rotation of zone " + zone));
                });
        if (now.getRewrapped() != last.getRewrapped() || now.getState() != last.getState()) {
          OUT.println(line(now));
        }
        last = now;
      }
      return 0;
    }
  }

  /** Calls RetireZoneMasterKeyVersion. */
  @Command(
      name = "retire-version",
      description = "Retire an old master key version of a zone (refused while a KEK uses it).")
  public static final class RetireVersion extends ClusterOptions implements Callable<Integer> {
    @Parameters(index = "0", description = "The zone.")
    String zone;

    @Parameters(index = "1", description = "The version to retire.")
    int version;

    @Override
    public Integer call() {
      String requestId = UUID.randomUUID().toString();
      ZoneMasterKeyRotation rotation =
          firstAnswer(
              (admin, server) ->
                  admin
                      .retireZoneMasterKeyVersion(
                          RetireZoneMasterKeyVersionRequest.newBuilder()
                              .setZone(zone)
                              .setVersion(version)
                              .setRequestId(requestId)
                              .build())
                      .getRotation());
      OUT.println(line(rotation));
      return 0;
    }
  }
}
