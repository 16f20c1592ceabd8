package io.keyrotor.server;

import io.keyrotor.consensus.FatalErrorHandler;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.software.SoftwareKeyStoreFile;
import io.keyrotor.server.config.ConfigException;
import io.keyrotor.server.config.NodeConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import org.slf4j.bridge.SLF4JBridgeHandler;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The keyrotor node process: {@code keyrotor-server run --config FILE} and HSM set-up tools. */
@Command(
    name = "keyrotor-server",
    mixinStandardHelpOptions = true,
    description = "A keyrotor node: replicated key management and rotation.",
    subcommands = {
      Main.Run.class,
      Main.SoftwareHsm.class,
      Main.LocalCluster.class,
      Main.LocalClusterAdd.class,
      RestoreCommand.class,
      io.keyrotor.server.hsm.HsmCommand.class
    })
public final class Main implements Callable<Integer> {

  public static void main(String[] args) {
    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install();
    int code =
        new CommandLine(new Main())
            .setExecutionExceptionHandler(
                (e, cmd, parsed) -> {
                  cmd.getErr().println("error: " + e.getMessage());
                  return 1;
                })
            .execute(args);
    if (code != 0) {
      System.exit(code);
    }
  }

  @Override
  public Integer call() {
    CommandLine.usage(this, System.out);
    return 0;
  }

  /** Runs a node until it is stopped. */
  @Command(name = "run", description = "Run a node from its configuration file.")
  static final class Run implements Callable<Integer> {
    @Option(names = "--config", required = true, description = "The node's properties file.")
    Path config;

    @Override
    public Integer call() throws Exception {
      NodeConfig nodeConfig;
      try {
        nodeConfig = NodeConfig.load(config);
      } catch (ConfigException e) {
        System.err.println("error: " + e.getMessage());
        return 2;
      }
      KeyrotorNode node;
      try {
        node = KeyrotorNode.start(nodeConfig, Clock.systemUTC(), FatalErrorHandler.haltProcess());
      } catch (KeyrotorNode.StartupException e) {
        System.err.println(
            "error: node " + nodeConfig.nodeId() + " refused to start: " + e.getMessage());
        return 3;
      }
      Runtime.getRuntime().addShutdownHook(new Thread(node::close, "keyrotor-shutdown"));
      node.awaitTermination();
      return 0;
    }
  }

  /** Manages the software HSM's key file (development clusters). */
  @Command(
      name = "software-hsm",
      description = "Manage a software HSM key file (zone master keys under a passphrase).",
      subcommands = {
        SoftwareHsm.Init.class,
        SoftwareHsm.CreateZone.class,
        SoftwareHsm.CopyZone.class,
        SoftwareHsm.ListZones.class
      })
  static final class SoftwareHsm {

    abstract static class KeyFileOptions {
      @Option(names = "--key-file", required = true, description = "The key file.")
      Path keyFile;

      @Option(
          names = "--passphrase-file",
          required = true,
          description = "A file holding the key file's passphrase.")
      Path passphraseFile;

      char[] passphrase() throws IOException {
        return readSecret(passphraseFile);
      }
    }

    @Command(name = "init", description = "Create an empty key file.")
    static final class Init extends KeyFileOptions implements Callable<Integer> {
      @Override
      public Integer call() throws IOException, HsmException {
        char[] secret = passphrase();
        try {
          SoftwareKeyStoreFile.create(keyFile, secret);
        } finally {
          Arrays.fill(secret, '\0');
        }
        System.out.println("created " + keyFile);
        return 0;
      }
    }

    @Command(name = "create-zone", description = "Generate a new master key version for a zone.")
    static final class CreateZone extends KeyFileOptions implements Callable<Integer> {
      @Parameters(index = "0", description = "The zone.")
      String zone;

      @Override
      public Integer call() throws IOException, HsmException {
        char[] secret = passphrase();
        try {
          if (!Files.exists(keyFile)) {
            SoftwareKeyStoreFile.create(keyFile, secret);
          }
          int version = SoftwareKeyStoreFile.createZone(keyFile, secret, zone);
          System.out.println(
              "zone "
                  + zone
                  + " master key version "
                  + version
                  + " kcv="
                  + SoftwareKeyStoreFile.keyCheckValue(keyFile, secret, zone, version));
        } finally {
          Arrays.fill(secret, '\0');
        }
        return 0;
      }
    }

    @Command(name = "copy-zone", description = "Copy a zone's master keys to another key file.")
    static final class CopyZone extends KeyFileOptions implements Callable<Integer> {
      @Parameters(index = "0", description = "The zone.")
      String zone;

      @Option(names = "--to-key-file", required = true, description = "The target key file.")
      Path target;

      @Option(
          names = "--to-passphrase-file",
          required = true,
          description = "A file holding the target's passphrase.")
      Path targetPassphraseFile;

      @Override
      public Integer call() throws IOException, HsmException {
        char[] from = passphrase();
        char[] to = readSecret(targetPassphraseFile);
        try {
          if (!Files.exists(target)) {
            SoftwareKeyStoreFile.create(target, to);
          }
          List<Integer> copied = SoftwareKeyStoreFile.copyZone(keyFile, from, target, to, zone);
          System.out.println("zone " + zone + ": copied versions " + copied + " to " + target);
        } finally {
          Arrays.fill(from, '\0');
          Arrays.fill(to, '\0');
        }
        return 0;
      }
    }

    @Command(name = "list", description = "List zones and master key versions.")
    static final class ListZones extends KeyFileOptions implements Callable<Integer> {
      @Override
      public Integer call() throws IOException, HsmException {
        char[] secret = passphrase();
        try {
          SoftwareKeyStoreFile.listZones(keyFile, secret)
              .forEach((zone, versions) -> System.out.println(zone + " " + versions));
        } finally {
          Arrays.fill(secret, '\0');
        }
        return 0;
      }
    }
  }

  /** Writes the configuration of a local development cluster (used by scripts/cluster up). */
  @Command(
      name = "local-cluster",
      description =
          "Write node configurations, software HSM key files and a development CA with node and"
              + " caller certificates (DIR/tls) for a local cluster.")
  static final class LocalCluster implements Callable<Integer> {
    @Option(names = "--dir", required = true, description = "Where the cluster lives.")
    Path dir;

    @Option(names = "--nodes", defaultValue = "3", description = "Number of nodes (1-9).")
    int nodes;

    @Option(
        names = "--regions",
        defaultValue = "local",
        split = ",",
        description = "Regions, assigned to nodes round-robin.")
    List<String> regions;

    @Option(
        names = "--base-port",
        defaultValue = "7100",
        description = "API ports are base+1..base+N, Raft ports base+101..base+100+N.")
    int basePort;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "The address to bind.")
    String host;

    @Option(
        names = "--hsm",
        defaultValue = "software",
        description =
            "software (key files written here) or softhsm2 (pkcs11 configs; the tokens are made"
                + " by the key ceremonies, scripts/hsm).")
    String hsm;

    @Option(
        names = "--cluster-name",
        defaultValue = "keyrotor-local",
        description = "The cluster's name (its Raft group's identity).")
    String clusterName;

    @Option(
        names = "--without-zone-master-keys",
        description =
            "Write empty software key files: the zone master keys come through the ceremonies"
                + " (a restore shares the old cluster's).")
    boolean withoutZoneMasterKeys;

    @Override
    public Integer call() throws IOException, HsmException {
      var layout =
          new io.keyrotor.server.local.LocalClusterLayout(dir, nodes, regions, basePort, host, hsm)
              .withClusterName(clusterName);
      if (withoutZoneMasterKeys) {
        layout.withoutZoneMasterKeys();
      }
      layout.write();
      System.out.println("servers=" + Files.readString(dir.resolve("servers")).strip());
      return 0;
    }
  }

  /** Writes a node that joins a running local cluster (used by scripts/cluster add). */
  @Command(
      name = "local-cluster-add",
      description =
          "Write a node that joins the local cluster in DIR: its certificate, an empty HSM and its"
              + " configuration with cluster.join=true. Its zones' master keys come by the key"
              + " ceremony (scripts/hsm share-zone).")
  static final class LocalClusterAdd implements Callable<Integer> {
    @Option(names = "--dir", required = true, description = "Where the cluster lives.")
    Path dir;

    @Option(names = "--node", required = true, description = "The new node: n1 to n9.")
    String node;

    @Option(names = "--region", required = true, description = "The new node's region.")
    String region;

    @Override
    public Integer call() throws IOException, HsmException {
      var joiner = new io.keyrotor.server.local.LocalClusterJoiner(dir, node, region);
      var addresses = joiner.write();
      System.out.println(
          "api="
              + addresses.api()
              + " raft="
              + addresses.raft()
              + " http="
              + addresses.http()
              + " zones="
              + String.join(",", joiner.zones()));
      return 0;
    }
  }

  static char[] readSecret(Path file) throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    try {
      return new String(bytes, StandardCharsets.UTF_8).strip().toCharArray();
    } finally {
      Arrays.fill(bytes, (byte) 0);
    }
  }
}
